"""The guarded merge as a service: look the tickets up, ask the guard, merge
through Zendesk, log and count; the router only maps the outcome to HTTP.

Guard keys (`merges:guarded:{source}`) tell merge repair that a merge was made
on purpose; they are set just before Zendesk's merge and cleared on every path
where no merge happened (a failed job, a Zendesk error, a crash of the call).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.merges.guard import Blocked as BlockedTicket
from app.merges.guard import MergeCheck, check_merge
from app.merges.log import merge_log
from app.merges.metrics import merge_metrics
from app.runtime.container import Services
from app.zendesk import JobResult, ZendeskError, ZendeskJobError

GUARDED_KEY = "merges:guarded:{source_id}"
log = logging.getLogger("app.merges")


@dataclass(frozen=True)
class MergeRequest:
    target_id: int
    source_ids: Sequence[int]
    by: str
    target_comment: str | None = None
    source_comment: str | None = None


@dataclass(frozen=True)
class Missing:
    """Some tickets do not exist: nothing was done."""

    ticket_ids: list[int]


@dataclass(frozen=True)
class Blocked:
    """The guard refused: a Dispute / Mediation ticket is involved."""

    reason: str
    tickets: list[BlockedTicket]
    instead: dict[str, Any]
    log_id: int | None


@dataclass(frozen=True)
class JobFailed:
    """Zendesk's merge job failed; the guard keys were cleared."""

    message: str
    job_id: str | None


@dataclass(frozen=True)
class Merged:
    """Zendesk ran the merge job; `result.success` says whether it merged."""

    result: JobResult
    log_id: int | None
    extra: dict[str, Any] = field(default_factory=dict)


MergeOutcome = Missing | Blocked | JobFailed | Merged


def job_json(result: JobResult) -> dict[str, Any]:
    return {
        "job_id": result.job_id,
        "success": result.success,
        "status": result.status,
        "error": result.error,
        "details": result.details,
    }


async def guarded_merge(services: Services, request: MergeRequest) -> MergeOutcome:
    ids = [request.target_id, *request.source_ids]
    found = {int(t["id"]): t for t in await services.zendesk.show_many(ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        return Missing(missing)
    catalog = await services.catalog.get()
    sources = [found[i] for i in request.source_ids]
    check = check_merge(found[request.target_id], sources, services.policy, catalog)
    if not check.allowed:
        return await _blocked(services, request, check)
    return await _merge(services, request)


def _common(request: MergeRequest) -> dict[str, Any]:
    return {
        "target_id": request.target_id,
        "source_ids": list(request.source_ids),
        "by": request.by,
    }


async def _blocked(services: Services, request: MergeRequest, check: MergeCheck) -> Blocked:
    entry = await merge_log(services.store, services.clock).append(
        "blocked",
        reason=check.reason(),
        tickets=[b.as_json() for b in check.blocked],
        instead=check.instead["path"],
        **_common(request),
    )
    merge_metrics(services.metrics).merges.labels("blocked").inc()
    return Blocked(
        check.reason(), list(check.blocked), check.instead, entry["id"] if entry else None
    )


async def _merge(services: Services, request: MergeRequest) -> JobFailed | Merged:
    journal = merge_log(services.store, services.clock)
    counters = merge_metrics(services.metrics)
    await _set_guards(services, request, str(request.target_id))
    try:
        result = await services.zendesk.merge(
            request.target_id,
            list(request.source_ids),
            target_comment=request.target_comment,
            source_comment=request.source_comment,
        )
    except ZendeskJobError as exc:
        await _set_guards(services, request, "")
        await journal.append("failed", reason=str(exc), job_id=exc.job_id, **_common(request))
        counters.merges.labels("failed").inc()
        return JobFailed(str(exc), exc.job_id)
    except ZendeskError as exc:  # any other answer from Zendesk: no merge was made
        await _set_guards(services, request, "")
        await journal.append("failed", reason=str(exc), **_common(request))
        counters.merges.labels("failed").inc()
        log.warning("merge %s <- %s failed: %s", request.target_id, request.source_ids, exc)
        raise
    except BaseException:  # cancelled or crashed mid-call: the guard must not outlive it
        await asyncio.shield(_set_guards(services, request, ""))
        raise
    kind = "performed" if result.success else "failed"
    if not result.success:
        await _set_guards(services, request, "")
    entry = await journal.append(kind, job=job_json(result), **_common(request))
    counters.merges.labels(kind).inc()
    return Merged(result, entry["id"] if entry else None)


async def _set_guards(services: Services, request: MergeRequest, value: str) -> None:
    for source_id in request.source_ids:
        await services.store.set_kv(GUARDED_KEY.format(source_id=source_id), value)
