"""Group commit for SQLite: concurrent `accept()` calls share one transaction.

Every webhook must be on disk before its 200, and with ``synchronous=FULL`` a
commit is an fsync. One transaction per webhook serializes them all behind the
write lock, each paying a dozen thread hops of aiosqlite and SQLAlchemy's
statement building. Here the webhooks that arrive while a commit is running
wait for the next one, and all of them are written together:

- one hop to a dedicated thread per batch, with its own plain `sqlite3`
  connection (same pragmas as the engine's), inside the store's in-process
  write lock, so it never competes with the store's other writers here and
  waits ``busy_timeout`` for writers in other processes;
- values are converted with SQLAlchemy's own column types (what is written is
  byte for byte what the rest of the store reads), in the caller, so a bad
  value fails its own webhook and not the batch;
- dedupe as in one-by-one accepts: an existing key, or the same key twice in a
  batch, is a duplicate carrying the first event's id;
- if the batch cannot be committed, every caller in it gets the error (the
  store turns it into `StoreUnavailable`, the webhook into a 503): nothing is
  acknowledged that was not stored.

No delay is added: an idle intake commits the first webhook at once.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Dialect

from app.store.base import AcceptResult, EventStatus, NewEvent
from app.store.tables import events

log = logging.getLogger("app.store.sqlite")

#: upper bound of one transaction; more waiting callers go in the next one
MAX_BATCH = 1000

_COLUMNS = (
    "dedupe_key",
    "source",
    "event_type",
    "ticket_id",
    "payload",
    "status",
    "priority",
    "attempts",
    "received_at",
    "available_at",
    "updated_at",
)
_INSERT = (
    f"INSERT INTO {events.name} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    f"ON CONFLICT ({events.c.dedupe_key.name}) DO NOTHING RETURNING {events.c.id.name}"
)
_EXISTING = f"SELECT {events.c.id.name} FROM {events.name} WHERE {events.c.dedupe_key.name} = ?"


@dataclass(frozen=True, slots=True)
class _Row:
    key: str
    values: tuple[Any, ...]
    processable: bool


Converter = Callable[[Any], Any]


def _converters(dialect: Dialect) -> list[Converter | None]:
    """Each column's bind conversion, exactly as SQLAlchemy applies it."""
    return [events.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _COLUMNS]


class GroupCommitIntake:
    """Batches `accept()` calls into shared SQLite transactions (see module doc)."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int,
        dialect: Dialect,
        write_lock: Callable[[], AbstractAsyncContextManager[None]],
        on_new_work: Callable[[], None],
    ) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._convert = _converters(dialect)
        self._write_lock = write_lock
        self._on_new_work = on_new_work
        self._pending: list[tuple[_Row, asyncio.Future[AcceptResult]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-intake")
        self._conn: sqlite3.Connection | None = None  # used only on self._thread

    # ------------------------------------------------------------------ event loop side

    def _row(self, event: NewEvent, updated_at: Any) -> _Row:
        status = EventStatus.PENDING if event.processable else EventStatus.IGNORED
        raw = (
            event.dedupe_key,
            event.source,
            event.event_type,
            event.ticket_id,
            event.payload,
            status.value,
            int(event.priority),
            0,
            event.received_at,
            event.received_at,
            updated_at,
        )
        values = tuple(
            value if convert is None else convert(value)
            for convert, value in zip(self._convert, raw, strict=True)
        )
        return _Row(event.dedupe_key, values, event.processable)

    async def accept(self, event: NewEvent, updated_at: Any) -> AcceptResult:
        row = self._row(event, updated_at)
        future: asyncio.Future[AcceptResult] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="sqlite-intake-flush")
        # A cancelled caller does not cancel the batch: the event may still be
        # stored, and Zendesk's retry of it is then a duplicate.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            rows = [row for row, _ in batch]
            try:
                async with self._write_lock():
                    results = await loop.run_in_executor(self._thread, self._commit, rows)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): nobody is told "stored"
                for _, future in batch:
                    future.cancel()
                raise
            new_work = False
            for (row, future), result in zip(batch, results, strict=True):
                new_work = new_work or (row.processable and not result.duplicate)
                if not future.done():
                    future.set_result(result)
            if new_work:
                self._on_new_work()

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            await asyncio.wait([self._flusher])
        await asyncio.get_running_loop().run_in_executor(self._thread, self._disconnect)
        self._thread.shutdown(wait=True)

    # ------------------------------------------------------------------ writer thread

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                check_same_thread=False,  # opened and used on self._thread only
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._conn = conn
        return self._conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _commit(self, rows: Sequence[_Row]) -> list[AcceptResult]:
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._disconnect()  # start afresh next time (e.g. the file came back)
            raise
        try:
            results = self._insert(conn, rows)
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                self._disconnect()
            raise
        return results

    @staticmethod
    def _insert(conn: sqlite3.Connection, rows: Sequence[_Row]) -> list[AcceptResult]:
        seen: dict[str, int] = {}
        results: list[AcceptResult] = []
        for row in rows:
            if (first := seen.get(row.key)) is not None:
                results.append(AcceptResult(event_id=first, duplicate=True))
                continue
            inserted = conn.execute(_INSERT, row.values).fetchone()
            if inserted is None:
                existing = conn.execute(_EXISTING, (row.key,)).fetchone()
                event_id, duplicate = int(existing[0]), True
            else:
                event_id, duplicate = int(inserted[0]), False
            seen[row.key] = event_id
            results.append(AcceptResult(event_id=event_id, duplicate=duplicate))
        return results
