"""Durable timers on SQLite and PostgreSQL: armed per (ticket, kind), fired once, never early."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest

from app.store import EventStatus, Priority, SqlEventStore, TimerSpec
from tests.integration.store.store_test_helpers import T0, Backend, add

pytestmark = pytest.mark.anyio

LEASE = 30.0
DUE = date(2025, 3, 8)
FIRE = T0.replace(day=9, hour=0)  # the midnight after the due day


def spec(kind: str = "refund_response", fire_at: datetime = FIRE, due_on: date = DUE) -> TimerSpec:
    return TimerSpec(kind, due_on, fire_at, "the freelancer's answer", "the escrow goes back")


async def arm(store: SqlEventStore, ticket_id: int, *specs: TimerSpec) -> None:
    await store.set_timers(ticket_id, specs, policy_version="sha256:x", decision_id=None)


async def test_a_timer_never_fires_before_its_time(store: SqlEventStore) -> None:
    await arm(store, 7, spec())
    assert await store.fire_due_timers(FIRE - timedelta(microseconds=1)) == 0
    assert await store.claim("w", limit=10, lease_seconds=LEASE, now=FIRE) == []
    assert await store.fire_due_timers(FIRE) == 1
    [event] = await store.claim("w", limit=10, lease_seconds=LEASE, now=FIRE)
    assert event.ticket_id == 7 and event.priority is Priority.TIMER
    assert event.source == "timer" and event.dedupe_key.startswith("timer:")
    assert event.payload["timer"]["kind"] == "refund_response"
    assert event.payload["timer"]["due_on"] == "2025-03-08"


async def test_fires_once_per_deadline(store: SqlEventStore) -> None:
    await arm(store, 7, spec())
    later = FIRE + timedelta(days=3)
    assert await store.fire_due_timers(later) == 1
    assert await store.fire_due_timers(later) == 0
    await arm(store, 7, spec())  # the same deadline again (a later decision): kept as fired
    assert await store.fire_due_timers(later) == 0
    [timer] = await store.timers_for_ticket(7)
    assert timer.fired_at == later and timer.generation == 1 and timer.event_id is not None


async def test_a_moved_deadline_is_armed_again(store: SqlEventStore) -> None:
    await arm(store, 7, spec())
    assert await store.fire_due_timers(FIRE) == 1
    moved = FIRE + timedelta(days=2)
    await arm(store, 7, spec(fire_at=moved, due_on=DUE + timedelta(days=2)))
    [timer] = await store.timers_for_ticket(7)
    assert (timer.generation, timer.fired_at, timer.event_id) == (2, None, None)
    assert await store.fire_due_timers(moved - timedelta(seconds=1)) == 0
    assert await store.fire_due_timers(moved) == 1
    keys = {e.dedupe_key for e in await store.list_events(ticket_id=7)}
    assert keys == {f"timer:{timer.id}:1", f"timer:{timer.id}:2"}


async def test_kinds_no_longer_listed_are_dropped(store: SqlEventStore) -> None:
    await arm(store, 7, spec(), spec("in_product_review"))
    await arm(store, 8, spec())
    await arm(store, 7, spec("in_product_review"))
    assert [t.kind for t in await store.timers_for_ticket(7)] == ["in_product_review"]
    await arm(store, 7)
    assert await store.timers_for_ticket(7) == []
    assert len(await store.timers_for_ticket(8)) == 1


async def test_timer_priority_is_between_live_and_replay(store: SqlEventStore) -> None:
    await add(store, "replay", ticket_id=1, priority=Priority.REPLAY, received_at=T0)
    await arm(store, 2, spec(fire_at=T0))
    await store.fire_due_timers(T0)
    await add(store, "live", ticket_id=3, received_at=T0 + timedelta(seconds=1))
    claimed = await store.claim("w", limit=3, lease_seconds=LEASE, now=T0 + timedelta(minutes=1))
    assert [e.priority for e in claimed] == [Priority.LIVE, Priority.TIMER, Priority.REPLAY]


async def test_overdue_and_upcoming(store: SqlEventStore) -> None:
    await arm(store, 1, spec(fire_at=T0))
    await arm(store, 2, spec(fire_at=T0 + timedelta(hours=5)))
    await arm(store, 3, spec(fire_at=T0 + timedelta(days=5)))
    now = T0 + timedelta(minutes=1)
    assert [t.ticket_id for t in await store.overdue_timers(now)] == [1]
    assert await store.count_overdue_timers(now) == 1
    soon = await store.upcoming_timers(now, now + timedelta(days=1))
    assert [t.ticket_id for t in soon] == [2]
    await store.fire_due_timers(now)  # fired, its re-decision still to do: still overdue
    [fired] = await store.overdue_timers(now)
    assert fired.event_status == EventStatus.PENDING.value
    [event] = await store.claim("w", limit=5, lease_seconds=LEASE, now=now)
    await store.complete(event.id, "w")
    assert await store.count_overdue_timers(now) == 0


async def test_concurrent_pollers_fire_each_deadline_once(backend: Backend) -> None:
    stores = [await backend.open() for _ in range(3)]
    for ticket in range(1, 41):
        await arm(stores[0], ticket, spec(), spec("in_product_review"))
    now = FIRE + timedelta(hours=1)

    async def poll(store: SqlEventStore) -> int:
        total = 0
        while fired := await store.fire_due_timers(now, limit=7):
            total += fired
        return total

    counts = await asyncio.gather(*(poll(s) for s in stores * 2))
    assert sum(counts) == 80
    events = await stores[0].list_events(limit=200)
    assert len(events) == 80
    assert len({e.dedupe_key for e in events}) == 80
