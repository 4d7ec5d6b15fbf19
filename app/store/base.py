"""The store port: every adapter (SQLite, PostgreSQL) implements `EventStore`.

The inbox is the heart of "nothing lost": an event is accepted (durably, with a
dedupe key) before the webhook answers 200, and it leaves the inbox only as
`done`, `dead` (with a reason) or `discarded` by an operator, never by accident.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class EventStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a worker (maybe after a failed attempt)
    LEASED = "leased"  # claimed by a worker until `lease_until`
    DONE = "done"
    DEAD = "dead"  # dead letter: gave up, reason recorded
    DISCARDED = "discarded"  # an operator dropped a dead letter; kept for the log
    IGNORED = "ignored"  # stored and acknowledged, not processed (unknown event type)


class Priority(enum.IntEnum):
    """Lower runs first: live webhooks, then due timers (a clock ran out), then
    operator replays and backfills."""

    LIVE = 0
    TIMER = 3
    REPLAY = 5
    BACKFILL = 9


@dataclass(frozen=True, slots=True)
class NewEvent:
    """What the webhook hands to the store."""

    dedupe_key: str
    source: str  # "trigger" | "event_subscription" | "replay" | "admin"
    event_type: str  # e.g. "trigger", "zen:event-type:ticket.status_changed"
    ticket_id: int | None
    payload: dict[str, Any]
    received_at: datetime
    priority: Priority = Priority.LIVE
    processable: bool = True  # False: store and acknowledge only (status IGNORED)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    dedupe_key: str
    source: str
    event_type: str
    ticket_id: int | None
    payload: dict[str, Any]
    status: EventStatus
    priority: Priority
    attempts: int
    received_at: datetime
    available_at: datetime
    lease_owner: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    lease_expiries: int = 0  # leases that ran out (a crash), counted apart from `attempts`


@dataclass(frozen=True, slots=True)
class AcceptResult:
    event_id: int
    duplicate: bool  # True: the dedupe key was seen before; no new work created


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision as the worker made and applied it (the explain history)."""

    ticket_id: int
    event_id: int | None
    policy_version: str
    facts: dict[str, Any]
    decision: dict[str, Any]
    writes: list[dict[str, Any]] = field(default_factory=list)  # planned + results
    outcome: str = "applied"  # applied | noop | conflict | failed | dry_run
    decided_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """A clock a decision depends on, as the store keeps it (docs/playbook.md, "Clocks")."""

    kind: str  # the policy's deadline kind
    due_on: date  # the last day inside the clock
    fire_at: datetime  # when it is over (the next midnight, UTC): never fired earlier
    what: str
    then: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "due_on": self.due_on.isoformat(),
            "fire_at": self.fire_at.isoformat(),
            "what": self.what,
            "then": self.then,
        }


