"""What the ops console asks of the store, on SQLite and PostgreSQL: events by
receipt time, bounded counts, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.store import AuditEntry, EventStatus, SqlEventStore
from tests.integration.store.store_test_helpers import T0, add

pytestmark = pytest.mark.anyio


async def test_events_in_a_time_range_newest_first(store: SqlEventStore) -> None:
    ids = [
        await add(store, f"k{i}", ticket_id=i, received_at=T0 + timedelta(hours=i))
        for i in range(6)
    ]
    found = await store.list_events(
        received_from=T0 + timedelta(hours=2), received_until=T0 + timedelta(hours=5)
    )
    assert [e.id for e in found] == [ids[4], ids[3], ids[2]]
    paged = await store.list_events(
        received_from=T0 + timedelta(hours=2), before_id=ids[4], limit=1
    )
    assert [e.id for e in paged] == [ids[3]]
    only_from = await store.list_events(received_from=T0 + timedelta(hours=4))
    assert [e.id for e in only_from] == [ids[5], ids[4]]
    only_until = await store.list_events(received_until=T0 + timedelta(hours=1))
    assert [e.id for e in only_until] == [ids[0]]
    beyond = await store.list_events(received_from=T0 + timedelta(days=1))
    assert beyond == []
    with_ticket = await store.list_events(
        ticket_id=3, received_from=T0, received_until=T0 + timedelta(days=1)
    )
    assert [e.id for e in with_ticket] == [ids[3]]


async def test_counts_with_a_cap(store: SqlEventStore) -> None:
    for i in range(5):
        await add(store, f"p{i}", ticket_id=i)
    exact = await store.counts()
    capped = await store.counts(cap=3)
    assert exact[EventStatus.PENDING.value] == 5
    assert capped[EventStatus.PENDING.value] == 4  # "more than 3"
    assert capped[EventStatus.DEAD.value] == exact[EventStatus.DEAD.value] == 0
    assert set(capped) == {s.value for s in EventStatus}
    assert await store.counts(cap=10) == exact


async def test_the_audit_log_newest_first(store: SqlEventStore) -> None:
    first = await store.record_audit(
        AuditEntry(who="tok_a", role="admin", action="login", target="tok_a", outcome="ok", at=T0)
    )
    second = await store.record_audit(
        AuditEntry(
            who="tok_b",
            role="viewer",
            action="ticket.replay",
            target="ticket 7",
            outcome="refused",
            detail="viewer",
        )
    )
    entries = await store.list_audit()
    assert [e.id for e in entries] == [second, first]
    assert entries[1].at == T0 and entries[1].who == "tok_a"
    assert (entries[0].role, entries[0].outcome, entries[0].detail) == (
        "viewer",
        "refused",
        "viewer",
    )
    assert [e.id for e in await store.list_audit(before_id=second)] == [first]
