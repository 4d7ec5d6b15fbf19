"""The event store on SQLAlchemy Core (asyncio): everything both databases share.

Dialect adapters (`sqlite.py`, `postgres.py`) supply the engine, the write
transaction, the choice of claimable events under concurrency, the wake-up
signal for idle workers, and which errors mean "the database cannot take it
now" (raised as `StoreUnavailable`).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.store import timer_queries
from app.store.base import (
    AcceptResult,
    AuditEntry,
    DecisionRecord,
    EventStatus,
    NewEvent,
    Priority,
    StoredEvent,
    StoredTimer,
    StoreUnavailable,
    TimerSpec,
)
from app.store.group_commit import GroupCommit
from app.store.tables import console_audit, decisions, events, kv

PENDING = EventStatus.PENDING.value
LEASED = EventStatus.LEASED.value
DEAD = EventStatus.DEAD.value
MAX_ERROR_CHARS = 8000
MAX_PAGE = 1000

#: the dialect's INSERT, with ON CONFLICT (same API on both)
InsertFactory = Callable[[Table], sqlite.Insert | postgresql.Insert]


def utcnow() -> datetime:
    return datetime.now(UTC)


def claimable(table: Any, now: datetime) -> ColumnElement[bool]:
    """PENDING and due, or LEASED by a worker whose lease ran out."""
    return or_(pending_due(table, now), lease_expired(table, now))


def pending_due(table: Any, now: datetime) -> ColumnElement[bool]:
    return and_(table.c.status == PENDING, table.c.available_at <= now)


def lease_expired(table: Any, now: datetime) -> ColumnElement[bool]:
    return and_(table.c.status == LEASED, table.c.lease_until < now)


def _claim_order(table: Any) -> list[Any]:
    return [table.c.priority, table.c.available_at, table.c.id]


def ticket_free_for(e: Any, now: datetime) -> ColumnElement[bool]:
    """True when `e` may be leased as far as its ticket is concerned.

    Not when another event of the same ticket holds an unexpired lease, nor
    when another claimable event of that ticket comes earlier in claim order
    (priority, available_at, id). Events without a ticket are independent.
    """
    other = events.alias("other")
    blocked = exists().where(
        other.c.ticket_id == e.c.ticket_id,
        other.c.status.in_((PENDING, LEASED)),  # ix_events_ticket (ticket_id, status, id)
        other.c.id != e.c.id,
        or_(
            and_(other.c.status == LEASED, other.c.lease_until >= now),
            and_(
                claimable(other, now),
                tuple_(*_claim_order(other)) < tuple_(*_claim_order(e)),
            ),
        ),
    )
    return or_(e.c.ticket_id.is_(None), ~blocked)


def claim_candidates(now: datetime, limit: int) -> Select[Any]:
    """(id, ticket_id) of events a claim may take now, in claim order, at most one
    per ticket; no row locks.

    Two branches, each walking an index in claim order and stopping at `limit`
    (pending events via ix_events_claim; expired leases via ix_events_lease),
    merged and cut to `limit`.
    """
    branches = []
    for condition in (pending_due, lease_expired):
        e = events.alias("e")
        branches.append(
            select(e.c.id, e.c.ticket_id, e.c.priority, e.c.available_at)
            .where(condition(e, now), ticket_free_for(e, now))
            .order_by(*_claim_order(e))
            .limit(limit)
            .subquery()
        )
    merged = union_all(*(select(branch) for branch in branches)).subquery("candidates")
    return select(merged.c.id, merged.c.ticket_id).order_by(*_claim_order(merged)).limit(limit)


def lockable_candidates(now: datetime, limit: int) -> tuple[Select[Any], Any]:
    """The same choice as `claim_candidates` as one plain SELECT over `events`
    (so it can take FOR UPDATE); the caller narrows it down by ticket or id.
    Returns the query and its `events` alias."""
    e = events.alias("e")
    query = (
        select(e.c.id, e.c.ticket_id)
        .where(claimable(e, now), ticket_free_for(e, now))
        .order_by(*_claim_order(e))
        .limit(limit)
    )
    return query, e


def to_event(row: RowMapping) -> StoredEvent:
    return StoredEvent(
        id=int(row["id"]),
        dedupe_key=row["dedupe_key"],
        source=row["source"],
        event_type=row["event_type"],
        ticket_id=None if row["ticket_id"] is None else int(row["ticket_id"]),
        payload=dict(row["payload"] or {}),
        status=EventStatus(row["status"]),
        priority=Priority(int(row["priority"])),
        attempts=int(row["attempts"]),
        received_at=row["received_at"],
        available_at=row["available_at"],
        lease_owner=row["lease_owner"],
        lease_until=row["lease_until"],
        last_error=row["last_error"],
        lease_expiries=int(row["lease_expiries"]),
    )


def to_decision(row: RowMapping) -> DecisionRecord:
    return DecisionRecord(
        id=int(row["id"]),
        ticket_id=int(row["ticket_id"]),
        event_id=None if row["event_id"] is None else int(row["event_id"]),
        policy_version=row["policy_version"],
        facts=dict(row["facts"] or {}),
        decision=dict(row["decision"] or {}),
        writes=list(row["writes"] or []),
        outcome=row["outcome"],
        decided_at=row["decided_at"],
    )


def _row_values(event: NewEvent, now: datetime) -> dict[str, Any]:
    status = EventStatus.PENDING if event.processable else EventStatus.IGNORED
    return {
        "dedupe_key": event.dedupe_key,
        "source": event.source,
        "event_type": event.event_type,
        "ticket_id": event.ticket_id,
        "payload": event.payload,
        "status": status.value,
        "priority": int(event.priority),
        "attempts": 0,
        "received_at": event.received_at,
        "available_at": event.received_at,
        "updated_at": now,
    }


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class SqlEventStore(ABC):
    """`EventStore` on SQLAlchemy Core; subclasses adapt it to one database."""

    insert: InsertFactory

    def __init__(self) -> None:
        self._engine: AsyncEngine | None = None
        self._work = asyncio.Event()  # set when new work may be claimable
        self._group: GroupCommit[NewEvent] = GroupCommit(
            self._accept_batch, on_new_work=self._work.set, name="store-intake-flush"
        )

    # ------------------------------------------------------------------ adapter hooks

    @abstractmethod
    def _create_engine(self) -> AsyncEngine: ...

    @abstractmethod
    async def _migrate(self) -> None:
        """Run the migrations to head (serialized against other processes)."""

    @abstractmethod
    def _begin_write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """Async context manager: a connection in a write transaction."""

    @abstractmethod
    async def _pick_claimable(
        self, conn: AsyncConnection, *, limit: int, now: datetime
    ) -> list[int]:
        """Ids to lease, chosen safely against concurrent claimers."""

    @abstractmethod
    def _unavailable(self, exc: BaseException) -> StoreUnavailable | None:
        """The StoreUnavailable for `exc` when it means the database cannot serve."""

    async def _announce_work(self, conn: AsyncConnection) -> None:
        """Inside the write transaction that created claimable work."""
        return None

    async def _close_extra(self) -> None:
        """Close adapter resources (listeners) before the engine is disposed."""
        return None

    @abstractmethod
    async def wait_for_work(self, timeout: float) -> None:  # noqa: ASYNC109 - the interface
        """Return when new work may be claimable, or after `timeout` seconds."""

    # ------------------------------------------------------------------ lifecycle

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the store is not open")
        return self._engine

    async def open(self) -> None:
        if self._engine is not None:
            return
        try:
            self._engine = self._create_engine()
            await self._migrate()
        except BaseException as exc:
            await self.close()
            if isinstance(exc, Exception) and (translated := self._translate(exc)) is not None:
                raise translated from exc
            raise

    async def close(self) -> None:
        try:
            await self._group.drain()
            await self._close_extra()
        finally:
            engine, self._engine = self._engine, None
            if engine is not None:
                await engine.dispose()

    async def __aenter__(self) -> SqlEventStore:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ transactions

    def _translate(self, exc: Exception) -> StoreUnavailable | None:
        if isinstance(exc, StoreUnavailable):
            return None
        return self._unavailable(exc)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._begin_write() as conn:
                yield conn
        except Exception as exc:
            if (translated := self._translate(exc)) is not None:
                raise translated from exc
            raise

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.begin() as conn:
                yield conn
        except Exception as exc:
            if (translated := self._translate(exc)) is not None:
                raise translated from exc
            raise

    async def _wait_for_local_work(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait for `self._work` (set by this process) up to `timeout` seconds."""
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._work.wait()
        except TimeoutError:
            return
        self._work.clear()

    # ------------------------------------------------------------------ EventStore

    async def ping(self) -> None:
        async with self._read() as conn:
            await conn.execute(select(literal(1)))

    async def accept(self, event: NewEvent) -> AcceptResult:
        return await self._group.submit(event, processable=event.processable)

    async def _accept_batch(self, batch: Sequence[NewEvent]) -> list[tuple[int, bool]]:
        """One transaction for a group commit's batch (see `group_commit.py`)."""
        firsts: dict[str, NewEvent] = {}
        for event in batch:
            firsts.setdefault(event.dedupe_key, event)
        now = utcnow()
        statement = (
            self.insert(events)
            .on_conflict_do_nothing(index_elements=[events.c.dedupe_key])
            .returning(events.c.dedupe_key, events.c.id)
        )
        async with self._write() as conn:
            rows = await conn.execute(statement, [_row_values(e, now) for e in firsts.values()])
            created = {str(key): int(event_id) for key, event_id in rows.all()}
            # the others were stored before (or by another process meanwhile)
            existing = await self._ids_of(conn, [k for k in firsts if k not in created])
            if any(e.processable for k, e in firsts.items() if k in created):
                await self._announce_work(conn)
        results: list[tuple[int, bool]] = []
        seen: set[str] = set()
        for event in batch:
            key = event.dedupe_key
            if key in created:
                results.append((created[key], key in seen))
            else:
                results.append((existing[key], True))
            seen.add(key)
        return results

    @staticmethod
    async def _ids_of(conn: AsyncConnection, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), MAX_PAGE):
            query = select(events.c.dedupe_key, events.c.id).where(
                events.c.dedupe_key.in_(keys[start : start + MAX_PAGE])
            )
            found.update({str(k): int(i) for k, i in (await conn.execute(query)).all()})
        return found

    async def claim(
        self, owner: str, *, limit: int, lease_seconds: float, now: datetime
    ) -> list[StoredEvent]:
        if limit <= 0:
            return []
        lease_until = now + timedelta(seconds=lease_seconds)
        expired = events.c.status == LEASED
        async with self._write() as conn:
            ids = await self._pick_claimable(conn, limit=limit, now=now)
            if not ids:
                return []
            result = await conn.execute(
                update(events)
                .where(events.c.id.in_(ids))
                .values(
                    status=LEASED,
                    lease_owner=owner,
                    lease_until=lease_until,
                    # a lease that ran out means the worker died with it: counted
                    # apart, so crashes alone never use up the event's attempts
                    lease_expiries=events.c.lease_expiries + case((expired, 1), else_=0),
                    last_error=case(
                        (expired, literal("lease expired (owner ") + events.c.lease_owner + ")"),
                        else_=events.c.last_error,
                    ),
                    updated_at=utcnow(),
                )
                .returning(*events.c)
            )
            claimed = [to_event(row) for row in result.mappings()]
        claimed.sort(key=lambda ev: (ev.priority, ev.available_at, ev.id))
        return claimed

    async def _update_leased(self, event_id: int, owner: str, **values: Any) -> bool:
        statement = (
            update(events)
            .where(
                events.c.id == event_id,
                events.c.status == LEASED,
                events.c.lease_owner == owner,
            )
            .values(updated_at=utcnow(), **values)
        )
        async with self._write() as conn:
            return (await conn.execute(statement)).rowcount == 1

    async def extend_lease(
        self, event_id: int, owner: str, *, lease_seconds: float, now: datetime
    ) -> bool:
        return await self._update_leased(
            event_id, owner, lease_until=now + timedelta(seconds=lease_seconds)
        )

    async def extend_leases(
        self, event_ids: Sequence[int], owner: str, *, lease_seconds: float, now: datetime
    ) -> set[int]:
        if not event_ids:
            return set()
        statement = (
            update(events)
            .where(
                events.c.id.in_(list(event_ids)),
                events.c.status == LEASED,
                events.c.lease_owner == owner,
            )
            .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=utcnow())
            .returning(events.c.id)
        )
        async with self._write() as conn:
            return {int(row[0]) for row in (await conn.execute(statement)).all()}

    async def complete(self, event_id: int, owner: str) -> bool:
        return await self._update_leased(
            event_id, owner, status=EventStatus.DONE.value, lease_until=None
        )

    async def fail(self, event_id: int, owner: str, *, error: str, retry_at: datetime) -> bool:
        return await self._update_leased(
            event_id,
            owner,
            status=PENDING,
            attempts=events.c.attempts + 1,
            available_at=retry_at,
            last_error=_clip(error),
            lease_owner=None,
            lease_until=None,
        )

    async def dead_letter(self, event_id: int, owner: str, *, reason: str) -> bool:
        return await self._update_leased(
            event_id,
            owner,
            status=DEAD,
            attempts=events.c.attempts + 1,
            last_error=_clip(reason),
            lease_until=None,
        )

    async def release(self, event_id: int, owner: str) -> bool:
        statement = (
            update(events)
            .where(
                events.c.id == event_id,
                events.c.status == LEASED,
                events.c.lease_owner == owner,
            )
            .values(status=PENDING, lease_owner=None, lease_until=None, updated_at=utcnow())
        )
        async with self._write() as conn:
            released = (await conn.execute(statement)).rowcount == 1
            if released:
                await self._announce_work(conn)
        if released:
            self._work.set()
        return released

    async def get_event(self, event_id: int) -> StoredEvent | None:
        async with self._read() as conn:
            row = (
                (await conn.execute(select(events).where(events.c.id == event_id)))
                .mappings()
                .first()
            )
        return None if row is None else to_event(row)

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
        if limit <= 0:
            return []
        query = select(events).order_by(events.c.id.desc()).limit(min(limit, MAX_PAGE))
        if status is not None:
            query = query.where(events.c.status == EventStatus(status).value)
        if ticket_id is not None:
            query = query.where(events.c.ticket_id == ticket_id)
        if before_id is not None:
            query = query.where(events.c.id < before_id)
        async with self._read() as conn:
            # A time range becomes an id range too (ids grow with receipt time), so the
            # newest-first walk stays on the id indexes however many events there are.
            if received_from is not None:
                first = await self._first_id_received(conn, received_from)
                query = query.where(events.c.received_at >= received_from)
                query = query.where(events.c.id >= first) if first is not None else query
            if received_until is not None:
                beyond = await self._first_id_received(conn, received_until)
                query = query.where(events.c.received_at < received_until)
                query = query.where(events.c.id < beyond) if beyond is not None else query
            rows = (await conn.execute(query)).mappings().all()
        return [to_event(row) for row in rows]

    @staticmethod
    async def _first_id_received(conn: AsyncConnection, at: datetime) -> int | None:
        query = (
            select(events.c.id)
            .where(events.c.received_at >= at)
            .order_by(events.c.received_at)
            .limit(1)
        )
        first: int | None = (await conn.execute(query)).scalar_one_or_none()
        return first

    async def retry_dead(self, event_id: int, *, now: datetime) -> bool:
        statement = (
            update(events)
            .where(events.c.id == event_id, events.c.status == DEAD)
            .values(
                status=PENDING,
                attempts=0,
                lease_expiries=0,
                available_at=now,
                lease_owner=None,
                lease_until=None,
                updated_at=utcnow(),
            )
        )
        async with self._write() as conn:
            retried = (await conn.execute(statement)).rowcount == 1
            if retried:
                await self._announce_work(conn)
        if retried:
            self._work.set()
        return retried

    async def discard_dead(self, event_id: int, *, reason: str) -> bool:
        # keep the dead-letter reason after the operator's
        last_error = literal(_clip(f"discarded: {reason}")) + func.coalesce(
            literal(" | dead letter: ") + events.c.last_error, ""
        )
        statement = (
            update(events)
            .where(events.c.id == event_id, events.c.status == DEAD)
            .values(status=EventStatus.DISCARDED.value, last_error=last_error, updated_at=utcnow())
        )
        async with self._write() as conn:
            return (await conn.execute(statement)).rowcount == 1

    async def counts(self, *, cap: int | None = None) -> dict[str, int]:
        query: Select[Any] = select(events.c.status, func.count()).group_by(events.c.status)
        if cap is not None:  # each status walks at most cap + 1 entries of its index
            parts = []
            for status in EventStatus:
                some = select(literal(1)).where(events.c.status == status.value).limit(cap + 1)
                parts.append(
                    select(
                        literal(status.value),
                        select(func.count()).select_from(some.subquery()).scalar_subquery(),
                    )
                )
            query = union_all(*parts)  # type: ignore[assignment]
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        counted = {status.value: 0 for status in EventStatus}
        counted.update({str(status): int(n) for status, n in rows})
        return counted

    async def oldest_pending_age(self, now: datetime) -> float | None:
        query = select(func.min(events.c.available_at)).where(
            events.c.status == PENDING, events.c.available_at <= now
        )
        async with self._read() as conn:
            oldest: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        if oldest is None:
            return None
        return max(0.0, (now - oldest).total_seconds())

    async def record_decision(self, record: DecisionRecord) -> int:
        statement = (
            self.insert(decisions)
            .values(
                ticket_id=record.ticket_id,
                event_id=record.event_id,
                policy_version=record.policy_version,
                facts=record.facts,
                decision=record.decision,
                writes=list(record.writes),
                outcome=record.outcome,
                decided_at=record.decided_at or utcnow(),
            )
            .returning(decisions.c.id)
        )
        async with self._write() as conn:
            return int((await conn.execute(statement)).scalar_one())

    async def _decisions(self, query: Select[Any], limit: int) -> list[DecisionRecord]:
        if limit <= 0:
            return []
        query = query.order_by(decisions.c.decided_at.desc(), decisions.c.id.desc()).limit(
            min(limit, MAX_PAGE)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [to_decision(row) for row in rows]

    async def decisions_for_ticket(
        self, ticket_id: int, *, limit: int = 50
    ) -> list[DecisionRecord]:
        return await self._decisions(
            select(decisions).where(decisions.c.ticket_id == ticket_id), limit
        )

    async def recent_decisions(self, *, limit: int = 100) -> list[DecisionRecord]:
        return await self._decisions(select(decisions), limit)

    async def record_audit(self, entry: AuditEntry) -> int:
        statement = (
            self.insert(console_audit)
            .values(
                at=entry.at or utcnow(),
                who=entry.who[:64],
                role=entry.role[:16],
                action=entry.action[:64],
                target=entry.target[:255],
                outcome=entry.outcome[:32],
                detail=_clip(entry.detail),
            )
            .returning(console_audit.c.id)
        )
        async with self._write() as conn:
            return int((await conn.execute(statement)).scalar_one())

    async def list_audit(
        self, *, limit: int = 50, before_id: int | None = None
    ) -> list[AuditEntry]:
        if limit <= 0:
            return []
        query = (
            select(console_audit).order_by(console_audit.c.id.desc()).limit(min(limit, MAX_PAGE))
        )
        if before_id is not None:
            query = query.where(console_audit.c.id < before_id)
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [AuditEntry(**dict(row)) for row in rows]

    async def get_kv(self, key: str) -> str | None:
        async with self._read() as conn:
            value: str | None = (
                await conn.execute(select(kv.c.value).where(kv.c.key == key))
            ).scalar_one_or_none()
        return value

    async def update_kv(self, key: str, change: Callable[[str | None], str]) -> str:
        async with self._write() as conn:
            # An uncommitted placeholder to lock: a concurrent first writer waits on
            # it (unique key) and then finds the row; an existing row is left as is.
            created = await conn.execute(
                self.insert(kv)
                .values(key=key, value="", updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=[kv.c.key])
            )
            stored = (
                await conn.execute(select(kv.c.value).where(kv.c.key == key).with_for_update())
            ).scalar_one()
            value = change(None if created.rowcount == 1 else stored)
            await conn.execute(
                update(kv).where(kv.c.key == key).values(value=value, updated_at=utcnow())
            )
        return value

    async def set_kv(self, key: str, value: str) -> None:
        insert = self.insert(kv).values(key=key, value=value, updated_at=utcnow())
        statement = insert.on_conflict_do_update(
            index_elements=[kv.c.key],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
        async with self._write() as conn:
            await conn.execute(statement)

    # ------------------------------------------------------------------ timers

    async def set_timers(
        self,
        ticket_id: int,
        timers: Sequence[TimerSpec],
        *,
        policy_version: str,
        decision_id: int | None,
    ) -> None:
        if not timers and not await self._has_timers(ticket_id):
            return  # most decisions have no clock: no write transaction for them
        async with self._write() as conn:
            await timer_queries.set_timers(
                conn,
                self.insert,
                ticket_id,
                timers,
                policy_version=policy_version,
                decision_id=decision_id,
                now=utcnow(),
            )

    async def _has_timers(self, ticket_id: int) -> bool:
        async with self._read() as conn:
            found = await conn.execute(timer_queries.any_for_ticket(ticket_id))
            return found.first() is not None

    async def fire_due_timers(self, now: datetime, *, limit: int = 100) -> int:
        async with self._read() as conn:  # the usual answer, without taking the write lock
            if (await conn.execute(timer_queries.any_due(now))).first() is None:
                return 0
        async with self._write() as conn:
            fired = await timer_queries.fire_due(conn, self.insert, now, limit)
            if fired:
                await self._announce_work(conn)
        if fired:
            self._work.set()
        return fired

    async def _timers(self, query: Select[Any]) -> list[StoredTimer]:
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [timer_queries.to_timer(row) for row in rows]

    async def timers_for_ticket(self, ticket_id: int) -> list[StoredTimer]:
        return await self._timers(timer_queries.for_ticket(ticket_id))

    async def overdue_timers(self, now: datetime, *, limit: int = 100) -> list[StoredTimer]:
        return await self._timers(timer_queries.overdue_query(now, min(limit, MAX_PAGE)))

    async def upcoming_timers(
        self, now: datetime, until: datetime, *, limit: int = 100
    ) -> list[StoredTimer]:
        return await self._timers(timer_queries.upcoming_query(now, until, min(limit, MAX_PAGE)))

    async def count_overdue_timers(self, now: datetime) -> int:
        async with self._read() as conn:
            return int((await conn.execute(timer_queries.overdue_count(now))).scalar_one())
