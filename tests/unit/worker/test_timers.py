"""The worker's side of the case clock: which timers a decision asks for, how a timer's
re-decision is told apart, and the poller's pace (on a real SQLite store)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from app.routing import Decision, TicketFacts, decide, default_policy_path, load_policy
from app.store import NewEvent, Priority, StoredEvent, TimerSpec, open_store
from app.store.base import EventStatus
from app.worker.timers import TimerPoller, annotate_timer, is_timer_event, timer_specs

D = dt.date
FACTS = {
    "ticket": {"id": 9, "channel": "email"},
    "requester_role": "client",
    "inquiry": "dispute",
    "contract": {
        "id": "C-9",
        "type": "fixed_price",
        "status": "closed",
        "funds_in_escrow": "300.00",
        "payments": [],
        "refund_request": {"status": "pending", "requested_on": "2024-05-07"},
    },
    "client": {"username": "a", "segment": "VSB"},
}


def decision_on(day: dt.date) -> Decision:
    policy = load_policy(default_policy_path())
    return decide(TicketFacts.model_validate(FACTS), policy, day)


def event(source: str, payload: dict[str, object]) -> StoredEvent:
    moment = dt.datetime(2024, 5, 15, tzinfo=dt.UTC)
    return StoredEvent(
        1, "k", source, source, 9, payload, EventStatus.LEASED, Priority.TIMER, 0, moment, moment
    )


def test_a_running_clock_asks_for_a_timer_at_the_midnight_after_its_last_day() -> None:
    [spec] = timer_specs(decision_on(D(2024, 5, 10)))
    assert spec.kind == "refund_response" and spec.due_on == D(2024, 5, 14)
    assert spec.fire_at == dt.datetime(2024, 5, 15, tzinfo=dt.UTC)
    assert spec.then == "the escrow goes back to the client"


def test_a_clock_that_is_over_asks_for_none() -> None:
    assert timer_specs(decision_on(D(2024, 5, 15))) == []
    running = decision_on(D(2024, 5, 10))
    no_timer = running.model_copy(
        update={"deadlines": [d.model_copy(update={"timer": False}) for d in running.deadlines]}
    )
    assert timer_specs(no_timer) == [] and timer_specs(None) == []


def test_the_history_says_which_deadline_fired() -> None:
    decision = decision_on(D(2024, 5, 15)).model_dump(mode="json")
    timer = {"id": 4, "kind": "refund_response", "generation": 1, "due_on": "2024-05-14"}
    fired = event("timer", {"ticket_id": 9, "timer": timer})
    assert is_timer_event(fired) and not is_timer_event(event("trigger", {"ticket_id": 9}))
    assert annotate_timer(decision, fired) is decision
    assert decision["trigger"] == {"kind": "timer", "deadline": "refund_response", "timer": timer}
    first = decision["trace"][0]
    assert first["step"] == "timer" and "refund_response" in first["why"]
    plain = decision_on(D(2024, 5, 15)).model_dump(mode="json")
    annotate_timer(plain, event("trigger", {"ticket_id": 9}))
    assert "trigger" not in plain


def test_the_poller_fires_due_timers_at_most_once_per_interval(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int, int, list[StoredEvent]]:
        store = await open_store(f"sqlite:///{tmp_path / 'triage.db'}")
        now = dt.datetime(2024, 5, 15, 0, 0, 1, tzinfo=dt.UTC)
        clock = [now]
        spec = TimerSpec("refund_response", D(2024, 5, 14), now, "w", "t")
        later = TimerSpec("in_product_review", D(2024, 5, 14), now, "w", "t")
        try:
            await store.set_timers(9, [spec], policy_version="v", decision_id=None)
            fired: list[int] = []
            poller = TimerPoller(store, lambda: clock[0], interval=3600, on_fired=fired.append)
            first = await poller.poll()
            await store.set_timers(10, [later], policy_version="v", decision_id=None)
            second = await poller.poll()  # within the interval: does not look
            poller.interval = 0
            third = await poller.poll()
            await store.accept(NewEvent("live", "trigger", "trigger", 11, {}, now, Priority.LIVE))
            claimed = await store.claim("w", limit=5, lease_seconds=30, now=now)
            assert fired == [1, 1]
            return first, second, third, claimed
        finally:
            await store.close()

    first, second, third, claimed = asyncio.run(scenario())
    assert (first, second, third) == (1, 0, 1)
    assert [e.priority for e in claimed] == [Priority.LIVE, Priority.TIMER, Priority.TIMER]
