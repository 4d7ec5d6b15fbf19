"""Durable timers (docs/playbook.md, "Clocks"): the queries, on either database.

A decision that depends on a clock leaves one timer per (ticket, deadline kind).
Firing a due timer inserts an event of priority TIMER and marks the timer fired
in one transaction; the event's dedupe key `timer:<id>:<generation>` makes a
second firing of the same deadline impossible even if two pollers raced past
the row lock. From there the inbox's leases give the re-decision the same
crash safety as a webhook. Each function runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from app.store.base import EventStatus, Priority, StoredTimer, TimerSpec
from app.store.tables import events, timers

InsertFactory = Callable[[Table], sqlite.Insert | postgresql.Insert]
UNFINISHED = (EventStatus.PENDING.value, EventStatus.LEASED.value)
TIMER_SOURCE = "timer"


def dedupe_key(timer_id: int, generation: int) -> str:
    """Ids only: keys never carry dates or free text."""
    return f"timer:{timer_id}:{generation}"


def to_timer(row: RowMapping) -> StoredTimer:
    return StoredTimer(
        id=int(row["id"]),
        ticket_id=int(row["ticket_id"]),
        kind=row["kind"],
        due_on=row["due_on"],
        fire_at=row["fire_at"],
        generation=int(row["generation"]),
        what=row["what"],
        then=row["then"],
        policy_version=row["policy_version"],
        decision_id=None if row["decision_id"] is None else int(row["decision_id"]),
        fired_at=row["fired_at"],
        event_id=None if row["event_id"] is None else int(row["event_id"]),
        event_status=row.get("event_status"),
    )


def _spec_values(spec: TimerSpec, policy_version: str, decision_id: int | None) -> dict[str, Any]:
    return {
        "due_on": spec.due_on,
        "what": spec.what,
        "then": spec.then,
        "policy_version": policy_version,
        "decision_id": decision_id,
    }


async def set_timers(
    conn: AsyncConnection,
    insert: InsertFactory,
    ticket_id: int,
    specs: Sequence[TimerSpec],
    *,
    policy_version: str,
    decision_id: int | None,
    now: datetime,
) -> None:
    """Make the ticket's timers exactly `specs` (see EventStore.set_timers)."""
    query = select(timers).where(timers.c.ticket_id == ticket_id).with_for_update()
    existing = {row["kind"]: row for row in (await conn.execute(query)).mappings().all()}
    wanted = {spec.kind: spec for spec in specs}
    gone = [kind for kind in existing if kind not in wanted]
    if gone:
        await conn.execute(
            delete(timers).where(timers.c.ticket_id == ticket_id, timers.c.kind.in_(gone))
        )
    for kind, spec in wanted.items():
        values = _spec_values(spec, policy_version, decision_id) | {"updated_at": now}
        row = existing.get(kind)
        if row is None:
            fresh = values | {"ticket_id": ticket_id, "kind": kind, "generation": 1}
            await conn.execute(
                insert(timers)
                .values(fresh | {"fire_at": spec.fire_at})
                .on_conflict_do_nothing(index_elements=[timers.c.ticket_id, timers.c.kind])
            )
            continue
        if row["fire_at"] != spec.fire_at:  # the due day moved: a new deadline, armed again
            values |= {
                "fire_at": spec.fire_at,
                "generation": int(row["generation"]) + 1,
                "fired_at": None,
                "event_id": None,
            }
        await conn.execute(update(timers).where(timers.c.id == row["id"]).values(values))


def _due(now: datetime, limit: int) -> Select[Any]:
    return (
        select(timers)
        .where(timers.c.fired_at.is_(None), timers.c.fire_at <= now)
        .order_by(timers.c.fire_at, timers.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time
    )


def _event_values(row: RowMapping, now: datetime) -> dict[str, Any]:
    timer = to_timer(row)
    payload = {
        "ticket_id": timer.ticket_id,
        "timer": {
            "id": timer.id,
            "kind": timer.kind,
            "generation": timer.generation,
            "due_on": timer.due_on.isoformat(),
            "fire_at": timer.fire_at.isoformat(),
            "what": timer.what,
            "then": timer.then,
        },
    }
    return {
        "dedupe_key": dedupe_key(timer.id, timer.generation),
        "source": TIMER_SOURCE,
        "event_type": TIMER_SOURCE,
        "ticket_id": timer.ticket_id,
        "payload": payload,
        "status": EventStatus.PENDING.value,
        "priority": int(Priority.TIMER),
        "attempts": 0,
        "received_at": now,
        "available_at": timer.fire_at,
        "updated_at": now,
    }


async def fire_due(conn: AsyncConnection, insert: InsertFactory, now: datetime, limit: int) -> int:
    """Due timers -> TIMER events, timers marked fired (see EventStore.fire_due_timers)."""
    rows = (await conn.execute(_due(now, limit))).mappings().all()
    if not rows:
        return 0
    values = [_event_values(row, now) for row in rows]
    await conn.execute(
        insert(events).on_conflict_do_nothing(index_elements=[events.c.dedupe_key]), values
    )
    keys = [v["dedupe_key"] for v in values]
    found = await conn.execute(
        select(events.c.dedupe_key, events.c.id).where(events.c.dedupe_key.in_(keys))
    )
    ids = {str(key): int(event_id) for key, event_id in found.all()}
    for row, value in zip(rows, values, strict=True):
        await conn.execute(
            update(timers)
            .where(timers.c.id == row["id"], timers.c.generation == row["generation"])
            .values(fired_at=now, event_id=ids.get(value["dedupe_key"]), updated_at=now)
        )
    return len(rows)


def _with_event() -> Select[Any]:
    return select(timers, events.c.status.label("event_status")).select_from(
        timers.outerjoin(events, events.c.id == timers.c.event_id)
    )


def _overdue(now: datetime) -> Any:
    return and_(
        timers.c.fire_at <= now,
        or_(timers.c.fired_at.is_(None), events.c.status.in_(UNFINISHED)),
    )


def overdue_query(now: datetime, limit: int) -> Select[Any]:
    return _with_event().where(_overdue(now)).order_by(timers.c.fire_at, timers.c.id).limit(limit)


def overdue_count(now: datetime) -> Select[Any]:
    return (
        select(func.count())
        .select_from(timers.outerjoin(events, events.c.id == timers.c.event_id))
        .where(_overdue(now))
    )


def upcoming_query(now: datetime, until: datetime, limit: int) -> Select[Any]:
    return (
        _with_event()
        .where(timers.c.fired_at.is_(None), timers.c.fire_at > now, timers.c.fire_at <= until)
        .order_by(timers.c.fire_at, timers.c.id)
        .limit(limit)
    )


def for_ticket(ticket_id: int) -> Select[Any]:
    return _with_event().where(timers.c.ticket_id == ticket_id).order_by(timers.c.fire_at)


def any_for_ticket(ticket_id: int) -> Select[Any]:
    return select(timers.c.id).where(timers.c.ticket_id == ticket_id).limit(1)


def any_due(now: datetime) -> Select[Any]:
    return select(timers.c.id).where(timers.c.fired_at.is_(None), timers.c.fire_at <= now).limit(1)
