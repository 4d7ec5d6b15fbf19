"""Concurrent claimers: each event leased exactly once, no ticket leased twice at a time.

SQLite: 4 coroutines on one store (plus 2 store instances on one file).
PostgreSQL: 4 separate store instances (separate pools), as 4 processes would.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.store import EventStatus, Priority, SqlEventStore, create_store
from app.store.tables import events
from tests.integration.store.store_test_helpers import Backend, add, new_event

pytestmark = pytest.mark.anyio

EVENTS = 500
WORKERS = 4


async def _accept_many(store: SqlEventStore, count: int) -> None:
    now = datetime.now(UTC) - timedelta(minutes=1)
    for i in range(count):
        await store.accept(
            new_event(
                f"ev-{i}",
                ticket_id=None if i % 10 == 0 else i % 37,  # ~13 events per ticket
                received_at=now + timedelta(milliseconds=i),
                priority=random.choice(list(Priority)),
            )
        )


async def _drain(stores: list[SqlEventStore], total: int) -> Counter[int]:
    claims: Counter[int] = Counter()
    holding: dict[int, str] = {}  # ticket -> owner, between claim and complete
    violations: list[str] = []
    done = 0

    async def worker(index: int, store: SqlEventStore) -> None:
        nonlocal done
        owner = f"w{index}"
        idle_since = asyncio.get_running_loop().time()
        while done < total:
            batch = await store.claim(owner, limit=8, lease_seconds=300, now=datetime.now(UTC))
            if not batch:
                if asyncio.get_running_loop().time() - idle_since > 15:
                    raise AssertionError(f"{owner} starved with {total - done} events left")
                await asyncio.sleep(0.005)
                continue
            idle_since = asyncio.get_running_loop().time()
            for event in batch:
                claims[event.id] += 1
                if event.ticket_id is not None:
                    if event.ticket_id in holding:
                        violations.append(
                            f"ticket {event.ticket_id}: {owner} and {holding[event.ticket_id]}"
                        )
                    holding[event.ticket_id] = owner
            await asyncio.sleep(random.random() * 0.003)  # "work", lets others claim
            for event in batch:
                # forget the ticket before completing: the recorded hold is always
                # inside the real lease, so any overlap seen here is a real one
                if event.ticket_id is not None:
                    holding.pop(event.ticket_id, None)
                assert await store.complete(event.id, owner)
                done += 1

    await asyncio.gather(*(worker(i, s) for i, s in enumerate(stores)))
    assert violations == []
    return claims


async def test_concurrent_claimers_take_each_event_once(backend: Backend) -> None:
    first = await backend.open()
    if backend.name == "sqlite":
        stores = [first] * WORKERS  # coroutines sharing one store (one process)
    else:
        stores = [first] + [await backend.open() for _ in range(WORKERS - 1)]
    await _accept_many(first, EVENTS)

    claims = await _drain(stores, EVENTS)

    assert len(claims) == EVENTS
    assert set(claims.values()) == {1}
    counts = await first.counts()
    assert counts[EventStatus.DONE] == EVENTS
    assert counts[EventStatus.PENDING] == counts[EventStatus.LEASED] == 0


async def test_two_sqlite_stores_on_one_file(sqlite_backend: Backend) -> None:
    """Two stores on one file (as two processes): BEGIN IMMEDIATE + busy_timeout."""
    one = await sqlite_backend.open()
    two = await sqlite_backend.open()
    await _accept_many(one, 150)
    claims = await _drain([one, two, one, two], 150)
    assert len(claims) == 150 and set(claims.values()) == {1}


async def test_concurrent_accepts_of_one_dedupe_key(backend: Backend) -> None:
    stores = [await backend.open() for _ in range(3)]
    results = await asyncio.gather(
        *(s.accept(new_event("same-key", ticket_id=1)) for s in stores for _ in range(4))
    )
    assert len({r.event_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


async def test_concurrent_opens_migrate_once(backend: Backend) -> None:
    """Several processes starting at once on a new database (SQLite: a new file)."""
    stores = [create_store(backend.url) for _ in range(6)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        await stores[0].accept(new_event("x"))
        assert (await stores[-1].counts())["pending"] == 1
    finally:
        for s in stores:
            await s.close()


@pytest.mark.postgres
async def test_ticket_being_claimed_elsewhere_is_skipped(postgres_backend: Backend) -> None:
    """The race SKIP LOCKED alone misses: while claimer A is mid-transaction on
    ticket 77's backfill event, a live event of ticket 77 arrives (it sorts first
    and is not row-locked). Claimer B must not lease it: A holds the ticket lock."""
    a = await postgres_backend.open()
    b = await postgres_backend.open()
    now = datetime.now(UTC)
    backfill = await add(
        a, "bf", ticket_id=77, priority=Priority.BACKFILL, received_at=now - timedelta(hours=1)
    )
    async with a.engine.begin() as conn:  # claimer A, paused between choosing and leasing
        assert await a._pick_claimable(conn, limit=5, now=now) == [backfill]
        await add(b, "live", ticket_id=77, received_at=now)
        assert await b.claim("b", limit=5, lease_seconds=30, now=now) == []
        await conn.execute(
            update(events)
            .where(events.c.id == backfill)
            .values(status="leased", lease_owner="a", lease_until=now + timedelta(seconds=30))
        )
    assert await b.claim("b", limit=5, lease_seconds=30, now=now) == []
    assert await a.complete(backfill, "a")
    [live] = await b.claim("b", limit=5, lease_seconds=30, now=now)
    assert live.ticket_id == 77 and live.priority is Priority.LIVE
