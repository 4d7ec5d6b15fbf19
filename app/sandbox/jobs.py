"""Background jobs (update_many, merge) and their job statuses.

A job is queued by the request that creates it and runs at the first
observation after it is due: `tick()` runs at the start of every request and
of the Python read helpers. With the default delay of 0 a job is `completed`
by the time anyone can look, yet the creating request still answers `queued`,
as Zendesk does. `paused` keeps jobs queued (to reach the 30-job limit in
tests); `delay_seconds` (on the injectable clock) makes them visibly pending.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from app.sandbox.context import Context, Json, iso, synchronized
from app.sandbox.errors import ZendeskError, not_found

MAX_INFLIGHT_JOBS = 30


@dataclass
class JobOutcome:
    results: list[Json]
    status: str = "completed"  # or "failed"
    message: str | None = None


@dataclass
class _Job:
    id: str
    job_type: str
    total: int
    work: Callable[[], JobOutcome]
    ready_at: float
    status: str = "queued"
    progress: int = 0
    results: list[Json] | None = None
    message: str | None = field(default=None)


class JobQueue:
    def __init__(
        self, ctx: Context, clock: Callable[[], float], max_inflight: int = MAX_INFLIGHT_JOBS
    ) -> None:
        self.ctx = ctx
        self.clock = clock
        self.max_inflight = max_inflight
        self.paused = False
        self.delay_seconds = 0.0
        self._jobs: dict[str, _Job] = {}
        self._queue: deque[_Job] = deque()  # queued jobs, oldest first

    @property
    def lock(self) -> threading.RLock:
        return self.ctx.lock

    @synchronized
    def clear(self) -> None:
        self._jobs = {}
        self._queue.clear()

    @synchronized
    def submit(self, job_type: str, total: int, work: Callable[[], JobOutcome]) -> Json:
        """Queue a job; 429 TooManyJobs when `max_inflight` are queued or working."""
        self.tick()
        inflight = self.inflight()
        if len(inflight) >= self.max_inflight:
            raise ZendeskError(
                429,
                {
                    "error": "TooManyJobs",
                    "description": f"Number of allowed queued or running jobs ({self.max_inflight})"
                    " exceeded",
                    "current_job_ids": inflight,
                },
                {"zendesk-ratelimit-inflight-jobs": self._header(len(inflight))},
            )
        number = self.ctx.ids.next("job")
        # Real job ids: "V3-" and 32 hex digits (e.g. V3-5868cd149f195c95c54fa9db56c1501f).
        job_id = "V3-" + hashlib.sha1(f"sandbox-job-{number}".encode()).hexdigest()[:32]
        job = _Job(job_id, job_type, total, work, self.clock() + self.delay_seconds)
        self._jobs[job_id] = job
        self._queue.append(job)
        return self._render(job)

    @synchronized
    def tick(self) -> None:
        """Run the queued jobs that are due, oldest first."""
        if self.paused or not self._queue:
            return
        now = self.clock()
        while self._queue and self._queue[0].ready_at <= now:
            self._run(self._queue.popleft())

    @synchronized
    def get(self, job_id: str) -> Json:
        job = self._jobs.get(job_id)
        if job is None:
            raise not_found()
        return self._render(job)

    @synchronized
    def show_many(self, ids: list[str]) -> list[Json]:
        return [self._render(self._jobs[i]) for i in ids if i in self._jobs]

    @synchronized
    def inflight(self) -> list[str]:
        """Ids of the queued jobs (a job runs whole within one tick: none stays working)."""
        return [job.id for job in self._queue]

    @synchronized
    def inflight_header(self) -> str:
        return self._header(len(self.inflight()))

    def _header(self, inflight: int) -> str:
        remaining = max(0, self.max_inflight - inflight)
        return f"total={self.max_inflight}; remaining={remaining}; resets=60"

    def _run(self, job: _Job) -> None:
        job.status = "working"
        outcome = job.work()
        job.results = outcome.results
        job.progress = job.total
        job.status = outcome.status
        stamp = iso(self.ctx.stamps.now())
        job.message = outcome.message or (
            f"Completed at {stamp}" if outcome.status == "completed" else f"Failed at {stamp}"
        )

    def _render(self, job: _Job) -> Json:
        return {
            "id": job.id,
            "url": self.ctx.api_url(f"job_statuses/{job.id}"),
            "job_type": job.job_type,
            "total": job.total,
            "progress": job.progress,
            "status": job.status,
            "message": job.message,
            "results": None if job.results is None else [dict(r) for r in job.results],
        }
