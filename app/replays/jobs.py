"""Replays of many tickets: background tasks that queue store events at REPLAY priority.

A replay is either a time range, read from Zendesk's cursor-based incremental
export, or a list of ticket ids. Each ticket becomes one store event with the
dedupe key `replay:<replay_id>:<ticket_id>` (a ticket seen twice by one replay
is queued once) and `Priority.REPLAY`, so live webhooks still go first; the
worker then decides and applies as for any event (a ticket whose decision is
already applied gets no write).

Progress is a JSON document in the store's kv (`replay:<id>`), saved after
every export page with the export cursor, so it survives restarts: a replay
stopped by a clean shutdown is `interrupted` and resumed from its cursor when
the service starts again (or by `POST /admin/replays/{id}/resume`). The tasks
belong to the app: `ReplayRegistry` lives on `app.state.replays`, created and
cancelled by `replays_lifespan`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.ids import MAX_ID
from app.runtime.container import Services
from app.store import NewEvent, Priority
from app.zendesk import Priority as ZendeskPriority
from app.zendesk.changes import change_source, changed_tickets

log = logging.getLogger("app.api.admin.replays")

KEY_PREFIX = "replay:"
INDEX_KEY = "replay:index"
INDEX_MAX = 1000  # ids listed by GET /admin/replays; older progress stays readable by id
MAX_TICKET_IDS = 10_000
SAVE_EVERY = 100  # ticket-id replays save progress every this many tickets
RESUME_SCAN = 100  # newest replays looked at for resumption at start-up
SKIPPED_STATUSES = frozenset({"closed", "deleted"})  # nothing to decide on these
SHUTDOWN_GRACE_SECONDS = 10.0


class ReplayStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # by an operator
    INTERRUPTED = "interrupted"  # by a shutdown; resumed from the cursor at the next start


RESUMABLE = frozenset({ReplayStatus.FAILED, ReplayStatus.CANCELLED, ReplayStatus.INTERRUPTED})


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the export counts in Unix seconds


def utc(value: datetime) -> datetime:
    """Naive datetimes are read as UTC; ValueError when UTC cannot represent the time."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range") from None


