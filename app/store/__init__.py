"""The durable event store: inbox, leases, dead letters, decision log, small state.

store = await open_store("sqlite:///./data/triage.db")   # or postgresql://…
...
await store.close()
"""

from __future__ import annotations

from app.store.base import (
    AcceptResult,
    AuditEntry,
    DecisionRecord,
    EventStatus,
    EventStore,
    NewEvent,
    Priority,
    StoredEvent,
    StoredTimer,
    StoreUnavailable,
    TimerSpec,
)
from app.store.postgres import PostgresEventStore
from app.store.sql_store import SqlEventStore
from app.store.sqlite import SqliteEventStore
from app.store.urls import PostgresTarget, parse_database_url

__all__ = [
    "AcceptResult",
    "AuditEntry",
    "DecisionRecord",
    "EventStatus",
    "EventStore",
    "NewEvent",
    "PostgresEventStore",
    "Priority",
    "SqlEventStore",
    "SqliteEventStore",
    "StoreUnavailable",
    "StoredEvent",
    "StoredTimer",
    "TimerSpec",
    "create_store",
    "open_store",
]


def create_store(database_url: str) -> SqlEventStore:
    """The adapter for `database_url`, not yet opened. ValueError for bad URLs."""
    target = parse_database_url(database_url)
    if isinstance(target, PostgresTarget):
        return PostgresEventStore(target.url, schema=target.schema)
    return SqliteEventStore(target.path, busy_timeout_ms=target.busy_timeout_ms)


async def open_store(database_url: str) -> EventStore:
    """Build the adapter for `database_url`, open it (migrations to head), return it.

    Raises ValueError for an unusable URL and StoreUnavailable when the
    database cannot be reached or written.
    """
    store = create_store(database_url)
    await store.open()
    return store