@dataclass(frozen=True, slots=True)
class StoredTimer:
    id: int
    ticket_id: int
    kind: str
    due_on: date
    fire_at: datetime
    generation: int
    what: str
    then: str
    policy_version: str
    decision_id: int | None
    fired_at: datetime | None
    event_id: int | None
    event_status: str | None = None  # of the re-decision event, once fired

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "kind": self.kind,
            "due_on": self.due_on.isoformat(),
            "fire_at": self.fire_at.isoformat(),
            "generation": self.generation,
            "what": self.what,
            "then": self.then,
            "policy_version": self.policy_version,
            "decision_id": self.decision_id,
            "fired_at": self.fired_at.isoformat() if self.fired_at else None,
            "event_id": self.event_id,
            "event_status": self.event_status,
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action taken in the ops console: who (a token fingerprint), what, when."""

    who: str
    role: str  # admin | viewer
    action: str  # e.g. "dead_letter.retry"
    target: str  # e.g. "event 42"
    outcome: str  # ok | refused | failed | not_found
    detail: str = ""
    at: datetime | None = None
    id: int | None = None


class StoreUnavailable(Exception):
    """The database cannot take the write now (locked, disk full, connection lost).

    The webhook turns this into 503 so Zendesk retries: nothing is acknowledged
    that was not stored.
    """


class EventStore(Protocol):
    async def open(self) -> None:
        """Connect and run migrations up to head."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StoreUnavailable if the database does not answer."""

    async def accept(self, event: NewEvent) -> AcceptResult:
        """Store durably (committed before returning) unless the dedupe key exists."""

    async def claim(
        self, owner: str, *, limit: int, lease_seconds: float, now: datetime
    ) -> list[StoredEvent]:
        """Lease up to `limit` pending events whose `available_at <= now`, by
        (priority, available_at, id); also re-claims LEASED events whose lease
        expired (counted in `lease_expiries`, not in `attempts`: a crash is not
        a failure of the event). Never two events of the same ticket leased at once."""

    async def extend_lease(
        self, event_id: int, owner: str, *, lease_seconds: float, now: datetime
    ) -> bool: ...

    async def extend_leases(
        self, event_ids: Sequence[int], owner: str, *, lease_seconds: float, now: datetime
    ) -> set[int]:
        """Extend every lease `owner` still holds among `event_ids`, in one
        transaction (a batch's heartbeat); returns the ids extended."""

    async def complete(self, event_id: int, owner: str) -> bool:
        """Mark DONE; False if `owner` no longer holds the lease."""

    async def fail(self, event_id: int, owner: str, *, error: str, retry_at: datetime) -> bool:
        """Back to PENDING, available again at `retry_at`, attempts + 1."""

    async def dead_letter(self, event_id: int, owner: str, *, reason: str) -> bool: ...

    async def release(self, event_id: int, owner: str) -> bool:
        """Give a leased event back untouched (clean shutdown)."""

    async def get_event(self, event_id: int) -> StoredEvent | None: ...

    async def list_events(
        self,
        *,
        status: EventStatus | None = None,
        ticket_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
        received_from: datetime | None = None,
        received_until: datetime | None = None,
    ) -> list[StoredEvent]:
        """Newest first; `before_id` pages backwards; `received_from` <= received_at
        < `received_until` when given."""

    async def retry_dead(self, event_id: int, *, now: datetime) -> bool:
        """DEAD -> PENDING (attempts and lease expiries reset)."""

    async def discard_dead(self, event_id: int, *, reason: str) -> bool:
        """DEAD -> DISCARDED (kept in the log)."""

    async def counts(self, *, cap: int | None = None) -> dict[str, int]:
        """Events per status; with `cap`, a status with more than `cap` events counts
        `cap + 1` (bounded work on a large store: the console shows "cap+")."""

    async def oldest_pending_age(self, now: datetime) -> float | None:
        """Seconds since the oldest PENDING event became available."""

    async def record_decision(self, record: DecisionRecord) -> int: ...

    async def decisions_for_ticket(
        self, ticket_id: int, *, limit: int = 50
    ) -> list[DecisionRecord]:
        """Newest first."""

    async def recent_decisions(self, *, limit: int = 100) -> list[DecisionRecord]: ...

    async def record_audit(self, entry: AuditEntry) -> int:
        """Append to the console's audit log (committed before returning)."""

    async def list_audit(
        self, *, limit: int = 50, before_id: int | None = None
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages backwards."""

    async def get_kv(self, key: str) -> str | None:
        """Small state that must survive restarts (e.g. an export cursor)."""

    async def set_kv(self, key: str, value: str) -> None: ...

    async def update_kv(self, key: str, change: Callable[[str | None], str]) -> str:
        """Replace the value with `change(current)` (None when missing) in one write
        transaction, so concurrent read-modify-writes, across processes too, never
        lose each other's changes; returns the new value. `change` must be pure."""

    async def set_timers(
        self,
        ticket_id: int,
        timers: Sequence[TimerSpec],
        *,
        policy_version: str,
        decision_id: int | None,
    ) -> None:
        """Make the ticket's timers exactly `timers` (one per kind): a new kind is
        armed, a moved due day re-arms (generation + 1), an unchanged one is kept
        as it is (fired or not), and kinds no longer listed are dropped."""

    async def fire_due_timers(self, now: datetime, *, limit: int = 100) -> int:
        """Turn up to `limit` unfired timers with `fire_at <= now` into events of
        priority TIMER (dedupe key `timer:<id>:<generation>`), marking them fired
        in the same transaction: once per deadline, whatever the number of
        workers. Returns how many fired."""

    async def timers_for_ticket(self, ticket_id: int) -> list[StoredTimer]: ...

    async def overdue_timers(self, now: datetime, *, limit: int = 100) -> list[StoredTimer]:
        """Timers due by `now` whose re-decision has not finished (unfired, or fired
        and its event still pending or leased), most overdue first."""

    async def upcoming_timers(
        self, now: datetime, until: datetime, *, limit: int = 100
    ) -> list[StoredTimer]:
        """Unfired timers due after `now` and by `until`, soonest first."""

    async def count_overdue_timers(self, now: datetime) -> int:
        """How many `overdue_timers` there are."""

    async def wait_for_work(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return when new work may be claimable (an event was accepted, released
        or retried, here or, on PostgreSQL, by any process via NOTIFY), or after
        `timeout` seconds. May return early; callers claim and wait again."""
