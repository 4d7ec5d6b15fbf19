"""`app.replays.policy_diff`: the pure comparison behind POST /admin/policy/diff (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.replays.policy_diff import (
    ASPECTS,
    Sample,
    compare,
    diff_policies,
    latest_per_ticket,
    outcome,
    samples_from_records,
)
from app.routing import Policy, TicketFacts, decide, default_policy_path, load_policy
from app.routing.policy_loader import parse_policy
from app.store import DecisionRecord
from tests.integration.admin.admin_helpers import hourly_facts, policy_text_with_mediation_window

TODAY = date(2024, 6, 12)


@pytest.fixture(scope="module")
def current() -> Policy:
    return load_policy(default_policy_path())


@pytest.fixture(scope="module")
def window_20() -> Policy:
    return parse_policy(policy_text_with_mediation_window(20).encode(), "candidate.yaml")


def sample(ticket_id: int, days: int, on: date = TODAY) -> Sample:
    return Sample(ticket_id, TicketFacts.model_validate(hourly_facts(ticket_id, on, days)), on)


def record(
    ticket_id: int, facts: dict[str, Any], decided_at: datetime | None, id: int
) -> DecisionRecord:
    return DecisionRecord(
        ticket_id=ticket_id,
        event_id=None,
        policy_version="sha256:x",
        facts=facts,
        decision={},
        decided_at=decided_at,
        id=id,
    )


def test_same_policy_changes_nothing(current: Policy) -> None:
    report = diff_policies([sample(1, 25), sample(2, 45)], current=current, candidate=current)
    assert (report.compared, report.changed, report.unchanged, report.problems) == (2, [], 2, [])


def test_shorter_window_moves_the_ticket_paid_between_the_windows(
    current: Policy, window_20: Policy
) -> None:
    report = diff_policies(
        [sample(1, 25), sample(2, 10), sample(3, 45)], current=current, candidate=window_20
    )
    assert report.current["version"] == current.version
    assert report.candidate["version"] == window_20.version != current.version
    moved = {d.ticket_id: d for d in report.changed}
    diff = moved[1].as_json()["diff"]
    assert diff["queue"] == {"before": "Mediation_Tier_1_CX420", "after": "Client Retention Tier 2"}
    assert diff["eligible"] == {"before": True, "after": False}
    assert diff["macro"]["before"] == "CS > Mediation Ticket" and diff["macro"]["after"] is None
    assert "notes" in diff and "status" not in diff  # open either way
    # Paid 10 or 45 days ago: same side of both windows, same queue, status, macro;
    # only the window the eligibility code and the note name changes.
    assert moved[2].aspects == moved[3].aspects == ["eligibility", "notes"]
    assert moved[2].as_json()["diff"]["eligibility"] == {
        "before": "within_30_days",
        "after": "within_20_days",
    }
    assert moved[3].as_json()["diff"]["eligibility"]["after"] == "past_20_days"


def test_outcome_and_compare_cover_every_aspect(current: Policy) -> None:
    decision = decide(TicketFacts.model_validate(hourly_facts(1, TODAY, 10)), current, TODAY)
    before = outcome(decision)
    assert tuple(before) == ASPECTS
    after = before | {"queue": "Mediation T2", "notes": []}
    changes = compare(before, after)
    assert [c.aspect for c in changes] == ["queue", "notes"]
    assert changes[0].before == "Mediation_Tier_1_CX420" and changes[0].after == "Mediation T2"


def test_records_become_samples_of_the_latest_decision_per_ticket() -> None:
    old = datetime(2024, 6, 1, 9, tzinfo=UTC)
    new = datetime(2024, 6, 10, 9, tzinfo=UTC)
    records = [
        record(1, hourly_facts(1, TODAY, 5), new, 30),
        record(2, {"not": "facts"}, new, 20),
        record(1, hourly_facts(1, TODAY, 50), old, 10),
        record(3, hourly_facts(3, TODAY, 5), None, 5),
    ]
    assert [r.id for r in latest_per_ticket(records)] == [30, 20, 5]
    samples, problems = samples_from_records(records, as_of=None, fallback_day=TODAY)
    assert [(s.ticket_id, s.decision_id, s.on) for s in samples] == [
        (1, 30, date(2024, 6, 10)),
        (3, 5, TODAY),
    ]
    assert [(p.ticket_id, p.decision_id) for p in problems] == [(2, 20)]
    assert "do not validate" in problems[0].error
    pinned, _ = samples_from_records(records, as_of=date(2024, 1, 1), fallback_day=TODAY)
    assert {s.on for s in pinned} == {date(2024, 1, 1)}


def test_a_decision_that_raises_is_a_problem_not_a_crash(
    current: Policy, window_20: Policy
) -> None:
    class Exploding(TicketFacts):
        def __getattribute__(self, name: str) -> Any:
            if name == "contract":
                raise RuntimeError("boom")
            return super().__getattribute__(name)

    bad = Sample(9, Exploding.model_validate(hourly_facts(9, TODAY, 25)), TODAY, 99)
    report = diff_policies([bad, sample(1, 25)], current=current, candidate=window_20)
    assert [(p.ticket_id, p.decision_id) for p in report.problems] == [(9, 99)]
    assert "RuntimeError: boom" in report.problems[0].error
    assert report.compared == 1 and [d.ticket_id for d in report.changed] == [1]


def test_a_candidate_shows_the_deadlines_it_would_move(current: Policy) -> None:
    """A longer refund-response window moves the freelancer's due day (and the timer)."""
    text = default_policy_path().read_text()
    longer = text.replace("  refund_response: 7 ", "  refund_response: 10 ", 1)
    assert longer != text
    candidate = parse_policy(longer.encode(), "candidate.yaml")
    facts = hourly_facts(1, TODAY, 10) | {
        "contract": {
            "id": "C-1",
            "type": "fixed_price",
            "status": "closed",
            "payments": [],
            "funds_in_escrow": "300.00",
            "refund_request": {"status": "pending", "requested_on": "2024-06-10"},
        }
    }
    report = diff_policies(
        [Sample(1, TicketFacts.model_validate(facts), TODAY)], current=current, candidate=candidate
    )
    [changed] = report.changed
    assert "deadlines" in changed.aspects
    assert changed.as_json()["deadlines_moved"] == [
        {
            "kind": "refund_response",
            "due_before": "2024-06-17",
            "due_after": "2024-06-20",
            "over_before": False,
            "over_after": False,
        }
    ]
