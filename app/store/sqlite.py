"""SQLite adapter (aiosqlite): one writer at a time, WAL, fsync on every commit.

- Every connection: WAL, ``synchronous=FULL`` (an acknowledged event survives
  a power cut), ``busy_timeout``, foreign keys on.
- Write transactions start with ``BEGIN IMMEDIATE`` (the write lock up front,
  so two writers never deadlock on a lock upgrade) and are serialized within
  the process by an asyncio.Lock, so coroutines queue instead of hitting
  "database is locked". Other processes wait up to ``busy_timeout``.
- Claiming is a plain select-then-update inside that one writer transaction.
- Webhook accepts are group-committed (`sqlite_intake.py`): the ones arriving
  while a commit runs share the next transaction and its fsync.
- Locked, full, read-only or failing databases raise `StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.store.base import AcceptResult, NewEvent, StoreUnavailable
from app.store.migrate import upgrade_to_head
from app.store.sql_store import InsertFactory, SqlEventStore, claim_candidates
from app.store.sqlite_intake import GroupCommitIntake
from app.store.urls import DEFAULT_BUSY_TIMEOUT_MS

log = logging.getLogger("app.store.sqlite")

BEGIN_OPTION = "triage_begin"

# primary result codes: BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL
_UNAVAILABLE_CODES = {5, 6, 7, 8, 10, 11, 13, 14, 15}
_UNAVAILABLE_WORDS = (
    "locked",
    "busy",
    "disk",
    "i/o",
    "full",
    "readonly",
    "read-only",
    "unable to open",
    "malformed",
)


def _on_begin(conn: Connection) -> None:
    conn.exec_driver_sql(conn.get_execution_options().get(BEGIN_OPTION, "BEGIN"))


class SqliteEventStore(SqlEventStore):
    insert: InsertFactory = staticmethod(sqlite.insert)

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        super().__init__()
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._write_lock = asyncio.Lock()
        self._writer: AsyncEngine | None = None
        self._intake: GroupCommitIntake | None = None

    def __repr__(self) -> str:
        return f"SqliteEventStore({str(self.path)!r})"

    # ------------------------------------------------------------------ engine

    def _create_engine(self) -> AsyncEngine:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(URL.create("sqlite+aiosqlite", database=str(self.path)))
        event.listen(engine.sync_engine, "connect", self._on_connect)
        event.listen(engine.sync_engine, "begin", _on_begin)
        self._writer = engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
        return engine

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (see _on_begin); the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # WAL is a property of the file: normally already on (see _ensure_wal)
            cursor.execute("PRAGMA journal_mode")
            row = cursor.fetchone()
            if row is None or str(row[0]).lower() != "wal":
                try:
                    cursor.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError as exc:  # busy: _ensure_wal retries
                    log.debug("WAL switch deferred for %s: %s", self.path, exc)
        finally:
            cursor.close()

    async def _ensure_wal(self) -> None:
        """Switch the file to WAL (persistent). Switching needs a moment alone with
        the file and SQLite answers "locked" at once instead of waiting, so retry
        for up to busy_timeout (several processes opening a new file together)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(self.busy_timeout_ms / 1000, 1.0)
        while True:
            try:
                async with self.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver = raw.driver_connection  # aiosqlite, outside any transaction
                    assert driver is not None
                    cursor = await driver.execute("PRAGMA journal_mode = WAL")
                    row = await cursor.fetchone()
                    await cursor.close()
            except (sa_exc.OperationalError, sqlite3.OperationalError) as exc:
                if "locked" not in str(exc) or loop.time() > deadline:
                    raise
                await asyncio.sleep(0.02)
                continue
            mode = str(row[0]).lower() if row else None
            if mode != "wal":
                log.warning("SQLite refused WAL mode for %s (journal_mode=%s)", self.path, mode)
            return

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """This process's one writer at a time."""
        # Queued writers wait at most the busy timeout too: a webhook must get its
        # 503 well inside Zendesk's ~12 s, not after everyone queued before it.
        try:
            async with asyncio.timeout(self.busy_timeout_ms / 1000):
                await self._write_lock.acquire()
        except TimeoutError:
            raise StoreUnavailable(
                f"SQLite database {self.path}: writers queued past the busy timeout"
            ) from None
        try:
            yield
        finally:
            self._write_lock.release()

    @asynccontextmanager
    async def _begin_write(self) -> AsyncIterator[AsyncConnection]:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        async with self._locked(), self._writer.begin() as conn:
            yield conn

    async def _migrate(self) -> None:
        await self._ensure_wal()
        async with self._write() as conn:
            await conn.run_sync(upgrade_to_head)
        self._intake = GroupCommitIntake(
            self.path,
            busy_timeout_ms=self.busy_timeout_ms,
            dialect=self.engine.dialect,
            write_lock=self._locked,
            on_new_work=self._work.set,
        )

    async def _close_extra(self) -> None:
        self._writer = None
        intake, self._intake = self._intake, None
        if intake is not None:
            await intake.close()

    # ------------------------------------------------------------------ intake

    async def accept(self, event: NewEvent) -> AcceptResult:
        if self._intake is None:
            raise RuntimeError("the store is not open")
        try:
            return await self._intake.accept(event)
        except Exception as exc:
            if (translated := self._translate(exc)) is not None:
                raise translated from exc
            raise

    # ------------------------------------------------------------------ claiming

    async def _pick_claimable(
        self, conn: AsyncConnection, *, limit: int, now: datetime
    ) -> list[int]:
        # One writer at a time (lock + BEGIN IMMEDIATE): what we read is what we lease.
        query = claim_candidates(now, limit)
        return [int(row[0]) for row in (await conn.execute(query)).all()]

    async def wait_for_work(self, timeout: float) -> None:  # noqa: ASYNC109 - the interface
        await self._wait_for_local_work(timeout)

    # ------------------------------------------------------------------ errors

    def _unavailable(self, exc: BaseException) -> StoreUnavailable | None:
        if isinstance(exc, OSError):  # e.g. cannot create the data folder
            return StoreUnavailable(f"SQLite database {self.path}: {exc}")
        if isinstance(exc, sa_exc.TimeoutError):  # connection pool exhausted
            return StoreUnavailable(f"SQLite database {self.path}: {exc}")
        if isinstance(exc, sa_exc.DBAPIError):
            orig: BaseException | None = exc.orig
        elif isinstance(exc, sqlite3.Error):  # the intake's own connection
            orig = exc
        else:
            return None
        code = getattr(orig, "sqlite_errorcode", None)
        message = str(orig)
        if (isinstance(code, int) and code & 0xFF in _UNAVAILABLE_CODES) or (
            isinstance(orig, sqlite3.OperationalError)
            and any(word in message.lower() for word in _UNAVAILABLE_WORDS)
        ):
            return StoreUnavailable(f"SQLite database {self.path}: {message}")
        return None
