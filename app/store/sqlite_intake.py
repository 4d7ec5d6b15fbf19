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
- a handful of statements per batch (look up keys, one multi-row insert, read
  the ids back as one JSON row): each call into SQLite releases the GIL and
  must take it back from the busy event loop, so per-row calls would cost more
  than the disk;
- dedupe as in one-by-one accepts: an existing key, or the same key twice in a
  batch, is a duplicate carrying the first event's id;
- if the batch cannot be committed, every caller in it gets the error (the
  store turns it into `StoreUnavailable`, the webhook into a 503): nothing is
  acknowledged that was not stored.

No delay is added: an idle intake commits the first webhook at once.
"""

from __future__ import annotations

import asyncio
import json
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
from app.store.sql_store import utcnow
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
_ROW_MARKS = "(" + ", ".join("?" for _ in _COLUMNS) + ")"
_ID, _KEY = events.c.id.name, events.c.dedupe_key.name


def _insert_sql(rows: int) -> str:
    values = ", ".join([_ROW_MARKS] * rows)
    return (
        f"INSERT INTO {events.name} ({', '.join(_COLUMNS)}) VALUES {values} "
        f"ON CONFLICT ({_KEY}) DO NOTHING"
    )


def _ids_sql(keys: int) -> str:
    """One row whatever the count: each row fetched is a GIL round trip."""
    marks = ", ".join("?" for _ in range(keys))
    return f"SELECT json_group_object({_KEY}, {_ID}) FROM {events.name} WHERE {_KEY} IN ({marks})"


@dataclass(frozen=True, slots=True)
class _Row:
    key: str
    values: tuple[Any, ...]
    processable: bool


Converter = Callable[[Any], Any]
_CONVERTED = ("payload", "received_at", "updated_at")


def _converter(name: str, dialect: Dialect) -> Converter:
    """The column's bind conversion, exactly as SQLAlchemy applies it."""
    column = events.c[name]
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        raise TypeError(f"events.{name} has no bind conversion on {dialect.name}")
    return process


def _check_plain_columns(dialect: Dialect) -> None:
    """The other columns go to sqlite3 as they are: fail loudly if a type changes."""
    for name in _COLUMNS:
        if name in _CONVERTED or name == "available_at":
            continue
        if events.c[name].type.dialect_impl(dialect).bind_processor(dialect) is not None:
            raise TypeError(f"events.{name} needs a bind conversion the intake does not do")


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
        _check_plain_columns(dialect)
        self._json = _converter("payload", dialect)
        self._datetime = _converter("received_at", dialect)
        self._updated_at = _converter("updated_at", dialect)
        self._write_lock = write_lock
        self._on_new_work = on_new_work
        self._pending: list[tuple[_Row, asyncio.Future[AcceptResult]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-intake")
        self._conn: sqlite3.Connection | None = None  # used only on self._thread

    # ------------------------------------------------------------------ event loop side

    def _row(self, event: NewEvent) -> _Row:
        status = EventStatus.PENDING if event.processable else EventStatus.IGNORED
        received = self._datetime(event.received_at)
        values = (
            event.dedupe_key,
            event.source,
            event.event_type,
            event.ticket_id,
            self._json(event.payload),
            status.value,
            int(event.priority),
            0,  # attempts
            received,
            received,  # available_at: due at once
        )
        return _Row(event.dedupe_key, values, event.processable)

    async def accept(self, event: NewEvent) -> AcceptResult:
        row = self._row(event)
        future: asyncio.Future[AcceptResult] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="sqlite-intake-flush")
        # A cancelled caller cancels only its own future, not the batch: the event
        # may still be stored, and Zendesk's retry of it is then a duplicate.
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            rows = [row for row, _ in batch]
            try:
                async with self._write_lock():
                    updated_at = self._updated_at(utcnow())
                    results = await loop.run_in_executor(
                        self._thread, self._commit, rows, updated_at
                    )
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

    def _commit(self, rows: Sequence[_Row], updated_at: Any) -> list[AcceptResult]:
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._disconnect()  # start afresh next time (e.g. the file came back)
            raise
        try:
            results = self._insert(conn, rows, updated_at)
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                self._disconnect()
            raise
        return results

    @staticmethod
    def _insert(
        conn: sqlite3.Connection, rows: Sequence[_Row], updated_at: Any
    ) -> list[AcceptResult]:
        """A few statements per batch, not per row: every SQLite call from this
        thread gives up the GIL and waits to take it back from the event loop."""
        firsts: dict[str, _Row] = {}
        for row in rows:
            firsts.setdefault(row.key, row)
        per_statement = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        existing = _ids(conn, list(firsts), per_statement)
        new = [row for key, row in firsts.items() if key not in existing]
        chunk = max(1, per_statement // len(_COLUMNS))
        for start in range(0, len(new), chunk):
            part = new[start : start + chunk]
            params = [value for row in part for value in (*row.values, updated_at)]
            conn.execute(_insert_sql(len(part)), params)
        ids = existing | _ids(conn, [row.key for row in new], per_statement)
        seen: set[str] = set()
        results: list[AcceptResult] = []
        for row in rows:
            # a duplicate: stored before this batch, or earlier in it
            duplicate = row.key in existing or row.key in seen
            seen.add(row.key)
            results.append(AcceptResult(event_id=int(ids[row.key]), duplicate=duplicate))
        return results


def _ids(conn: sqlite3.Connection, keys: list[str], per_statement: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), per_statement):
        part = keys[start : start + per_statement]
        (text,) = conn.execute(_ids_sql(len(part)), part).fetchone()
        found.update(json.loads(text))
    return found
