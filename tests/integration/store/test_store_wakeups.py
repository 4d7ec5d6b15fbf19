"""wait_for_work: wakes on accept (NOTIFY across instances on PostgreSQL), else times out."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.store import SqlEventStore, StoreUnavailable, open_store
from app.store.postgres import PostgresEventStore
from tests.integration.store.store_test_helpers import POSTGRES_URL, Backend, new_event

pytestmark = pytest.mark.anyio


async def _settle(store: SqlEventStore) -> None:
    """Consume any earlier wake-up (and start LISTENing on PostgreSQL)."""
    await store.wait_for_work(0)
    await store.wait_for_work(0)


async def _wakes_on_accept(waiter: SqlEventStore, producer: SqlEventStore) -> float:
    loop = asyncio.get_running_loop()
    await _settle(waiter)
    started = loop.time()
    task = asyncio.create_task(waiter.wait_for_work(10))
    await asyncio.sleep(0.05)
    assert not task.done()
    await producer.accept(new_event(f"wake-{started}"))
    await asyncio.wait_for(task, 5)
    return loop.time() - started


async def test_wait_for_work_times_out_without_work(store: SqlEventStore) -> None:
    await _settle(store)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await store.wait_for_work(0.2)
    assert 0.15 < loop.time() - started < 2


async def test_wait_for_work_wakes_on_accept(store: SqlEventStore) -> None:
    assert await _wakes_on_accept(store, store) < 5


async def test_duplicates_and_ignored_events_do_not_wake(store: SqlEventStore) -> None:
    await store.accept(new_event("dup"))
    await _settle(store)
    await store.accept(new_event("dup"))
    await store.accept(new_event("ign", processable=False))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await store.wait_for_work(0.2)
    assert loop.time() - started >= 0.15


@pytest.mark.postgres
async def test_notify_wakes_another_instance(postgres_backend: Backend) -> None:
    waiter = await postgres_backend.open()
    producer = await postgres_backend.open()
    assert await _wakes_on_accept(waiter, producer) < 5


async def test_wait_cancelled_is_harmless(store: SqlEventStore) -> None:
    await _settle(store)
    task = asyncio.create_task(store.wait_for_work(10))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.accept(new_event("after-cancel"))
    await store.wait_for_work(5)  # returns at once: the accept was noticed


async def test_unreachable_postgres_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable):
        await open_store("postgresql://postgres@127.0.0.1:1/test")


@pytest.mark.postgres
async def test_survives_the_server_dropping_its_connections(postgres_backend: Backend) -> None:
    store = await postgres_backend.open()
    await _settle(store)  # LISTENing
    async with store.engine.connect() as conn:
        pooled = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
    assert isinstance(store, PostgresEventStore) and store._listener is not None
    pids = [pooled, store._listener.get_server_pid()]
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", pids)
    finally:
        await admin.close()
    await asyncio.sleep(0.1)

    await store.ping()  # the pool replaces the dead connection (pre-ping)
    assert (await store.accept(new_event("after-restart"))).duplicate is False
    await store.wait_for_work(5)  # the listener is back (returns at once when restarted)
    await store.wait_for_work(0)
    producer = await postgres_backend.open()
    assert await _wakes_on_accept(store, producer) < 5
