"""SQLite group commit: the writer process, its values, its failures.

Group-commit semantics on both databases (duplicates within a batch and of stored
events) are in test_event_store.py."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from app.store import EventStatus, SqliteEventStore, StoreUnavailable, sqlite_writer
from app.store.sql_store import SqlEventStore
from app.store.sqlite_intake import WRITER_SQL
from tests.integration.store.store_test_helpers import T0, new_event

pytestmark = pytest.mark.anyio


async def _opened(path: Path, **options: int) -> SqliteEventStore:
    store = SqliteEventStore(path, **options)
    await store.open()
    return store


async def test_concurrent_accepts_share_transactions_and_each_gets_its_own_id(
    tmp_path: Path,
) -> None:
    store = await _opened(tmp_path / "g.db")
    try:
        results = await asyncio.gather(
            *(store.accept(new_event(f"k{i}", ticket_id=i)) for i in range(200))
        )
        ids = [r.event_id for r in results]
        assert not any(r.duplicate for r in results)
        assert len(set(ids)) == 200
        for i, event_id in enumerate(ids):
            stored = await store.get_event(event_id)
            assert stored is not None
            assert (stored.dedupe_key, stored.ticket_id) == (f"k{i}", i)
            assert stored.status is EventStatus.PENDING
        with contextlib.closing(sqlite3.connect(tmp_path / "g.db")) as raw:
            assert raw.execute("SELECT count(*) FROM events").fetchone()[0] == 200
    finally:
        await store.close()


async def test_values_read_back_exactly_as_the_one_by_one_path_wrote_them(
    tmp_path: Path,
) -> None:
    """The intake writes with its own connection: what the rest of the store reads
    (SQLAlchemy types: UTC datetimes, JSON) must be the same."""
    store = await _opened(tmp_path / "v.db")
    try:
        event = new_event("exact", ticket_id=7)
        accepted = await store.accept(event)
        stored = await store.get_event(accepted.event_id)
        assert stored is not None
        assert stored.payload == event.payload
        assert stored.received_at == event.received_at == stored.available_at
        assert stored.received_at.tzinfo is not None
        assert (stored.source, stored.event_type, stored.priority, stored.attempts) == (
            event.source,
            event.event_type,
            event.priority,
            0,
        )
        # and it is claimable at its time, in claim order, by the SQLAlchemy side
        claimed = await store.claim("w", limit=5, lease_seconds=30, now=event.received_at)
        assert [c.id for c in claimed] == [accepted.event_id]
    finally:
        await store.close()


async def test_ignored_events_do_not_wake_workers_and_new_work_does(tmp_path: Path) -> None:
    store = await _opened(tmp_path / "w.db")
    try:
        await store.accept(new_event("ignored", processable=False))
        await store.wait_for_work(0.05)  # nothing to wake for: returns on timeout
        waiter = asyncio.create_task(store.wait_for_work(10))
        await asyncio.sleep(0)
        await store.accept(new_event("work"))
        await asyncio.wait_for(waiter, 2)
        counts = await store.counts()
        assert counts["ignored"] == 1 and counts["pending"] == 1
    finally:
        await store.close()


async def test_a_batch_that_cannot_commit_fails_every_caller_and_stores_none(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.db"
    store = await _opened(path, busy_timeout_ms=100)
    try:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            results = await asyncio.gather(
                *(store.accept(new_event(f"x{i}")) for i in range(20)), return_exceptions=True
            )
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert all(isinstance(r, StoreUnavailable) for r in results), results
        assert (await store.counts())["pending"] == 0
        # the intake recovers by itself: the same events are now stored
        again = await asyncio.gather(*(store.accept(new_event(f"x{i}")) for i in range(20)))
        assert not any(r.duplicate for r in again)
        assert (await store.counts())["pending"] == 20
    finally:
        await store.close()


async def test_a_cancelled_caller_does_not_cancel_the_others(tmp_path: Path) -> None:
    store = await _opened(tmp_path / "c.db")
    try:
        tasks = [asyncio.create_task(store.accept(new_event(f"c{i}"))) for i in range(10)]
        await asyncio.sleep(0)
        tasks[3].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[3], asyncio.CancelledError)
        assert sum(1 for r in done if not isinstance(r, BaseException)) == 9
        # the cancelled one may or may not have been stored; a retry tells which
        retry = await store.accept(new_event("c3"))
        assert retry.event_id > 0
        assert (await store.counts())["pending"] == 10
    finally:
        await store.close()


async def test_accepts_interleave_with_other_writers_of_the_store(tmp_path: Path) -> None:
    """Claims and completions (the SQLAlchemy writer) run between intake batches."""
    store = await _opened(tmp_path / "i.db")
    try:
        accepted = await asyncio.gather(
            *(store.accept(new_event(f"i{i}", ticket_id=i)) for i in range(50))
        )

        later = T0 + timedelta(days=1)

        async def work() -> int:
            done = 0
            while done < 50:
                for event in await store.claim("w", limit=10, lease_seconds=30, now=later):
                    assert await store.complete(event.id, "w")
                    done += 1
                await asyncio.sleep(0)
            return done

        more = asyncio.gather(*(store.accept(new_event(f"j{i}")) for i in range(50)))
        finished, extra = await asyncio.gather(work(), more)
        assert finished == 50 and len(extra) == 50
        counts = await store.counts()
        assert counts["done"] + counts["pending"] == 100
        assert all(r.event_id for r in accepted)
    finally:
        await store.close()


def test_the_sqlite_store_overrides_accept() -> None:
    """Guard: the group-commit path is the one the SQLite store uses."""
    assert SqliteEventStore.accept is not SqlEventStore.accept


# --------------------------------------------------------------------------- writer process


def _writer_pids(db: Path) -> list[int]:
    """The SQLite writer processes this test process started for `db`.

    Scans /proc/*/stat for children of this process (a thread's `children` file, or a
    process, may vanish between listing and reading: such entries are skipped)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # exited in between
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid != me or len(cmdline) < 5:  # not ours, or a zombie with no command line
            continue
        if b"sqlite_writer.py" in cmdline[3] and cmdline[4] == str(db).encode():
            found.append(int(entry.name))
    return found


async def _until_gone(pid: int) -> None:
    for _ in range(200):
        if not os.path.exists(f"/proc/{pid}"):  # noqa: ASYNC240 - /proc, no disk I/O
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"process {pid} still there")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
async def test_one_writer_process_per_store_started_by_the_first_accept_stopped_by_close(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    store = await _opened(db)
    try:
        assert _writer_pids(db) == []  # nothing to write yet
        await asyncio.gather(*(store.accept(new_event(f"p{i}")) for i in range(50)))
        (pid,) = _writer_pids(db)
    finally:
        await store.close()
    await _until_gone(pid)
    assert _writer_pids(db) == []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
async def test_a_writer_killed_mid_batch_fails_that_batch_and_a_new_one_takes_over(
    tmp_path: Path,
) -> None:
    db = tmp_path / "k.db"
    store = await _opened(db, busy_timeout_ms=5000)
    try:
        await store.accept(new_event("before"))
        (pid,) = _writer_pids(db)
        other = sqlite3.connect(db, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")  # the writer waits for it inside its batch
            batch = asyncio.gather(
                *(store.accept(new_event(f"k{i}")) for i in range(5)), return_exceptions=True
            )
            await asyncio.sleep(0.3)
            os.kill(pid, signal.SIGKILL)
            results = await asyncio.wait_for(batch, 5)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert all(isinstance(r, StoreUnavailable) for r in results), results
        assert all("writer process" in str(r) for r in results)
        # the next batch starts a new writer; nothing of the killed batch was stored
        again = await asyncio.gather(*(store.accept(new_event(f"k{i}")) for i in range(5)))
        assert not any(r.duplicate for r in again)
        assert (await store.counts())["pending"] == 6
        assert _writer_pids(db) != [pid]
    finally:
        await store.close()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
async def test_the_writer_ignores_sigterm_and_sigint_and_ends_with_its_input(
    tmp_path: Path,
) -> None:
    """A Ctrl+C or a signal to the process group must not stop the writer before
    the service has committed its last batch: only the end of its input does."""
    db = tmp_path / "s.db"
    store = await _opened(db)
    try:
        await store.accept(new_event("one"))
        (pid,) = _writer_pids(db)
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
        await asyncio.sleep(0.2)
        assert not (await store.accept(new_event("two"))).duplicate
        assert _writer_pids(db) == [pid]
    finally:
        await store.close()
    await _until_gone(pid)


def test_writer_protocol_commits_batches_and_reports_sqlite_errors(tmp_path: Path) -> None:
    """The writer program on its own, over in-memory streams."""
    db = tmp_path / "w.db"
    with contextlib.closing(sqlite3.connect(db)) as raw:
        raw.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)")  # no events table
    inp = io.BytesIO()
    for message in (WRITER_SQL, ([("a", ("a",) * 10)], "2025-01-01 00:00:00.000000")):
        sqlite_writer.write_message(inp, message)
    inp.seek(0)
    out = io.BytesIO()
    sqlite_writer.serve(str(db), 100, inp, out)
    out.seek(0)
    status, kind, code, name, message = sqlite_writer.read_message(out)
    assert (status, kind, name) == ("error", "sqlite", "OperationalError")
    assert "no such table" in message and code == 1
    assert sqlite_writer.read_message(out) is None  # one answer per batch, then end of input
