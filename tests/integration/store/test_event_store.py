"""The EventStore contract, run against SQLite and PostgreSQL (fixture `store`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, timedelta, timezone

import pytest
from sqlalchemy import exc as sa_exc

from app.store import DecisionRecord, EventStatus, Priority, SqlEventStore
from tests.integration.store.store_test_helpers import T0, Backend, add, new_event

pytestmark = pytest.mark.anyio

LEASE = 30.0


async def test_accept_stores_and_dedupes(store: SqlEventStore) -> None:
    first = await store.accept(new_event("k1", ticket_id=42, payload={"a": [1, "x"]}))
    again = await store.accept(new_event("k1", ticket_id=99, payload={"other": True}))
    second = await store.accept(new_event("k2", ticket_id=42))

    assert not first.duplicate and not second.duplicate
    assert again.duplicate and again.event_id == first.event_id
    assert second.event_id > first.event_id

    stored = await store.get_event(first.event_id)
    assert stored is not None
    assert stored.dedupe_key == "k1"
    assert stored.source == "event_subscription"
    assert stored.event_type == "zen:event-type:ticket.status_changed"
    assert stored.ticket_id == 42
    assert stored.payload == {"a": [1, "x"]}  # the first delivery wins
    assert stored.status is EventStatus.PENDING
    assert stored.priority is Priority.LIVE
    assert stored.attempts == 0
    assert stored.received_at == T0 and stored.received_at.tzinfo is UTC
    assert stored.available_at == T0
    assert stored.lease_owner is None and stored.lease_until is None
    assert await store.get_event(10_000) is None


async def test_big_ticket_ids_and_no_ticket(store: SqlEventStore) -> None:
    big = await store.accept(new_event("big", ticket_id=2**40 + 7))
    none = await store.accept(new_event("none", ticket_id=None))
    assert (await store.get_event(big.event_id)).ticket_id == 2**40 + 7  # type: ignore[union-attr]
    assert (await store.get_event(none.event_id)).ticket_id is None  # type: ignore[union-attr]


async def test_datetimes_are_utc_whatever_zone_comes_in(store: SqlEventStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = T0.astimezone(plus_two)
    result = await store.accept(new_event("tz", received_at=local))
    stored = await store.get_event(result.event_id)
    assert stored is not None
    assert stored.received_at == T0
    assert stored.received_at.utcoffset() == timedelta(0)

    with pytest.raises((ValueError, sa_exc.StatementError), match="naive"):
        await store.accept(new_event("naive", received_at=T0.replace(tzinfo=None)))


async def test_ignored_events_are_stored_but_never_claimed(store: SqlEventStore) -> None:
    ignored = await store.accept(new_event("ign", ticket_id=1, processable=False))
    stored = await store.get_event(ignored.event_id)
    assert stored is not None and stored.status is EventStatus.IGNORED
    assert await store.claim("w", limit=10, lease_seconds=LEASE, now=T0 + timedelta(hours=1)) == []
    assert (await store.accept(new_event("ign", ticket_id=1))).duplicate


async def test_claim_orders_by_priority_then_age(store: SqlEventStore) -> None:
    ids = {}
    ids["backfill_old"] = await add(
        store, "b", priority=Priority.BACKFILL, received_at=T0 - timedelta(minutes=9)
    )
    ids["live_new"] = await add(store, "l2", received_at=T0 - timedelta(minutes=1))
    ids["replay"] = await add(
        store, "r", priority=Priority.REPLAY, received_at=T0 - timedelta(minutes=5)
    )
    ids["live_old"] = await add(store, "l1", received_at=T0 - timedelta(minutes=2))
    ids["future"] = await add(store, "f", received_at=T0 + timedelta(seconds=10))

    claimed = await store.claim("w1", limit=3, lease_seconds=LEASE, now=T0)
    assert [e.id for e in claimed] == [ids["live_old"], ids["live_new"], ids["replay"]]
    for event in claimed:
        assert event.status is EventStatus.LEASED
        assert event.lease_owner == "w1"
        assert event.lease_until == T0 + timedelta(seconds=LEASE)

    rest = await store.claim("w2", limit=10, lease_seconds=LEASE, now=T0)
    assert [e.id for e in rest] == [ids["backfill_old"]]  # "future" is not available yet
    assert await store.claim("w2", limit=10, lease_seconds=LEASE, now=T0) == []
    # 10 s later: the leases taken above still hold
    ten_s = T0 + timedelta(seconds=10)
    later = await store.claim("w2", limit=10, lease_seconds=LEASE, now=ten_s)
    assert [e.id for e in later] == [ids["future"]]
    assert await store.claim("w3", limit=0, lease_seconds=LEASE, now=T0) == []


async def test_expired_lease_is_claimed_again(store: SqlEventStore) -> None:
    event_id = await add(store, "e", ticket_id=7)
    [first] = await store.claim("crashed", limit=5, lease_seconds=LEASE, now=T0)
    before_expiry = T0 + timedelta(seconds=29)
    assert await store.claim("w2", limit=5, lease_seconds=LEASE, now=before_expiry) == []
    # exactly at lease_until the lease still holds
    at_edge = T0 + timedelta(seconds=LEASE)
    assert await store.claim("w2", limit=5, lease_seconds=LEASE, now=at_edge) == []

    later = T0 + timedelta(seconds=31)
    [again] = await store.claim("w2", limit=5, lease_seconds=LEASE, now=later)
    assert again.id == first.id == event_id
    assert again.lease_owner == "w2"
    assert again.lease_until == later + timedelta(seconds=LEASE)
    # the crash is counted apart: it is no failure of the event (issue 16)
    assert (again.attempts, again.lease_expiries) == (0, 1)
    assert again.last_error is not None and "crashed" in again.last_error

    assert not await store.complete(event_id, "crashed")
    assert await store.complete(event_id, "w2")
    done = await store.get_event(event_id)
    assert done is not None and done.status is EventStatus.DONE and done.lease_until is None


async def test_never_two_events_of_one_ticket_leased(store: SqlEventStore) -> None:
    first = await add(store, "t1-a", ticket_id=1)
    second = await add(store, "t1-b", ticket_id=1, received_at=T0 + timedelta(seconds=1))
    other = await add(store, "t2-a", ticket_id=2)
    loose_a = await add(store, "none-a")
    loose_b = await add(store, "none-b")
    now = T0 + timedelta(seconds=5)

    claimed = await store.claim("w1", limit=10, lease_seconds=LEASE, now=now)
    assert {e.id for e in claimed} == {first, other, loose_a, loose_b}  # one per ticket

    assert await store.claim("w2", limit=10, lease_seconds=LEASE, now=now) == []
    assert await store.release(other, "w1")  # ticket 2 is free again, ticket 1 is not
    assert [e.id for e in await store.claim("w2", limit=10, lease_seconds=LEASE, now=now)] == [
        other
    ]

    assert await store.complete(first, "w1")
    [next_of_ticket] = await store.claim("w3", limit=10, lease_seconds=LEASE, now=now)
    assert next_of_ticket.id == second


async def test_one_per_ticket_takes_the_first_in_claim_order(store: SqlEventStore) -> None:
    late = await add(store, "late", ticket_id=5, received_at=T0)
    early = await add(store, "early", ticket_id=5, received_at=T0 - timedelta(minutes=1))
    backfill = await add(
        store, "bf", ticket_id=6, priority=Priority.BACKFILL, received_at=T0 - timedelta(hours=1)
    )
    live = await add(store, "live", ticket_id=6, received_at=T0)

    claimed = await store.claim("w", limit=10, lease_seconds=LEASE, now=T0)
    assert [e.id for e in claimed] == [early, live]
    assert late not in {e.id for e in claimed} and backfill not in {e.id for e in claimed}


async def test_retry_of_one_event_lets_the_ticket_move_on(store: SqlEventStore) -> None:
    first = await add(store, "a", ticket_id=3)
    second = await add(store, "b", ticket_id=3, received_at=T0 + timedelta(seconds=1))
    now = T0 + timedelta(seconds=2)
    [claimed] = await store.claim("w", limit=5, lease_seconds=LEASE, now=now)
    assert claimed.id == first
    assert await store.fail(first, "w", error="429", retry_at=now + timedelta(minutes=5))
    [next_one] = await store.claim("w", limit=5, lease_seconds=3600, now=now)
    assert next_one.id == second
    # the retry of `first` waits until `second` is no longer leased
    retry_time = now + timedelta(minutes=6)
    assert await store.claim("w", limit=5, lease_seconds=LEASE, now=retry_time) == []
    assert await store.complete(second, "w")
    [retried] = await store.claim("w", limit=5, lease_seconds=LEASE, now=retry_time)
    assert retried.id == first and retried.attempts == 1


async def test_only_the_lease_holder_may_act(store: SqlEventStore) -> None:
    event_id = await add(store, "own", ticket_id=9)
    pending_only = await add(store, "pending", ticket_id=10)
    await store.claim("me", limit=1, lease_seconds=LEASE, now=T0)
    retry_at = T0 + timedelta(minutes=1)

    assert not await store.complete(event_id, "you")
    assert not await store.fail(event_id, "you", error="x", retry_at=retry_at)
    assert not await store.dead_letter(event_id, "you", reason="x")
    assert not await store.release(event_id, "you")
    assert not await store.extend_lease(event_id, "you", lease_seconds=LEASE, now=T0)
    # not leased at all
    assert not await store.complete(pending_only, "me")
    assert not await store.release(pending_only, "me")
    assert not await store.complete(123_456, "me")

    untouched = await store.get_event(event_id)
    assert untouched is not None
    assert untouched.status is EventStatus.LEASED and untouched.lease_owner == "me"
    assert untouched.attempts == 0

    assert await store.complete(event_id, "me")
    assert not await store.complete(event_id, "me")  # done is done
    assert not await store.fail(event_id, "me", error="late", retry_at=retry_at)


async def test_extend_lease_keeps_the_event(store: SqlEventStore) -> None:
    event_id = await add(store, "long")
    await store.claim("slow", limit=1, lease_seconds=LEASE, now=T0)
    t1 = T0 + timedelta(seconds=20)
    assert await store.extend_lease(event_id, "slow", lease_seconds=LEASE, now=t1)
    t2 = T0 + timedelta(seconds=40)  # past the first lease, inside the extended one
    assert await store.claim("other", limit=1, lease_seconds=LEASE, now=t2) == []
    stored = await store.get_event(event_id)
    assert stored is not None and stored.lease_until == t1 + timedelta(seconds=LEASE)


async def test_extend_leases_extends_a_batch_at_once_and_only_what_the_owner_holds(
    store: SqlEventStore,
) -> None:
    ids = [await add(store, f"batch{i}", ticket_id=100 + i) for i in range(3)]
    other = await add(store, "someone-else", ticket_id=200)
    claimed = await store.claim("batch", limit=3, lease_seconds=LEASE, now=T0)
    assert sorted(e.id for e in claimed) == ids
    await store.claim("other", limit=1, lease_seconds=LEASE, now=T0)
    assert await store.complete(ids[2], "batch")  # done: no lease to extend
    t1 = T0 + timedelta(seconds=20)
    extended = await store.extend_leases([*ids, other], "batch", lease_seconds=LEASE, now=t1)
    assert extended == {ids[0], ids[1]}
    assert await store.extend_leases([], "batch", lease_seconds=LEASE, now=t1) == set()
    for event_id in ids[:2]:
        stored = await store.get_event(event_id)
        assert stored is not None and stored.lease_until == t1 + timedelta(seconds=LEASE)
    theirs = await store.get_event(other)
    assert theirs is not None and theirs.lease_until == T0 + timedelta(seconds=LEASE)


async def test_fail_counts_and_respects_retry_at(store: SqlEventStore) -> None:
    event_id = await add(store, "flaky", ticket_id=4)
    await store.claim("w", limit=1, lease_seconds=LEASE, now=T0)
    retry_at = T0 + timedelta(minutes=2)
    assert await store.fail(event_id, "w", error="Zendesk 503", retry_at=retry_at)

    failed = await store.get_event(event_id)
    assert failed is not None
    assert failed.status is EventStatus.PENDING
    assert failed.attempts == 1
    assert failed.available_at == retry_at
    assert failed.last_error == "Zendesk 503"
    assert failed.lease_owner is None and failed.lease_until is None

    just_before = retry_at - timedelta(seconds=1)
    assert await store.claim("w", limit=1, lease_seconds=LEASE, now=just_before) == []
    [again] = await store.claim("w", limit=1, lease_seconds=LEASE, now=retry_at)
    assert again.id == event_id and again.attempts == 1
    assert await store.fail(event_id, "w", error="again", retry_at=retry_at)
    assert (await store.get_event(event_id)).attempts == 2  # type: ignore[union-attr]


async def test_release_gives_back_without_an_attempt(store: SqlEventStore) -> None:
    event_id = await add(store, "shutdown", ticket_id=8)
    await store.claim("w", limit=1, lease_seconds=LEASE, now=T0)
    assert await store.release(event_id, "w")
    released = await store.get_event(event_id)
    assert released is not None
    assert released.status is EventStatus.PENDING and released.attempts == 0
    assert released.lease_owner is None and released.available_at == T0
    [again] = await store.claim("w2", limit=1, lease_seconds=LEASE, now=T0)
    assert again.id == event_id


async def test_dead_letters_retry_and_discard(store: SqlEventStore) -> None:
    a = await add(store, "a", ticket_id=1)
    b = await add(store, "b", ticket_id=2)
    await store.claim("w", limit=2, lease_seconds=LEASE, now=T0)
    assert await store.fail(a, "w", error="first try", retry_at=T0)
    await store.claim("w", limit=2, lease_seconds=LEASE, now=T0)
    assert await store.dead_letter(a, "w", reason="422 invalid group")
    assert await store.dead_letter(b, "w", reason="ticket deleted")

    dead = await store.get_event(a)
    assert dead is not None
    assert dead.status is EventStatus.DEAD and dead.last_error == "422 invalid group"
    assert dead.attempts == 2
    assert not await store.dead_letter(a, "w", reason="again")  # no longer leased
    assert [e.id for e in await store.list_events(status=EventStatus.DEAD)] == [b, a]
    assert await store.claim("w", limit=5, lease_seconds=LEASE, now=T0 + timedelta(days=1)) == []

    later = T0 + timedelta(hours=1)
    assert await store.retry_dead(a, now=later)
    retried = await store.get_event(a)
    assert retried is not None
    assert retried.status is EventStatus.PENDING
    assert retried.attempts == 0 and retried.available_at == later
    assert not await store.retry_dead(a, now=later)  # not dead any more
    [claimed] = await store.claim("w", limit=5, lease_seconds=LEASE, now=later)
    assert claimed.id == a

    assert await store.discard_dead(b, reason="ticket was deleted by the customer")
    discarded = await store.get_event(b)
    assert discarded is not None and discarded.status is EventStatus.DISCARDED
    assert discarded.last_error is not None
    assert "ticket was deleted by the customer" in discarded.last_error
    assert "ticket deleted" in discarded.last_error  # the dead-letter reason is kept
    assert not await store.discard_dead(b, reason="twice")
    assert not await store.discard_dead(a, reason="leased, not dead")
    assert not await store.retry_dead(b, now=later)


async def test_list_events_newest_first_with_filters_and_paging(store: SqlEventStore) -> None:
    ids = [await add(store, f"e{i}", ticket_id=100 + i % 3) for i in range(10)]
    await store.accept(new_event("ignored", ticket_id=100, processable=False))

    everything = await store.list_events(limit=100)
    assert [e.id for e in everything][1:] == list(reversed(ids))
    assert everything[0].status is EventStatus.IGNORED

    page1 = await store.list_events(limit=4)
    page2 = await store.list_events(limit=4, before_id=page1[-1].id)
    page3 = await store.list_events(limit=4, before_id=page2[-1].id)
    paged = [e.id for e in page1 + page2 + page3]
    assert paged == [e.id for e in everything]
    assert await store.list_events(limit=4, before_id=min(ids)) == []

    ticket_100 = await store.list_events(ticket_id=100)
    assert [e.id for e in ticket_100][1:] == [ids[9], ids[6], ids[3], ids[0]]
    pending_100 = await store.list_events(ticket_id=100, status=EventStatus.PENDING, limit=2)
    assert [e.id for e in pending_100] == [ids[9], ids[6]]
    assert [e.id for e in await store.list_events(status=EventStatus.IGNORED)] == [everything[0].id]
    assert await store.list_events(status=EventStatus.DONE) == []
    assert await store.list_events(limit=0) == []


async def test_counts_and_oldest_pending_age(store: SqlEventStore) -> None:
    assert await store.oldest_pending_age(T0) is None
    counts = await store.counts()
    assert counts == {status.value: 0 for status in EventStatus}

    await store.accept(new_event("old", ticket_id=1, received_at=T0 - timedelta(minutes=10)))
    await store.accept(new_event("new", ticket_id=2, received_at=T0 - timedelta(minutes=1)))
    await store.accept(new_event("later", ticket_id=3, received_at=T0 + timedelta(minutes=5)))
    await store.accept(new_event("ign", processable=False))
    assert await store.oldest_pending_age(T0) == pytest.approx(600.0)

    [oldest] = await store.claim("w", limit=1, lease_seconds=LEASE, now=T0)
    assert await store.oldest_pending_age(T0) == pytest.approx(60.0)
    await store.complete(oldest.id, "w")
    counts = await store.counts()
    assert counts["pending"] == 2 and counts["done"] == 1 and counts["ignored"] == 1
    assert counts["leased"] == counts["dead"] == counts["discarded"] == 0
    assert sum(counts.values()) == 4


async def test_decision_history(store: SqlEventStore) -> None:
    event_id = await add(store, "d", ticket_id=5100001)
    first = DecisionRecord(
        ticket_id=5100001,
        event_id=event_id,
        policy_version="sha256:aaa",
        facts={"ticket": {"id": 5100001, "status": "new"}},
        decision={"queue": "Mediation_Tier_1_CX420", "eligible": True},
        writes=[{"kind": "ticket_update", "status": 200}],
        outcome="applied",
        decided_at=T0,
    )
    first_id = await store.record_decision(first)
    second_id = await store.record_decision(
        DecisionRecord(
            ticket_id=5100001,
            event_id=None,
            policy_version="sha256:bbb",
            facts={},
            decision={"queue": None},
            outcome="noop",
            decided_at=T0 + timedelta(minutes=1),
        )
    )
    other_id = await store.record_decision(
        DecisionRecord(ticket_id=7, event_id=None, policy_version="v", facts={}, decision={})
    )
    assert first_id < second_id < other_id

    history = await store.decisions_for_ticket(5100001)
    assert [d.id for d in history] == [second_id, first_id]
    assert history[1] == DecisionRecord(
        ticket_id=5100001,
        event_id=event_id,
        policy_version="sha256:aaa",
        facts={"ticket": {"id": 5100001, "status": "new"}},
        decision={"queue": "Mediation_Tier_1_CX420", "eligible": True},
        writes=[{"kind": "ticket_update", "status": 200}],
        outcome="applied",
        decided_at=T0,
        id=first_id,
    )
    assert history[0].writes == [] and history[0].outcome == "noop"
    assert [d.id for d in await store.decisions_for_ticket(5100001, limit=1)] == [second_id]
    assert await store.decisions_for_ticket(1) == []

    recent = await store.recent_decisions(limit=10)
    assert [d.id for d in recent] == [other_id, second_id, first_id]  # other: decided now
    assert recent[0].decided_at is not None and recent[0].decided_at.tzinfo is UTC


async def test_kv_upsert(store: SqlEventStore) -> None:
    assert await store.get_kv("export_cursor") is None
    await store.set_kv("export_cursor", "abc")
    await store.set_kv("other", "1")
    await store.set_kv("export_cursor", "def")
    assert await store.get_kv("export_cursor") == "def"
    assert await store.get_kv("other") == "1"


async def test_update_kv_is_one_read_modify_write(store: SqlEventStore) -> None:
    seen: list[str | None] = []

    def append(item: str) -> Callable[[str | None], str]:
        def change(raw: str | None) -> str:
            seen.append(raw)
            return json.dumps([*json.loads(raw or "[]"), item])

        return change

    assert await store.update_kv("log", append("a")) == '["a"]'
    assert seen == [None]  # missing key: the change sees None
    assert await store.update_kv("log", append("b")) == '["a", "b"]'
    await store.set_kv("empty", "")
    assert await store.update_kv("empty", lambda raw: f"was {raw!r}") == "was ''"


async def test_update_kv_from_two_stores_at_once_loses_nothing(backend: Backend) -> None:
    """Two processes' stores appending to one list: every item is kept."""
    first, second = await backend.open(), await backend.open()
    try:

        async def add(store: SqlEventStore, item: str) -> None:
            await store.update_kv(
                "shared", lambda raw: json.dumps([*json.loads(raw or "[]"), item])
            )

        await asyncio.gather(*(add(first if i % 2 else second, f"item{i}") for i in range(40)))
        stored = json.loads(await first.get_kv("shared") or "[]")
        assert sorted(stored) == sorted(f"item{i}" for i in range(40))
    finally:
        await first.close()
        await second.close()


async def test_concurrent_accepts_are_group_committed_with_one_by_one_semantics(
    store: SqlEventStore,
) -> None:
    """Accepts arriving together share a transaction (group_commit.py): duplicates
    within the batch and of stored events carry the first id."""
    earlier = await store.accept(new_event("seen-before", ticket_id=1))
    keys = ["a", "b", "a", "seen-before", "b", "a", "c"]
    results = await asyncio.gather(
        *(store.accept(new_event(k, ticket_id=10 + i)) for i, k in enumerate(keys))
    )
    first: dict[str, int] = {"seen-before": earlier.event_id}
    for key, result in zip(keys, results, strict=True):
        if key in first:
            assert result.duplicate and result.event_id == first[key], key
        else:
            assert not result.duplicate
            first[key] = result.event_id
    assert (await store.counts())["pending"] == 4
    burst = await asyncio.gather(*(store.accept(new_event(f"burst{i}")) for i in range(300)))
    assert len({r.event_id for r in burst}) == 300 and not any(r.duplicate for r in burst)


async def test_ping(store: SqlEventStore) -> None:
    await store.ping()
