"""SQLite specifics: durability, PRAGMAs, and StoreUnavailable when it cannot write."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import (
    EventStatus,
    SqliteEventStore,
    StoreUnavailable,
    create_store,
    open_store,
)
from tests.integration.store.store_test_helpers import T0, new_event

pytestmark = pytest.mark.anyio


async def test_accepted_events_survive_close_and_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    store = await open_store(url)
    try:
        accepted = await store.accept(new_event("durable", ticket_id=1))
        await store.set_kv("cursor", "42")
    finally:
        await store.close()

    reopened = await open_store(url)
    try:
        stored = await reopened.get_event(accepted.event_id)
        assert stored is not None and stored.status is EventStatus.PENDING
        assert stored.payload == {"key": "durable"}
        assert (await reopened.accept(new_event("durable", ticket_id=1))).duplicate
        assert await reopened.get_kv("cursor") == "42"
    finally:
        await reopened.close()
    # the committed row is in the file itself, readable by anyone
    with contextlib.closing(sqlite3.connect(tmp_path / "triage.db")) as raw:
        assert raw.execute("SELECT dedupe_key, status FROM events").fetchall() == [
            ("durable", "pending")
        ]


async def test_every_connection_is_wal_fsync_full_with_busy_timeout(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "p.db", busy_timeout_ms=1234)
    await store.open()
    try:
        async with store.engine.connect() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        await store.close()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "busy_timeout": 1234,
        "foreign_keys": 1,
    }


async def test_relative_url_creates_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite:///./data/triage.db")
    try:
        await store.accept(new_event("rel"))
    finally:
        await store.close()
    assert (tmp_path / "data" / "triage.db").is_file()


async def test_locked_database_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = await open_store(f"sqlite:///{path}?busy_timeout_ms=100")
    try:
        await store.accept(new_event("before"))
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
            with pytest.raises(StoreUnavailable, match="database is locked"):
                await store.accept(new_event("during"))
            with pytest.raises(StoreUnavailable, match="locked"):
                await store.claim("w", limit=1, lease_seconds=30, now=T0)
            # reads still work in WAL mode
            assert (await store.counts())["pending"] == 1
        finally:
            other.execute("ROLLBACK")
            other.close()
        # nothing was half-written, and the store recovers by itself
        assert not (await store.accept(new_event("during"))).duplicate
        assert (await store.counts())["pending"] == 2
    finally:
        await store.close()


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[None]:
    """chmod for normal users; root ignores modes, so the immutable flag instead."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root and cannot make a directory immutable (chattr +i)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


async def test_read_only_directory_raises_store_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with read_only_dir(folder):
        store = create_store(f"sqlite:///{folder / 'triage.db'}")
        with pytest.raises(StoreUnavailable, match="unable to open|readonly|Permission"):
            await store.open()
        await store.close()
        nested = create_store(f"sqlite:///{folder / 'sub' / 'triage.db'}")
        with pytest.raises(StoreUnavailable):
            await nested.open()
    assert not (folder / "triage.db").exists()


async def test_unusable_urls_are_refused(tmp_path: Path) -> None:
    for url in (
        "sqlite:///:memory:",
        "mysql://x@y/z",
        "sqlite:///x.db?foo=1",
        "postgresql+psycopg://u@h/db",
    ):
        with pytest.raises(ValueError):
            await open_store(url)


async def test_switch_to_wal_waits_for_a_reader_of_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("CREATE TABLE legacy (x)")
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM legacy").fetchall()  # holds a shared lock
        store = SqliteEventStore(path, busy_timeout_ms=2000)
        opening = asyncio.create_task(store.open())
        await asyncio.sleep(0.1)
        assert not opening.done()  # waiting for the reader, not failing
        reader.execute("COMMIT")
        await asyncio.wait_for(opening, 5)
        try:
            assert (await store.accept(new_event("after"))).event_id == 1
        finally:
            await store.close()
    finally:
        reader.close()
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
