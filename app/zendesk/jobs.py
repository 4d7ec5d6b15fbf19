"""Background jobs: batch ticket updates, merges, job-status polling.

- `update_many` sends the batch format (`{"tickets": [{"id": ..}, ..]}`) in
  chunks of at most 100 and returns one `JobResult` per ticket, in input order:
  a ticket Zendesk failed, or did not mention, comes back with `success=False`.
  A job that fails, vanishes or never finishes raises (`ZendeskJobError`).
- An account has at most 30 queued or running jobs. The client holds a
  semaphore (`JobSettings.max_in_flight`) from submission to completion,
  counts submissions against the `inflight-jobs` window of the rate budget
  (header `zendesk-ratelimit-inflight-jobs`), and on `TooManyJobs` waits and
  resubmits (the retry policy).
https://developer.zendesk.com/api-reference/ticketing/ticket-management/job_statuses/
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.zendesk._base import INFLIGHT_JOBS, TICKETS_UPDATE, ZendeskEndpoints, as_dict, chunked
from app.zendesk.errors import (
    Conflict,
    JobFailed,
    JobTimedOut,
    JobVanished,
    MalformedResponse,
    NotFound,
    ZendeskJobError,
    ZendeskPermanentError,
)
from app.zendesk.models import JobResult
from app.zendesk.ratelimit import Priority

BATCH_MAX = 100
_FAILED = frozenset({"failed", "killed"})


@dataclass(frozen=True, slots=True)
class JobSettings:
    max_in_flight: int = 30  # Zendesk's account-wide cap; lower it when workers share
    chunk_size: int = BATCH_MAX
    poll_initial: float = 1.0
    poll_max: float = 10.0
    poll_timeout: float = 900.0  # seconds of polling before JobTimedOut


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _item_result(ticket_id: int, item: dict[str, Any], job_id: str) -> JobResult:
    error = item.get("error") or item.get("errors")
    status = item.get("status")
    success = item.get("success")
    if not isinstance(success, bool):
        success = error is None and str(status or "").lower() not in {"failed", "error"}
    details = item.get("details")
    return JobResult(
        ticket_id=ticket_id,
        success=success,
        job_id=job_id,
        status=None if status is None else str(status),
        error=None if error is None else str(error),
        details=None if details is None else str(details),
        raw=item,
    )


def job_results(job: dict[str, Any], ticket_ids: Sequence[int]) -> list[JobResult]:
    """One result per ticket of a completed batch job, in input order."""
    job_id = str(job.get("id", ""))
    items = job.get("results")
    by_id: dict[int, dict[str, Any]] = {}
    by_index: dict[int, dict[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if (ident := _int_or_none(item.get("id"))) is not None:
            by_id[ident] = item
        elif (index := _int_or_none(item.get("index"))) is not None:
            by_index[index] = item
    results = []
    for index, ticket_id in enumerate(ticket_ids):
        item = by_id.get(ticket_id) or by_index.get(index)
        if item is None:
            results.append(
                JobResult(
                    ticket_id=ticket_id,
                    success=False,
                    job_id=job_id,
                    error="MissingResult",
                    details=f"job {job.get('status')} without a result for ticket {ticket_id}",
                )
            )
        else:
            results.append(_item_result(ticket_id, item, job_id))
    return results


def merge_result(job: dict[str, Any], target_id: int) -> JobResult:
    """A completed merge job: failed if any result reports an error."""
    job_id = str(job.get("id", ""))
    items = job.get("results")
    for item in items if isinstance(items, list) else [items] if isinstance(items, dict) else []:
        if isinstance(item, dict):
            result = _item_result(target_id, item, job_id)
            if not result.success:
                return result
    message = job.get("message")
    return JobResult(
        ticket_id=target_id,
        success=True,
        job_id=job_id,
        status=str(job.get("status")),
        details=None if message is None else str(message),
        raw=job,
    )


def _prepare(update: dict[str, Any]) -> dict[str, Any]:
    if "id" not in update:
        raise ValueError("every update of update_many needs the ticket 'id'")
    if update.get("updated_stamp"):
        return {**update, "safe_update": True}  # batch: both fields or an error
    return dict(update)


class JobsMixin(ZendeskEndpoints):
    _jobs: JobSettings
    _job_slots: asyncio.Semaphore

    async def get_job_status(
        self, job_id: str, *, priority: Priority = Priority.LIVE
    ) -> dict[str, Any]:
        body = await self._request(
            "GET", f"/job_statuses/{job_id}", priority=priority, expect={"job_status": dict}
        )
        return as_dict(body["job_status"])

    async def update_many(
        self, updates: Iterable[dict[str, Any]], *, priority: Priority = Priority.REPLAY
    ) -> list[JobResult]:
        """Batch-update tickets (each update a ticket object with its `id`, and
        `updated_stamp` for a safe update). One `JobResult` per update, in order.

        Chunks Zendesk refused outright (4xx) come back as failed results with
        the error; a failed, vanished or timed-out job raises `ZendeskJobError`
        whose `completed` holds the results of the other chunks. Transient
        errors that outlast the retries propagate.
        """
        prepared = [_prepare(update) for update in updates]
        size = max(1, min(self._jobs.chunk_size, BATCH_MAX))
        outcomes = await asyncio.gather(
            *(self._update_chunk(chunk, priority) for chunk in chunked(prepared, size)),
            return_exceptions=True,
        )
        results: list[JobResult] = []
        errors: list[BaseException] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                errors.append(outcome)
            else:
                results.extend(outcome)
        if errors:
            if isinstance(errors[0], ZendeskJobError):
                errors[0].completed = results
            raise errors[0]
        return results

    async def merge(
        self,
        target_id: int,
        source_ids: Iterable[int],
        *,
        target_comment: str | None = None,
        source_comment: str | None = None,
        priority: Priority = Priority.LIVE,
    ) -> JobResult:
        """Merge `source_ids` into `target_id` (sources get closed) and wait for the job."""
        payload: dict[str, Any] = {"ids": [int(i) for i in source_ids]}
        if target_comment is not None:
            payload["target_comment"] = target_comment
        if source_comment is not None:
            payload["source_comment"] = source_comment
        async with self._job_slots:
            job = await self._submit_job(
                "POST", f"/tickets/{int(target_id)}/merge", payload, priority
            )
            job = await self._wait_for_job(job, priority)
        return merge_result(job, int(target_id))

    async def _update_chunk(
        self, chunk: list[dict[str, Any]], priority: Priority
    ) -> list[JobResult]:
        ids = [int(update["id"]) for update in chunk]
        async with self._job_slots:
            try:
                job = await self._submit_job(
                    "PUT", "/tickets/update_many", {"tickets": chunk}, priority, (TICKETS_UPDATE,)
                )
            except (ZendeskPermanentError, Conflict) as exc:  # refused: nothing was queued
                return [
                    JobResult(
                        ticket_id=i,
                        success=False,
                        job_id="",
                        status="NotQueued",
                        error=type(exc).__name__,
                        details=str(exc),
                    )
                    for i in ids
                ]
            job = await self._wait_for_job(job, priority)
        return job_results(job, ids)

    async def _submit_job(
        self,
        method: str,
        path: str,
        payload: dict[str, Any],
        priority: Priority,
        limits: Sequence[str] = (),
    ) -> dict[str, Any]:
        body = await self._request(
            method,
            path,
            json=payload,
            priority=priority,
            limits=(*limits, INFLIGHT_JOBS),
            idempotent=False,
            expect={"job_status": dict},
        )
        job = as_dict(body["job_status"])
        if not job.get("id"):
            raise MalformedResponse(200, body, None, method, path)
        return job

    async def _wait_for_job(self, job: dict[str, Any], priority: Priority) -> dict[str, Any]:
        job_id = str(job["id"])
        delay, waited = self._jobs.poll_initial, 0.0
        while True:
            status = str(job.get("status", "")).lower()
            if status == "completed":
                return job
            if status in _FAILED:
                raise JobFailed(str(job.get("message") or status), job_id=job_id, job=job)
            if waited >= self._jobs.poll_timeout:
                raise JobTimedOut(f"still {status!r} after {waited:.0f}s", job_id=job_id, job=job)
            await self._sleep(delay)
            waited += delay
            delay = min(delay * 2, self._jobs.poll_max)
            try:
                job = await self.get_job_status(job_id, priority=priority)
            except NotFound as exc:
                raise JobVanished("job status not found", job_id=job_id, job=job) from exc
