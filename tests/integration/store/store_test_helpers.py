"""Helpers shared by the store tests (a module, not a conftest, so tests can import it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.store import EventStore, NewEvent, Priority, SqlEventStore, create_store

POSTGRES_URL = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def new_event(
    key: str,
    *,
    ticket_id: int | None = None,
    received_at: datetime = T0,
    priority: Priority = Priority.LIVE,
    processable: bool = True,
    payload: dict[str, Any] | None = None,
    event_type: str = "zen:event-type:ticket.status_changed",
) -> NewEvent:
    return NewEvent(
        dedupe_key=key,
        source="event_subscription",
        event_type=event_type,
        ticket_id=ticket_id,
        payload=payload if payload is not None else {"key": key},
        received_at=received_at,
        priority=priority,
        processable=processable,
    )


async def add(store: EventStore, key: str, **kwargs: Any) -> int:
    """Accept a new event and return its id."""
    result = await store.accept(new_event(key, **kwargs))
    assert not result.duplicate
    return result.event_id


@dataclass
class Backend:
    """One database for one test; opens as many store instances on it as asked."""

    name: str
    url: str
    opened: list[SqlEventStore] = field(default_factory=list)

    async def open(self, url: str | None = None) -> SqlEventStore:
        store = create_store(url or self.url)
        await store.open()
        self.opened.append(store)
        return store

    async def close_all(self) -> None:
        while self.opened:
            await self.opened.pop().close()
