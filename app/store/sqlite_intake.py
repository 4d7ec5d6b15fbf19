"""SQLite's group commit (`group_commit.py`): batches written by a writer process.

With ``synchronous=FULL`` every SQLite commit is an fsync, one writer at a time.
The batches are written:

- by a writer process (`sqlite_writer.py`, standard library only, its own
  connection with the engine's pragmas), one message each way per batch,
  inside the store's in-process write lock, so it never competes with the
  store's other writers here and waits ``busy_timeout`` for other processes.
  In a thread of this process, SQLite's work and every return from it waited
  for the GIL held by the busy event loop: ~40 % of the webhook's throughput;
- in a handful of statements per batch (key lookup, one multi-row insert, ids
  back as one JSON row);
- with values converted by SQLAlchemy's own column types (what is written is
  byte for byte what the rest of the store reads), in the caller, so a bad
  value fails its own webhook and not the batch.

A writer that dies fails its batch (the callers get the error, the webhook a
503) and a new one is started for the next batch.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sqlite3
import struct
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Dialect

from app.store.base import AcceptResult, EventStatus, NewEvent
from app.store.group_commit import GroupCommit
from app.store.sql_store import utcnow
from app.store.tables import events

log = logging.getLogger("app.store.sqlite")

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
#: what the writer process runs ({rows}/{keys}: as many marks as the batch needs)
WRITER_SQL = {
    "insert": (
        f"INSERT INTO {events.name} ({', '.join(_COLUMNS)}) VALUES {{rows}} "
        f"ON CONFLICT ({_KEY}) DO NOTHING"
    ),
    "row": _ROW_MARKS,
    "ids": f"SELECT json_group_object({_KEY}, {_ID}) FROM {events.name} WHERE {_KEY} IN ({{keys}})",
    "columns": str(len(_COLUMNS)),
}
_WRITER = Path(__file__).with_name("sqlite_writer.py")
_LENGTH = struct.Struct(">I")


class WriterGone(OSError):
    """The writer process exited or stopped answering; a new one starts next batch."""


#: (dedupe_key, the insert's values but `updated_at`), as the writer takes them
_Row = tuple[str, tuple[Any, ...]]


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
    """`accept()` for the SQLite store (see module doc)."""

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
        self._group: GroupCommit[_Row] = GroupCommit(
            self._commit_batch, on_new_work=on_new_work, name="sqlite-intake-flush"
        )
        self._writer: asyncio.subprocess.Process | None = None

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
        return event.dedupe_key, values

    async def accept(self, event: NewEvent) -> AcceptResult:
        return await self._group.submit(self._row(event), processable=event.processable)

    async def _commit_batch(self, rows: Sequence[_Row]) -> Any:
        async with self._write_lock():
            return await self._commit(list(rows), self._updated_at(utcnow()))

    async def close(self) -> None:
        await self._group.drain()
        await self._stop_writer()

    # ------------------------------------------------------------------ writer process

    async def _commit(self, rows: list[tuple[str, tuple[Any, ...]]], updated_at: str) -> Any:
        writer = await self._started_writer()
        try:
            await self._send(writer, (rows, updated_at))
            reply = await self._receive(writer)
        except BaseException:
            # broken pipe, or cancelled mid-conversation: this writer's stream can
            # no longer be trusted; whatever it committed, its callers hear "no"
            await self._stop_writer(kill=True)
            raise
        if reply[0] == "ok":
            return reply[1]
        _, kind, code, name, message = reply
        if kind == "sqlite":
            error = getattr(sqlite3, name, sqlite3.Error)
            exc = error(message) if isinstance(error, type) else sqlite3.Error(message)
            exc.sqlite_errorcode = code  # what the store's error mapping reads
            raise exc
        raise OSError(code, message)

    async def _started_writer(self) -> asyncio.subprocess.Process:
        if self._writer is not None and self._writer.returncode is None:
            return self._writer
        await self._stop_writer(kill=True)
        # -I -S: the standard library only, nothing from the environment
        writer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            str(_WRITER),
            str(self.path),
            str(int(self.busy_timeout_ms)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._writer = writer
        await self._send(writer, WRITER_SQL)
        return writer

    @staticmethod
    async def _send(writer: asyncio.subprocess.Process, message: Any) -> None:
        assert writer.stdin is not None
        body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            writer.stdin.write(_LENGTH.pack(len(body)) + body)
            await writer.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WriterGone(f"SQLite writer process is gone: {exc}") from None

    @staticmethod
    async def _receive(writer: asyncio.subprocess.Process) -> Any:
        assert writer.stdout is not None
        try:
            (size,) = _LENGTH.unpack(await writer.stdout.readexactly(_LENGTH.size))
            return pickle.loads(await writer.stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            code = await writer.wait()
            raise WriterGone(f"SQLite writer process exited with code {code}") from None

    async def _stop_writer(self, *, kill: bool = False) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if writer.returncode is None:
            if kill:
                writer.kill()
            elif writer.stdin is not None:
                writer.stdin.close()  # end of input: the writer finishes and exits
        try:
            async with asyncio.timeout(10):
                await writer.wait()
        except TimeoutError:
            log.error("SQLite writer process %s did not exit; killing it", writer.pid)
            writer.kill()
            await writer.wait()
