"""The console's pages (GET): what ops staff read. Thin: the admin API's store
calls and functions, rendered by templates."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from app.console import health, views
from app.console.auth import ConsoleRoute, Refusal, UserDep, html
from app.console.templating import STATIC
from app.core.ids import MAX_ID
from app.replays.control import progress_json
from app.replays.jobs import get_registry
from app.replays.policy_ops import policy_overview
from app.runtime.deps import ServicesDep
from app.store import EventStatus

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

PAGE = 50
IdQuery = Annotated[int | None, Query(gt=0, le=MAX_ID)]


@router.get("")
async def home(_: UserDep) -> RedirectResponse:
    return RedirectResponse("/console/inbox", status_code=303)


@router.get("/inbox")
async def inbox(
    request: Request,
    services: ServicesDep,
    _: UserDep,
    status: EventStatus | None = None,
    ticket_id: IdQuery = None,
    since: str = "",
    until: str = "",
    before_id: IdQuery = None,
    fragment: bool = False,
) -> HTMLResponse:
    try:
        start, end = views.parse_local(since), views.parse_local(until)
    except ValueError:
        raise Refusal(400, "bad_time", "since and until are YYYY-MM-DDTHH:MM times") from None
    events = await services.store.list_events(
        status=status,
        ticket_id=ticket_id,
        limit=PAGE,
        before_id=before_id,
        received_from=start,
        received_until=end,
    )
    context = {
        "events": events,
        "counts": views.count_labels(await services.store.counts(cap=views.COUNT_CAP)),
        "statuses": [s.value for s in EventStatus],
        "filters": {
            "status": status.value if status else "",
            "ticket_id": ticket_id or "",
            "since": since,
            "until": until,
        },
        "before_id": before_id,
        "next_before_id": events[-1].id if len(events) == PAGE else None,
    }
    return html(request, "inbox_rows.html" if fragment else "inbox.html", context)


@router.get("/tickets")
async def find_ticket(_: UserDep, ticket_id: IdQuery = None) -> RedirectResponse:
    if ticket_id is None:
        return RedirectResponse("/console/inbox", status_code=303)
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


async def ticket_context(services: Any, ticket_id: int) -> dict[str, Any]:
    records = await services.store.decisions_for_ticket(ticket_id, limit=20)
    decisions = [
        {
            "record": r,
            "reasons": views.reasons(r.decision),
            "notes": views.notes(r.decision),
            "deadlines": views.deadlines(r),
            "writes": views.write_lines(r.writes),
        }
        for r in records
    ]
    return {
        "ticket_id": ticket_id,
        "decisions": decisions,
        "events": await services.store.list_events(ticket_id=ticket_id, limit=20),
        "zendesk_url": views.zendesk_ticket_url(services.settings.zendesk_url, ticket_id),
    }


@router.get("/tickets/{ticket_id}")
async def ticket(
    request: Request, services: ServicesDep, _: UserDep, ticket_id: int
) -> HTMLResponse:
    if not 0 < ticket_id <= MAX_ID:
        raise Refusal(404, "not_found", "no such ticket id")
    return html(request, "ticket.html", await ticket_context(services, ticket_id))


@router.get("/dead-letters")
async def dead_letters(
    request: Request,
    services: ServicesDep,
    _: UserDep,
    ticket_id: IdQuery = None,
    before_id: IdQuery = None,
) -> HTMLResponse:
    events = await services.store.list_events(
        status=EventStatus.DEAD, ticket_id=ticket_id, limit=PAGE, before_id=before_id
    )
    context = {
        "events": events,
        "ticket_id": ticket_id or "",
        "next_before_id": events[-1].id if len(events) == PAGE else None,
    }
    return html(request, "dead_letters.html", context)


@router.get("/replays")
async def replays(
    request: Request, services: ServicesDep, _: UserDep, fragment: bool = False
) -> HTMLResponse:
    registry = get_registry(request)
    now = services.clock()
    rows: list[dict[str, Any]] = []
    for replay_id in (await registry.ids())[:20]:
        progress = await registry.get(replay_id)
        if progress is not None:
            data = progress_json(registry, progress)
            rows.append(data | {"percent": views.replay_percent(data, now)})
    context = {
        "replays": rows,
        "default_start": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    return html(request, "replays_rows.html" if fragment else "replays.html", context)


@router.get("/policy")
async def policy(request: Request, services: ServicesDep, _: UserDep) -> HTMLResponse:
    overview = await policy_overview(services, seconds=10.0)
    return html(request, "policy.html", {"policy": overview, "diff": None, "candidate": ""})


@router.get("/health")
async def health_page(
    request: Request, services: ServicesDep, _: UserDep, fragment: bool = False
) -> HTMLResponse:
    worker = getattr(request.app.state, "worker", None)
    context = {
        "budget": health.budget_rows(services),
        "counts": views.count_labels(await services.store.counts(cap=views.COUNT_CAP)),
        "oldest_pending": await services.store.oldest_pending_age(services.clock()),
        "workers": await health.workers_seen(services, getattr(worker, "owner", None)),
        "merges": await health.merge_counts(services),
    }
    return html(request, "health_rows.html" if fragment else "health.html", context)


@router.get("/audit")
async def audit_log(
    request: Request, services: ServicesDep, _: UserDep, before_id: IdQuery = None
) -> HTMLResponse:
    entries = await services.store.list_audit(limit=PAGE, before_id=before_id)
    next_before = entries[-1].id if len(entries) == PAGE else None
    return html(request, "audit.html", {"entries": entries, "next_before_id": next_before})


@router.get("/static/console.js")
async def script(_: UserDep) -> FileResponse:
    return FileResponse(STATIC / "console.js", media_type="text/javascript")