class ReplayRequest(BaseModel):
    """A time range (`start`, optional `end`) or a list of ticket ids, not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"start": "2024-06-01T00:00:00Z", "end": "2024-06-02T00:00:00Z"},
                {"start": "2024-06-01T00:00:00Z", "end": None},
                {"ticket_ids": [5100001, 5100002]},
            ]
        },
    )

    start: datetime | None = Field(
        default=None, description="Tickets updated at or after this time (ISO 8601; naive = UTC)"
    )
    end: datetime | None = Field(
        default=None,
        description="...and at or before this time; null = the time of the request",
    )
    ticket_ids: list[Annotated[int, Field(gt=0, le=MAX_ID)]] | None = Field(
        default=None, min_length=1, max_length=MAX_TICKET_IDS, description="These tickets"
    )

    @model_validator(mode="after")
    def _one_mode(self) -> ReplayRequest:
        if (self.start is None) == (self.ticket_ids is None):
            raise ValueError("give either start (and optionally end) or ticket_ids")
        if self.ticket_ids is not None and self.end is not None:
            raise ValueError("end goes with start, not with ticket_ids")
        if self.start is not None:
            self.start = utc(self.start)
        if self.end is not None:
            self.end = utc(self.end)
        if self.start is not None and self.start < EPOCH:
            raise ValueError("start must be after 1970-01-01T00:00:00Z")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ReplayProgress(BaseModel):
    """The persisted state of one replay (`GET /admin/replays/{id}`)."""

    id: str
    status: ReplayStatus
    mode: Literal["time_range", "ticket_ids"]
    start: datetime | None = None
    end: datetime | None = None
    ticket_ids: list[int] | None = None
    requested_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    pages: int = Field(default=0, description="Export pages read")
    seen: int = Field(default=0, description="Tickets read (in range) or given")
    queued: int = Field(default=0, description="Events queued at REPLAY priority")
    duplicates: int = Field(default=0, description="Tickets this replay had queued already")
    skipped: int = Field(default=0, description="Closed or deleted tickets, not queued")
    cursor: str | None = Field(default=None, description="Export cursor after the last page")
    source: Literal["export", "search"] | None = Field(
        default=None,
        description="Time ranges: the incremental export (admin) or the Search API (agent)",
    )
    position: int = Field(default=0, description="Ticket-id replays: ids handled so far")
    error: str | None = None
    resumed: int = Field(default=0, description="Times resumed after a stop or failure")
    reached: datetime | None = Field(
        default=None, description="Time ranges: `updated_at` of the last ticket read"
    )

    def as_json(self, *, active: bool) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json")
        data["active"] = active
        if self.ticket_ids is not None:
            data["ticket_ids"] = len(self.ticket_ids)  # the count; the list can be long
        return data


def new_replay_id() -> str:
    """Random, with no date in it: the id ends up in every queued event's dedupe key,
    and keys never carry dates (when a replay started is in its progress)."""
    return uuid.uuid4().hex[:16]


_COUNTERS = ("pages", "seen", "queued", "duplicates", "skipped", "cursor", "position", "reached")


class ReplayJob:
    """Runs one replay to the end, saving progress after every page."""

    def __init__(self, services: Services, progress: ReplayProgress) -> None:
        self.services = services
        self.progress = progress
        self.stop_as = ReplayStatus.INTERRUPTED  # what a cancellation means
        self._checkpoint = progress.model_copy()  # as last saved: counts match the cursor

    def _rewind(self) -> None:
        """Back to the last saved page: a resume reads the unfinished page again, and its
        tickets queued before the stop then count as duplicates, not twice as seen."""
        for name in _COUNTERS:
            setattr(self.progress, name, getattr(self._checkpoint, name))

    async def _save(self) -> None:
        await save(self.services, self.progress)
        self._checkpoint = self.progress.model_copy()

    async def run(self) -> None:
        p = self.progress
        try:
            if p.mode == "ticket_ids":
                await self._queue_ids()
            else:
                await self._export()
            p.status, p.error = ReplayStatus.DONE, None
        except asyncio.CancelledError:
            self._rewind()
            p.status = self.stop_as
            p.error = f"{self.stop_as.value}; resume with POST /admin/replays/{p.id}/resume"
            await self._finish()
            raise
        except Exception as exc:  # recorded, resumable; never lost in a task
            log.exception("replay failed", extra={"replay_id": p.id})
            self._rewind()
            p.status, p.error = ReplayStatus.FAILED, f"{type(exc).__name__}: {exc}"[:1000]
        await self._finish()
        log.info(
            "replay %s",
            p.status.value,
            extra={"replay_id": p.id, "seen": p.seen, "queued": p.queued},
        )

    async def _finish(self) -> None:
        self.progress.finished_at = self.services.clock()
        with contextlib.suppress(Exception):  # the store may be gone at shutdown
            await save(self.services, self.progress)

    async def _queue_ids(self) -> None:
        p = self.progress
        ids = p.ticket_ids or []
        while p.position < len(ids):
            ticket_id = ids[p.position]
            p.seen += 1
            await self._queue(ticket_id)
            p.position += 1
            if p.position % SAVE_EVERY == 0:
                await self._save()

    async def _export(self) -> None:
        p = self.progress
        assert p.start is not None and p.end is not None
        if p.source is None:  # the export needs an admin; an agent searches
            p.source = await change_source(self.services.zendesk)
        pages = changed_tickets(
            self.services.zendesk,
            p.source,
            start_time=None if p.cursor else int(p.start.timestamp()),
            cursor=p.cursor,
            priority=ZendeskPriority.REPLAY,
        )
        async for page in pages:
            beyond_end = False
            for ticket in page.tickets:
                updated = _updated_at(ticket)
                if updated is not None and updated > p.end:
                    beyond_end = True  # the export is ordered by updated_at: nothing more
                    break
                if updated is not None and updated < p.start:
                    continue
                p.reached = updated or p.reached
                p.seen += 1
                if str(ticket.get("status", "")).lower() in SKIPPED_STATUSES:
                    p.skipped += 1
                    continue
                await self._queue(int(ticket["id"]))
            p.pages += 1
            p.cursor = page.after_cursor or p.cursor
            await self._save()
            if beyond_end:
                break

    async def _queue(self, ticket_id: int) -> None:
        p = self.progress
        result = await self.services.store.accept(
            NewEvent(
                dedupe_key=f"replay:{p.id}:{ticket_id}",
                source="replay",
                event_type="admin.replay",
                ticket_id=ticket_id,
                payload={"ticket_id": ticket_id, "replay_id": p.id, "requested_by": p.requested_by},
                received_at=self.services.clock(),
                priority=Priority.REPLAY,
            )
        )
        if result.duplicate:
            p.duplicates += 1
        else:
            p.queued += 1


def _updated_at(ticket: dict[str, Any]) -> datetime | None:
    raw = ticket.get("updated_at")
    if not isinstance(raw, str):
        return None
    try:
        return utc(datetime.fromisoformat(raw))
    except ValueError:
        return None


async def save(services: Services, progress: ReplayProgress) -> None:
    progress.updated_at = services.clock()
    await services.store.set_kv(KEY_PREFIX + progress.id, progress.model_dump_json())


async def load(services: Services, replay_id: str) -> ReplayProgress | None:
    raw = await services.store.get_kv(KEY_PREFIX + replay_id)
    if raw is None:
        return None
    try:
        return ReplayProgress.model_validate_json(raw)
    except ValidationError:
        log.warning("unreadable replay progress", extra={"replay_id": replay_id})
        return None


class ReplayRegistry:
    """The replays running in this process, and the index of all replays in kv."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._jobs: dict[str, tuple[ReplayJob, asyncio.Task[None]]] = {}

    def active(self, replay_id: str) -> bool:
        """A task of this process is still working on the replay."""
        entry = self._jobs.get(replay_id)
        return entry is not None and not entry[1].done()

    async def settle(self, replay_id: str) -> None:
        """Wait for a job that has reached its end but is still saving it."""
        entry = self._jobs.get(replay_id)
        if entry is not None and entry[0].progress.status != ReplayStatus.RUNNING:
            with contextlib.suppress(asyncio.CancelledError):
                await entry[1]

    async def create(self, request: ReplayRequest, requested_by: str) -> ReplayProgress:
        now = self.services.clock()
        progress = ReplayProgress(
            id=new_replay_id(),
            status=ReplayStatus.RUNNING,
            mode="ticket_ids" if request.ticket_ids is not None else "time_range",
            start=request.start,
            end=request.end or (now if request.start is not None else None),
            ticket_ids=list(request.ticket_ids) if request.ticket_ids is not None else None,
            requested_by=requested_by,
            created_at=now,
            updated_at=now,
        )
        await save(self.services, progress)
        await self._add_to_index(progress.id)
        self._start(progress)
        return progress

    async def resume(self, progress: ReplayProgress) -> ReplayProgress:
        progress.status, progress.error, progress.finished_at = ReplayStatus.RUNNING, None, None
        progress.resumed += 1
        await save(self.services, progress)
        self._start(progress)
        return progress

    async def cancel(self, replay_id: str) -> bool:
        entry = self._jobs.get(replay_id)
        if entry is None or entry[1].done():
            return False
        job, task = entry
        job.stop_as = ReplayStatus.CANCELLED
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True

    async def get(self, replay_id: str) -> ReplayProgress | None:
        entry = self._jobs.get(replay_id)
        if entry is not None and not entry[1].done():
            return entry[0].progress  # fresher than the last saved page
        return await load(self.services, replay_id)

    async def ids(self) -> list[str]:
        """All listed replay ids, newest first."""
        raw = await self.services.store.get_kv(INDEX_KEY)
        ids: list[str] = json.loads(raw) if raw else []
        return list(reversed(ids))

    async def resume_interrupted(self) -> list[str]:
        """At start-up: continue the replays a clean shutdown interrupted."""
        resumed: list[str] = []
        for replay_id in (await self.ids())[:RESUME_SCAN]:
            progress = await load(self.services, replay_id)
            if progress is not None and progress.status == ReplayStatus.INTERRUPTED:
                await self.resume(progress)
                resumed.append(replay_id)
        if resumed:
            log.info("resumed interrupted replays", extra={"replay_ids": resumed})
        return resumed

    async def shutdown(self, grace_seconds: float = SHUTDOWN_GRACE_SECONDS) -> None:
        tasks = [task for _, task in self._jobs.values()]
        for job, task in self._jobs.values():
            job.stop_as = ReplayStatus.INTERRUPTED
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)

    def _start(self, progress: ReplayProgress) -> None:
        job = ReplayJob(self.services, progress)
        task = asyncio.create_task(job.run(), name=f"replay-{progress.id}")
        self._jobs[progress.id] = (job, task)
        task.add_done_callback(lambda done: self._forget(progress.id, done))

    def _forget(self, replay_id: str, task: asyncio.Task[None]) -> None:
        entry = self._jobs.get(replay_id)
        if entry is not None and entry[1] is task:
            del self._jobs[replay_id]

    async def _add_to_index(self, replay_id: str) -> None:
        # One transaction: replays started by two processes at once both stay listed.
        def change(raw: str | None) -> str:
            ids: list[str] = json.loads(raw) if raw else []
            return json.dumps([*ids, replay_id][-INDEX_MAX:])

        await self.services.store.update_kv(INDEX_KEY, change)


def get_registry(request: Request) -> ReplayRegistry:
    registry: ReplayRegistry = request.app.state.replays
    return registry


@asynccontextmanager
async def replays_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's lifespan (services open): owns the replay tasks."""
    registry = ReplayRegistry(app.state.services)
    app.state.replays = registry
    try:
        await registry.resume_interrupted()
    except Exception as exc:  # the database may be down at start: webhooks still come first
        log.warning("interrupted replays not resumed: %s", exc)
    try:
        yield
    finally:
        await registry.shutdown()
