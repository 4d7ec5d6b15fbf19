"""The merge log: blocked, performed and detected merges and their repairs.

Kept in the store's kv (`merges:log`, one JSON list, newest last, the last
`MAX_ENTRIES` kept) so `GET /admin/merges` survives restarts on SQLite and
PostgreSQL alike. Each append is one read-modify-write transaction of the store
(`update_kv`), so appends from several processes never drop each other's
entries; entries with a `key` are written once (a redelivered merge event is
not logged twice). Repairs do
not rely on this log for their idempotency (markers on the tickets and their
own kv keys do); it is the report.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.store import EventStore

LOG_KEY = "merges:log"
MAX_ENTRIES = 5000
KINDS = ("blocked", "performed", "failed", "detected", "repaired")


def _parse(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


class MergeLog:
    def __init__(self, store: EventStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    async def entries(self) -> list[dict[str, Any]]:
        return _parse(await self.store.get_kv(LOG_KEY))

    async def append(
        self, kind: str, *, key: str | None = None, **data: Any
    ) -> dict[str, Any] | None:
        """Add an entry; None when an entry with the same `key` is already there."""
        if kind not in KINDS:
            raise ValueError(f"unknown merge log kind {kind!r}")
        at = self.clock().isoformat()
        added: list[dict[str, Any]] = []

        def change(raw: str | None) -> str:
            added.clear()  # a retried transaction starts again
            entries = _parse(raw)
            if key is None or not any(e.get("key") == key for e in entries):
                last = max((int(e.get("id") or 0) for e in entries), default=0)
                entry = {"id": last + 1, "kind": kind, "at": at, "key": key} | data
                entries.append(entry)
                added.append(entry)
            return json.dumps(entries[-MAX_ENTRIES:], default=str)

        await self.store.update_kv(LOG_KEY, change)
        return added[0] if added else None

    async def has(self, key: str) -> bool:
        return any(e.get("key") == key for e in await self.entries())

    async def page(
        self,
        *,
        kind: str | None = None,
        ticket_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Newest first; the second value is the `before_id` of the next page (or None)."""
        chosen = []
        for entry in reversed(await self.entries()):
            if before_id is not None and int(entry.get("id") or 0) >= before_id:
                continue
            if kind is not None and entry.get("kind") != kind:
                continue
            if ticket_id is not None and ticket_id not in tickets_of(entry):
                continue
            chosen.append(entry)
            if len(chosen) > limit:
                break
        more = len(chosen) > limit
        page = chosen[:limit]
        return page, (int(page[-1]["id"]) if more and page else None)


def tickets_of(entry: dict[str, Any]) -> set[int]:
    ids: set[int] = set()
    for key in ("target_id", "source_id", "restored_id", "ticket_id"):
        if isinstance(entry.get(key), int):
            ids.add(int(entry[key]))
    for value in entry.get("source_ids") or []:
        if isinstance(value, int):
            ids.add(value)
    return ids


_LOGS: weakref.WeakKeyDictionary[Any, MergeLog] = weakref.WeakKeyDictionary()


def merge_log(store: EventStore, clock: Callable[[], datetime]) -> MergeLog:
    """The one log (and lock) per store of this process."""
    log = _LOGS.get(store)
    if log is None:
        log = MergeLog(store, clock)
        _LOGS[store] = log
    return log
