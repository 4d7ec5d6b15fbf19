"""The playbook's clocks as data: the deadlines a decision lists, in the note's words.

Table tests from the playbook's words; `now` is the decision's day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from app.routing import PolicyError, default_policy_path, load_policy
from app.routing.calendar import plain_day
from app.routing.deadline_specs import days_of, length_of
from app.routing.deadlines import make
from tests.unit.routing.factories import (
    ago,
    default_policy,
    facts_factory,
    paid,
    policy_variant,
    run,
)

D = dt.date
REQUESTED = D(2024, 5, 7)  # a Tuesday
refund_case = facts_factory(
    contract__type="fixed_price",
    contract__status="closed",
    contract__payments=[],
    contract__funds_in_escrow="300.00",
    contract__refund_request={"status": "pending", "requested_on": REQUESTED.isoformat()},
)


def note_of(decision: Any) -> str:
    return "\n".join(n.body for n in decision.notes)


@pytest.mark.parametrize(
    ("now", "over"),
    [(D(2024, 5, 10), False), (D(2024, 5, 14), False), (D(2024, 5, 15), True)],
    ids=["day_3", "day_7_is_inside", "day_8_lapsed"],
)
def test_refund_request_seven_calendar_days(now: dt.date, over: bool) -> None:
    """'The freelancer has 7 calendar days to accept/reject that request.'"""
    decision = run(refund_case(), now=now)
    [deadline] = decision.deadlines
    assert (deadline.kind, deadline.due, deadline.over) == ("refund_response", D(2024, 5, 14), over)
    assert deadline.over_at == dt.datetime(2024, 5, 15, tzinfo=dt.UTC)
    assert (deadline.length, deadline.days) == (7, "calendar")
    assert deadline.then == "the escrow goes back to the client"
    assert deadline.plain in note_of(decision)


def test_running_refund_clock_in_plain_words() -> None:
    decision = run(refund_case(), now=D(2024, 5, 10))
    assert decision.path == "refund_request_pending"
    assert (
        "Deadline: The freelancer has until Tue 14 May 2024 to respond in-product; "
        "after that the escrow goes back to the client." in note_of(decision)
    )


def test_lapsed_refund_request_refunds_the_escrow() -> None:
    """'The FL fails to respond in-product within 7 days - escrow is refunded to the client'"""
    decision = run(refund_case(), now=D(2024, 5, 15))
    assert decision.eligibility.code == "escrow_refunded_to_client"
    assert "lapsed" in decision.eligibility.explanation
    assert (
        "The freelancer's 7 days to respond in-product are over (they ended Tue 14 May 2024): "
        "the escrow goes back to the client." in note_of(decision)
    )


def test_the_note_does_not_change_while_the_clock_runs() -> None:
    """Acting again only on new facts or a deadline: a day passing changes nothing."""
    notes = {note_of(run(refund_case(), now=REQUESTED + dt.timedelta(days=n))) for n in range(8)}
    assert len(notes) == 1


@pytest.mark.parametrize(
    ("kind", "due"),
    [("calendar", D(2024, 6, 11)), ("business", D(2024, 6, 13))],
    ids=["4_calendar_days", "4_business_days"],
)
def test_in_product_review_window(kind: str, due: dt.date) -> None:
    """'cases usually close/solve within 4 calendar days' (policy: calendar or business)."""
    facts = facts_factory(
        inquiry="follow_up",
        dispute__in_product={"status": "under_review", "filed_on": "2024-06-07"},
    )()
    policy = policy_variant(timeframes__in_product_review_day_kind=kind)
    decision = run(facts, policy=policy, now=D(2024, 6, 10))
    [deadline] = decision.deadlines
    assert (deadline.kind, deadline.days, deadline.due) == ("in_product_review", kind, due)
    assert deadline.calendar == ("US" if kind == "business" else None)
    assert "Client Retention Tier 2" in deadline.plain


def test_close_first_advice_holds_while_the_mediation_window_runs() -> None:
    """'if the funds were released within the last 30 days ... closing out the contract FIRST'"""
    facts = facts_factory(
        contract__type="fixed_price",
        contract__status="active",
        contract__payments=paid(10, kind="milestone"),
    )()
    decision = run(facts)
    assert decision.path == "close_contract_first"
    [deadline] = decision.deadlines
    assert deadline.kind == "mediation_window"
    assert deadline.start == D.fromisoformat(ago(10)) and deadline.due == D(2024, 7, 2)


def test_decisions_without_a_clock_list_none() -> None:
    decision = run(facts_factory()())
    assert decision.deadlines == [] and "Deadline:" not in note_of(decision)


def test_every_clock_of_the_policy_renders_both_ways() -> None:
    policy = default_policy()
    for kind in policy.deadlines:
        running = make(policy, kind, D(2024, 12, 27), D(2024, 12, 27))
        over = make(policy, kind, D(2024, 12, 27), D(2025, 6, 1))
        assert not running.over and over.over
        assert plain_day(running.due) in running.plain and plain_day(over.due) in over.plain
        assert running.plain != over.plain


def test_business_clock_skips_holidays() -> None:
    """'they have 1 business day to review': Wed 27 Nov 2024 -> Fri 29 Nov (Thanksgiving)."""
    deadline = make(default_policy(), "disputes_team_review", D(2024, 11, 27), D(2024, 11, 27))
    assert deadline.due == D(2024, 11, 29) and deadline.calendar == "US"


def test_a_clock_may_name_its_own_calendar() -> None:
    policy = policy_variant(
        deadlines__disputes_team_review__calendar={
            "holiday_country": "US",
            "holiday_subdivision": "CA",
        }
    )
    # Cesar Chavez Day, Mon 31 Mar 2025, is a California holiday
    deadline = make(policy, "disputes_team_review", D(2025, 3, 28), D(2025, 3, 28))
    assert deadline.due == D(2025, 4, 1) and deadline.calendar == "US-CA"


def test_lengths_refer_to_the_one_place_of_the_number() -> None:
    policy = policy_variant(windows__refund_response=9)
    spec = policy.deadlines["refund_response"]
    assert length_of(policy, spec) == 9 and days_of(policy, spec) == "calendar"
    [deadline] = run(refund_case(), policy=policy, now=D(2024, 5, 10)).deadlines
    assert deadline.due == D(2024, 5, 16)


def test_a_tag_per_clock_when_the_policy_asks() -> None:
    policy = policy_variant(deadlines__refund_response__tag="triage_clock_refund")
    running = run(refund_case(), policy=policy, now=D(2024, 5, 10))
    assert "triage_clock_refund" in running.tags.add
    over = run(refund_case(ticket__tags=["triage_clock_refund"]), policy=policy, now=D(2024, 5, 15))
    assert "triage_clock_refund" not in over.tags.add
    assert "triage_clock_refund" in over.tags.remove


@pytest.mark.parametrize(
    ("anchor", "replacement", "message"),
    [
        ("    length: windows.refund_response", "    length: windows.refund", "no key 'refund'"),
        ("    length: windows.refund_response", "    length: seven", "give a number"),
        ("    days: timeframes.in_product", "    days: timeframes.nope", "no key 'nope'"),
        (
            '    running: "The freelancer has until',
            '    running: "The freelancer has until {{ deadline }}."',
            "unknown variable",
        ),
    ],
    ids=["unknown_window", "not_a_reference", "unknown_timeframe", "template_variable"],
)
def test_bad_clocks_name_file_and_line(
    tmp_path: Path, anchor: str, replacement: str, message: str
) -> None:
    lines = default_policy_path().read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(anchor))
    lines[index] = replacement
    path = tmp_path / "policy.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.line == index + 1
    assert message in caught.value.message


def test_tags_never_carry_dates() -> None:
    with pytest.raises(PolicyError):
        policy_variant(deadlines__refund_response__tag="due-2024-05-14")


def test_every_clock_is_documented_with_its_policy_key() -> None:
    doc = (default_policy_path().parents[2] / "docs" / "playbook.md").read_text()
    section = doc.split("## Clocks", 1)[1].split("\n## ", 1)[0]
    policy = default_policy()
    for kind, spec in policy.deadlines.items():
        assert f"`{kind}`" in section, kind
        key = spec.length if isinstance(spec.length, str) else f"deadlines.{kind}.length"
        assert f"`{key}`" in section, key


@pytest.mark.parametrize("tag", ["triage_routed", "triage_path_refund"])
def test_a_clock_tag_is_its_own(tag: str) -> None:
    with pytest.raises(PolicyError, match="already a service or path tag"):
        policy_variant(deadlines__refund_response__tag=tag)


def test_the_hourly_review_runs_to_friday() -> None:
    """'CL is then automatically charged the following Monday where they have until Friday'"""
    facts = facts_factory(dispute__hours_charged_on="2024-06-10")()  # a Monday
    decision = run(facts, now=D(2024, 6, 12))
    assert decision.path == "hourly_in_product_first"
    [deadline] = decision.deadlines
    assert (deadline.kind, deadline.start, deadline.due) == (
        "hourly_review",
        D(2024, 6, 10),
        D(2024, 6, 14),
    )
    assert "until Fri 14 Jun 2024" in deadline.plain


def test_the_freelancers_three_days_on_an_open_hourly_dispute() -> None:
    """'Freelancer Accepts the Dispute or Fails to respond within 3 days (not business days)'"""
    facts = facts_factory(
        requester_role="freelancer",
        dispute__in_product={"status": "awaiting_freelancer", "filed_on": "2024-06-07"},
    )()
    decision = run(facts, now=D(2024, 6, 8))
    [deadline] = [d for d in decision.deadlines if d.kind == "freelancer_dispute_response"]
    assert deadline.due == D(2024, 6, 10) and not deadline.over  # Fri + 3 calendar days
    assert "all disputed hours are refunded to the client" in deadline.plain
