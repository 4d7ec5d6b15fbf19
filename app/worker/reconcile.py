"""The reconciliation sweep: triage tickets whose webhook never came.

Zendesk delivers webhooks best effort: a circuit breaker pauses a webhook after
bursts of errors, and deliveries have stalled for hours. Every
`RECONCILE_INTERVAL_SECONDS` (default 300; 0 turns the sweep off) one process
reads the tickets updated since its durable cursor and queues, at BACKFILL
priority, each whose latest state has no decision yet:

- the source is the incremental export when the service user is an admin, the
  Search API otherwise (`app/zendesk/changes.py`); the calls go at BACKFILL
  priority, so the rate budget keeps its reserve for live work, and the queued
  events are claimed after live webhooks: the sweep never delays them;
- Zendesk cost: one list call per page of changed tickets, nothing per ticket.
  Whether a ticket needs work is answered by the store: its newest decision is
  at or after the ticket's `updated_at` (the service's own writes included), or
  an event for it is already pending;
- the cursor (`reconcile:cursor` in the store's kv) is saved after every page,
  so a restart goes on where the last sweep stopped; the first sweep starts one
  interval back. The Search API lags writes by minutes, so a search sweep
  starts `SEARCH_OVERLAP_SECONDS` before the previous one ended;
- with several processes on one database, a lease in kv (`reconcile:lease`)
  lets one of them sweep at a time.

The dedupe key `reconcile:<ticket>:<updated_at>` names one ticket state: two
sweeps never queue the same state twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from app.runtime.container import Services
from app.store import EventStatus, NewEvent, Priority
from app.worker.ticket_view import field_value
from app.zendesk import Priority as ZendeskPriority
from app.zendesk.changes import ChangeSource, change_source, changed_tickets
from app.zendesk.lookups import parse_search_cursor

log = logging.getLogger("app.worker.reconcile")

CURSOR_KEY = "reconcile:cursor"
LEASE_KEY = "reconcile:lease"
SEARCH_OVERLAP_SECONDS = 300
# The trigger `install-zendesk` makes notifies for tickets below solved whose Inquiry
# Type is set; the sweep queues the same tickets, no others.
SKIPPED_STATUSES = frozenset({"solved", "closed", "deleted"})
INQUIRY_FIELD_KEY = "inquiry"


class SweepCursor(BaseModel):
    """What survives restarts: where the next sweep starts, from which source."""

    source: ChangeSource
    cursor: str
    sweeps: int = 0


@dataclass(slots=True)
class SweepResult:
    sweep: int
    pages: int = 0
    seen: int = 0
    queued: int = 0
    skipped: int = 0  # closed, decided already, or already queued


def parse_updated(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return aware(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        return None


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Reconciler:
    """Runs the sweep every `interval` seconds until `stop()`."""

    def __init__(self, services: Services, *, interval: float) -> None:
        self.services = services
        self.interval = interval
        self.owner = uuid.uuid4().hex
        self.sweeps_done = 0
        self._stopping = asyncio.Event()

    async def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
                return
            except TimeoutError:
                pass
            try:
                if await self.take_lease():
                    result = await self.sweep()
                    log.info("reconciliation sweep", extra=asdict(result))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Zendesk or the store down: the next sweep tries again
                log.warning("reconciliation sweep failed: %s", exc)

    async def sweep(self) -> SweepResult:
        """One sweep from the saved cursor to now; saves the cursor after every page."""
        state = await self._load()
        started = self.services.clock()
        if state is None:
            source = await change_source(self.services.zendesk)
            start_time: int | None = int((started - timedelta(seconds=self.interval)).timestamp())
            state = SweepCursor(source=source, cursor="")
        else:
            start_time = None
        state.sweeps += 1
        self.services.metrics.reconcile_sweeps.inc()
        result = SweepResult(sweep=state.sweeps)
        pages = changed_tickets(
            self.services.zendesk,
            state.source,
            start_time=start_time,
            cursor=state.cursor or None,
            priority=ZendeskPriority.BACKFILL,
        )
        async for page in pages:
            result.pages += 1
            for ticket in page.tickets:
                await self._consider(ticket, result)
            if page.after_cursor:
                state.cursor = self._next_cursor(state.source, page.after_cursor, started)
            await self._save(state)
        self.sweeps_done += 1
        return result

    @staticmethod
    def _next_cursor(source: ChangeSource, after: str, started: datetime) -> str:
        if source == "export":
            return after
        start, page = parse_search_cursor(after)
        if page == 1:  # a fresh window: reach back over the search index's lag
            start = min(start, int(started.timestamp()) - SEARCH_OVERLAP_SECONDS)
        return f"{max(start, 0)}:{page}"

    async def _consider(self, ticket: dict[str, Any], result: SweepResult) -> None:
        result.seen += 1
        ticket_id, updated = ticket.get("id"), parse_updated(ticket.get("updated_at"))
        if (
            not isinstance(ticket_id, int)
            or updated is None
            or str(ticket.get("status", "")).lower() in SKIPPED_STATUSES
            or not await self._is_triage_ticket(ticket)
            or await self._decided_or_queued(ticket_id, updated)
        ):
            result.skipped += 1
            return
        accepted = await self.services.store.accept(
            NewEvent(
                dedupe_key=f"reconcile:{ticket_id}:{ticket['updated_at']}",
                source="reconcile",
                event_type="reconcile.sweep",
                ticket_id=ticket_id,
                payload={
                    "ticket_id": ticket_id,
                    "updated_at": ticket["updated_at"],
                    "sweep": result.sweep,
                },
                received_at=self.services.clock(),
                priority=Priority.BACKFILL,
            )
        )
        result.queued += 0 if accepted.duplicate else 1
        result.skipped += 1 if accepted.duplicate else 0
        if not accepted.duplicate:
            self.services.metrics.reconcile_queued.inc()

    async def _is_triage_ticket(self, ticket: dict[str, Any]) -> bool:
        """Inquiry Type set, as the trigger's condition; without the field, every ticket."""
        policy = self.services.policy
        if INQUIRY_FIELD_KEY not in policy.ticket_fields:
            return True
        catalog = await self.services.catalog.get()
        return field_value(ticket, INQUIRY_FIELD_KEY, policy, catalog) is not None

    async def _decided_or_queued(self, ticket_id: int, updated: datetime) -> bool:
        store = self.services.store
        newest = await store.decisions_for_ticket(ticket_id, limit=1)
        decided_at = newest[0].decided_at if newest else None
        if decided_at is not None and aware(decided_at) >= updated:
            return True
        for status in (EventStatus.PENDING, EventStatus.LEASED):
            if await store.list_events(status=status, ticket_id=ticket_id, limit=1):
                return True
        return False

    async def _load(self) -> SweepCursor | None:
        raw = await self.services.store.get_kv(CURSOR_KEY)
        if raw is None:
            return None
        try:
            return SweepCursor.model_validate_json(raw)
        except ValueError:
            log.warning("unreadable reconciliation cursor; starting one interval back")
            return None

    async def _save(self, state: SweepCursor) -> None:
        await self.services.store.set_kv(CURSOR_KEY, state.model_dump_json())

    async def take_lease(self) -> bool:
        """One sweeping process per database: hold the lease for two intervals."""
        now = self.services.clock()

        def change(raw: str | None) -> str:
            held = json.loads(raw) if raw else {}
            until = parse_updated(held.get("until"))
            if held.get("owner") in (None, self.owner) or until is None or until <= now:
                held = {"owner": self.owner, "until": (now + 2 * self._period()).isoformat()}
            return json.dumps(held)

        held = json.loads(await self.services.store.update_kv(LEASE_KEY, change))
        return bool(held.get("owner") == self.owner)

    def _period(self) -> timedelta:
        return timedelta(seconds=self.interval)


@asynccontextmanager
async def reconciling(
    services: Services, *, enabled: bool = True
) -> AsyncIterator[Reconciler | None]:
    """Run the sweep in the background while the block runs (when the setting is > 0)."""
    interval = services.settings.reconcile_interval_seconds
    if not enabled or interval <= 0:
        yield None
        return
    reconciler = Reconciler(services, interval=interval)
    task = asyncio.create_task(reconciler.run(), name="reconcile")
    try:
        yield reconciler
    finally:
        await reconciler.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
