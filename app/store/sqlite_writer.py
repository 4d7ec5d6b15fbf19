"""The SQLite intake's writer process: commits batches of webhook events.

Started by `sqlite_intake.GroupCommitIntake` as ``python -I -S <this file>
<database> <busy_timeout_ms>``; standard library only, so it starts in a few
milliseconds and owns nothing but its connection. It runs in its own process so
that SQLite's work and the fsync of every commit happen beside the service's
event loop, not competing with it for the GIL.

Protocol on stdin/stdout, each message a 4-byte big-endian length and a pickle
(both ends are this program and the service, started together):

- first message, from the service: the SQL it runs (`sqlite_intake.WRITER_SQL`);
- then per batch: ``(rows, updated_at)`` where each row is ``(dedupe_key, values)``
  and ``values`` the insert's parameters but the last (``updated_at``);
- answer: ``("ok", [(event_id, duplicate), ...])`` in row order, or
  ``("error", kind, sqlite_errorcode, class_name, message)`` with the batch
  rolled back (kind ``sqlite`` or ``os``).

End of stdin (the service closed it, or died) ends the process, and nothing
else does: SIGINT and SIGTERM are ignored (a Ctrl+C or a signal to the process
group must not stop it before the service has finished its last batch).
"""

from __future__ import annotations

import json
import pickle
import signal
import sqlite3
import struct
import sys
from typing import IO, Any

_LENGTH = struct.Struct(">I")


def read_message(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def write_message(stream: IO[bytes], message: Any) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def connect(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA synchronous = FULL")  # an acknowledged event survives a power cut
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Writer:
    def __init__(self, path: str, busy_timeout_ms: int, sql: dict[str, str]) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.insert_sql = sql["insert"]  # "... VALUES {rows} ON CONFLICT ... DO NOTHING"
        self.row_marks = sql["row"]  # "(?, ?, ...)"
        self.ids_sql = sql["ids"]  # "SELECT json_group_object(...) ... IN ({keys})"
        self.columns = int(sql["columns"])
        self.conn: sqlite3.Connection | None = None

    def commit(self, rows: list[tuple[str, tuple[Any, ...]]], updated_at: str) -> list[Any]:
        try:
            if self.conn is None:
                self.conn = connect(self.path, self.busy_timeout_ms)
            self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.reset()  # start afresh next time (e.g. the file came back)
            raise
        conn = self.conn
        try:
            results = self._insert(conn, rows, updated_at)
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                self.reset()
            raise
        return results

    def reset(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()

    def _insert(
        self, conn: sqlite3.Connection, rows: list[tuple[str, tuple[Any, ...]]], updated_at: str
    ) -> list[tuple[int, bool]]:
        """A few statements per batch: key lookup, one multi-row insert, ids back
        as one JSON row. Duplicates: stored before, or earlier in this batch."""
        firsts: dict[str, tuple[Any, ...]] = {}
        for key, values in rows:
            firsts.setdefault(key, values)
        limit = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        existing = self._ids(conn, list(firsts), limit)
        new = [(key, values) for key, values in firsts.items() if key not in existing]
        chunk = max(1, limit // self.columns)
        for start in range(0, len(new), chunk):
            part = new[start : start + chunk]
            sql = self.insert_sql.format(rows=", ".join([self.row_marks] * len(part)))
            conn.execute(sql, [v for _, values in part for v in (*values, updated_at)])
        ids = existing | self._ids(conn, [key for key, _ in new], limit)
        seen: set[str] = set()
        results = []
        for key, _ in rows:
            results.append((int(ids[key]), key in existing or key in seen))
            seen.add(key)
        return results

    def _ids(self, conn: sqlite3.Connection, keys: list[str], limit: int) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), limit):
            part = keys[start : start + limit]
            sql = self.ids_sql.format(keys=", ".join("?" for _ in part))
            (text,) = conn.execute(sql, part).fetchone()
            found.update(json.loads(text))
        return found


def serve(path: str, busy_timeout_ms: int, inp: IO[bytes], out: IO[bytes]) -> None:
    sql = read_message(inp)
    if sql is None:
        return
    writer = Writer(path, busy_timeout_ms, sql)
    try:
        while (message := read_message(inp)) is not None:
            rows, updated_at = message
            try:
                reply: tuple[Any, ...] = ("ok", writer.commit(rows, updated_at))
            except sqlite3.Error as exc:
                code = getattr(exc, "sqlite_errorcode", None)
                reply = ("error", "sqlite", code, type(exc).__name__, str(exc))
            except OSError as exc:
                reply = ("error", "os", exc.errno, type(exc).__name__, str(exc))
            write_message(out, reply)
    finally:
        writer.reset()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        serve(sys.argv[1], int(sys.argv[2]), sys.stdin.buffer, sys.stdout.buffer)
    except BrokenPipeError:  # the service is gone: nobody to answer
        pass


if __name__ == "__main__":
    main()
