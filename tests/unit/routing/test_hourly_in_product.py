"""Rule family 13: hourly contracts: the in-product dispute first, one already open, the
manual dispute, and "where the contract is closed"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from .factories import CASE_FIELDS, Contains, case, check, facts_factory, policy_variant, run

T1 = "Mediation_Tier_1_CX420"
MONDAY = "2024-06-10"  # the charge day of the disputed hours (worked 2024-06-03 .. 06-09)
FRIDAY = dt.date(2024, 6, 14)  # the last day of their review window
SATURDAY = dt.date(2024, 6, 15)
SUNDAY = dt.date(2024, 6, 16)
WEDNESDAY = dt.date(2024, 6, 12)


def charge(day: str, kind: str = "hourly") -> dict[str, str]:
    return {"date": day, "kind": kind, "amount": "400.00"}


make = facts_factory(contract__status="active", contract__payments=[charge(MONDAY)])

FIRST = (
    "Should I check while talking to the client to see if he or she can file a dispute claim "
    "still? Yes, please first check to see if filing an in-product dispute is possible. If so, "
    "please send the client instructions on how to do so."
)
WEEK = (
    "CL is then automatically charged the following Monday where they have until Friday to "
    "review the FL's work in the Work Diary"
)
ONLY_WEEK = "The dispute will only be for the hours worked from the previous week"
OPEN_FL = "If an in-product hourly dispute was filed against FL"
OPEN_CL = "If Hourly - suggest user updates this info in the comments in the Dispute itself"
MANUAL = (
    "We should only consider a manual dispute when we're contacted immediately after the "
    "dispute period (less than one day/friday)."
)
MANUAL_GROUNDS = (
    "Occasionally, it will be considered if: All (or majority) of the time is offline / "
    "Very obvious abuse Fraud related > Hacking or identity theft etc."
)
MANUAL_NO = (
    "We should adhere to our policy even if the client is upset or may be expected to make "
    "exceptions for everyone."
)
CLOSED = (
    "Mediation Support is only available on contracts with payments issued in the last 30 days "
    "where the contract is closed"
)
OFFLINE: dict[str, Any] = {"dispute__time_mostly_offline": True, "dispute__obvious_fraud": False}
NO_GROUNDS: dict[str, Any] = {
    "dispute__time_mostly_offline": False,
    "dispute__obvious_fraud": False,
}

REVIEW_WINDOW_CASES = [
    case(
        "wednesday_in_product_first",
        FIRST,
        {
            "path": "hourly_in_product_first",
            "eligible": False,
            "eligibility.code": "hourly_in_product_first",
            "queue": None,
            "follow_up.after": "2024-06-14",
            "reply_guidance": Contains("until 2024-06-14 (Friday of the week they were charged"),
        },
        now=WEDNESDAY,
    ),
    case(
        "monday_charge_day_in_product_first",
        WEEK,
        {"path": "hourly_in_product_first"},
        now=dt.date(2024, 6, 10),
    ),
    case(
        "friday_last_day_in_product_first",
        WEEK,
        {"path": "hourly_in_product_first", "follow_up.after": "2024-06-14"},
        now=FRIDAY,
    ),
    case(
        "saturday_window_closed_not_in_product",
        WEEK,
        {"path": "close_contract_first", "eligible": True},
        now=SATURDAY,
        **NO_GROUNDS,
    ),
    case(
        "guidance_says_previous_week_4_days_3_days_1_business_day",
        ONLY_WEEK,
        {
            "reply_guidance": Contains("only for the hours worked in the previous week"),
            "reply_guidance.2": Contains("within 4 calendar days"),
        },
        now=WEDNESDAY,
    ),
    case(
        "guidance_freelancer_3_days_rejection_1_business_day",
        "Freelancer Accepts the Dispute or Fails to respond within 3 days (not business days)",
        {
            "reply_guidance.2": Contains("3 days (not business days)"),
            "reply_guidance.3": Contains("stay on hold"),
        },
        now=WEDNESDAY,
    ),
    case(
        "closed_contract_also_in_product_first",
        FIRST,
        {"path": "hourly_in_product_first"},
        now=WEDNESDAY,
        contract__status="closed",
    ),
    case(
        "closed_contract_mediation_when_policy_says_active_only",
        FIRST,
        {"path": "mediation_escalation", "queue": T1},
        now=WEDNESDAY,
        policy=policy_variant(hourly_in_product__contract_statuses=["active"]),
        contract__status="closed",
    ),
    case(
        "explicit_charge_date_of_an_older_week",
        FIRST,
        {"path": "close_contract_first"},
        now=WEDNESDAY,
        contract__payments=[charge("2024-06-03"), charge(MONDAY)],
        dispute__hours_charged_on="2024-06-03",
    ),
    case(
        "several_charges_last_still_open_asks_which_week",
        FIRST,
        {"path": "needs_info", "missing": ["hours_charged_on"]},
        now=WEDNESDAY,
        contract__payments=[charge("2024-06-03"), charge(MONDAY)],
    ),
    case(
        "last_charge_long_closed_no_question",
        FIRST,
        {"path": "close_contract_first"},
        now=WEDNESDAY,
        contract__payments=[charge("2024-05-20"), charge("2024-05-27")],
    ),
    case(
        "freelancer_has_no_dispute_button",
        "Request for Updates on In-product Dispute Filed by CL on hourly contracts",
        {"path": "close_contract_first"},
        now=WEDNESDAY,
        requester_role="freelancer",
    ),
    case(
        "bonus_dispute_is_not_hours",
        "Important - bonuses, expense, and miscellaneous payments are not eligible for mediation.",
        {"path": "not_eligible", "eligibility.code": "payment_kind_not_eligible"},
        now=WEDNESDAY,
        dispute__disputed_payment_kind="bonus",
    ),
    case(
        "fixed_price_untouched",
        FIRST,
        {"path": "close_contract_first", "eligibility.code": "active_fp_close_first"},
        now=WEDNESDAY,
        contract__type="fixed_price",
        contract__payments=[charge(MONDAY, "milestone")],
    ),
]

OPEN_CASES = [
    case(
        "freelancer_pointed_to_open_dispute",
        OPEN_FL,
        {
            "path": "in_product_hourly_open",
            "queue": None,
            "eligibility.code": "in_product_dispute_open",
            "reply_guidance.0": Contains("within 3 days (not business days), by 2024-06-14"),
            "reply_guidance.1": Contains("within 1 business day(s)"),
        },
        requester_role="freelancer",
        dispute__in_product={"filed_on": "2024-06-11", "status": "awaiting_freelancer"},
    ),
    case(
        "client_adds_hours_in_the_comments",
        OPEN_CL,
        {
            "path": "in_product_hourly_open",
            "reply_guidance.0": Contains("comments of the Dispute itself within the Site"),
        },
        contract__status="closed",
        dispute__in_product={"filed_on": "2024-06-07", "status": "under_review"},
    ),
    case(
        "open_dispute_never_escalated_even_if_eligible",
        OPEN_CL,
        {"path": "in_product_hourly_open", "queue": None, "macro": None},
        contract__status="closed",
        contract__payments=[charge("2024-06-03")],
        dispute__in_product={"filed_on": "2024-06-04", "status": "under_review"},
    ),
    case(
        "open_dispute_unknown_state_asks",
        OPEN_CL,
        {"path": "needs_info", "missing": ["in_product_status"]},
        dispute__in_product={"filed_on": "2024-06-11"},
    ),
    case(
        "decided_dispute_goes_on_to_mediation_rules",
        "Request to Change Terms of Dispute",
        {"path": "mediation_escalation"},
        contract__status="closed",
        contract__payments=[charge("2024-06-03")],
        dispute__in_product={"filed_on": "2024-06-04", "status": "decided"},
    ),
]

MANUAL_CASES = [
    case(
        "saturday_offline_candidate",
        MANUAL,
        {
            "path": "manual_dispute_candidate",
            "queue": None,
            "status": None,
            "notes.0.body": Contains("never entered automatically"),
        },
        now=SATURDAY,
        **OFFLINE,
    ),
    case(
        "saturday_fraud_candidate",
        MANUAL_GROUNDS,
        {
            "path": "manual_dispute_candidate",
            "notes.0.body": Contains("very obvious abuse or fraud"),
        },
        now=SATURDAY,
        dispute__obvious_fraud=True,
        dispute__time_mostly_offline=False,
    ),
    case(
        "saturday_note_names_the_dates_and_mediation",
        MANUAL,
        {
            "notes.0.body": Contains("review window closed 2024-06-14"),
            "eligible": True,
        },
        now=SATURDAY,
        **OFFLINE,
    ),
    case(
        "sunday_too_late_no_candidate",
        MANUAL,
        {"path": "close_contract_first"},
        now=SUNDAY,
        **OFFLINE,
    ),
    case(
        "ticket_created_saturday_decided_monday_still_candidate",
        MANUAL,
        {"path": "manual_dispute_candidate"},
        now=dt.date(2024, 6, 17),
        ticket__created_on="2024-06-15",
        **OFFLINE,
    ),
    case(
        "saturday_grounds_unknown_asks_agent",
        MANUAL_GROUNDS,
        {"path": "needs_info", "missing": ["time_mostly_offline", "obvious_fraud"]},
        now=SATURDAY,
    ),
    case(
        "saturday_without_grounds_no",
        MANUAL_NO,
        {
            "path": "close_contract_first",
            "reply_guidance.0": Contains("No manual dispute"),
        },
        now=SATURDAY,
        dispute__manual_dispute_requested=True,
        **NO_GROUNDS,
    ),
    case(
        "upset_client_late_still_no",
        MANUAL_NO,
        {
            "path": "mediation_escalation",
            "reply_guidance.0": Contains("Adhere to the policy even if the client is upset"),
        },
        contract__status="closed",
        contract__payments=[charge("2024-06-03")],
        dispute__manual_dispute_requested=True,
        **OFFLINE,
    ),
    case(
        "timing_only_when_grounds_not_required",
        MANUAL,
        {"path": "manual_dispute_candidate", "notes.0.body": Contains("timing only")},
        now=SATURDAY,
        policy=policy_variant(manual_dispute__require_grounds=False),
        **NO_GROUNDS,
    ),
]

CLOSED_CASES = [
    case(
        "active_hourly_outside_review_close_first",
        CLOSED,
        {
            "path": "close_contract_first",
            "eligibility.code": "close_contract_first",
            "reply_guidance.0": Contains("walk the client through closing the contract FIRST"),
        },
        contract__payments=[charge("2024-06-03")],
    ),
    case(
        "active_hourly_freelancer_close_first",
        CLOSED,
        {
            "path": "close_contract_first",
            "reply_guidance.0": Contains("walk the freelancer through"),
        },
        requester_role="freelancer",
        contract__payments=[charge("2024-06-03")],
    ),
    case(
        "closed_hourly_escalated",
        CLOSED,
        {"path": "mediation_escalation", "queue": T1},
        contract__status="closed",
        contract__payments=[charge("2024-06-03")],
    ),
    case(
        "active_hourly_past_30_days_retention_not_close_first",
        "If the last payment is 31-60 days ago",
        {"path": "retention_past_window"},
        contract__payments=[charge("2024-05-06")],
    ),
]


@pytest.mark.parametrize(
    CASE_FIELDS, REVIEW_WINDOW_CASES + OPEN_CASES + MANUAL_CASES + CLOSED_CASES
)
def test_hourly_in_product_rules(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Any
) -> None:
    assert quote
    check(run(make(**facts), policy, now), expect)


@pytest.mark.parametrize(
    ("charged", "friday"),
    [
        ("2024-06-10", "2024-06-14"),  # Monday
        ("2024-06-14", "2024-06-14"),  # a Friday charge: that same day
        ("2024-06-15", "2024-06-21"),  # a Saturday charge: the next Friday
        ("2024-12-30", "2025-01-03"),  # across the year end
    ],
)
def test_review_window_ends_on_the_friday_of_the_charge_week(charged: str, friday: str) -> None:
    decision = run(make(dispute__hours_charged_on=charged), now=dt.date.fromisoformat(charged))
    assert decision.path == "hourly_in_product_first"
    assert decision.follow_up is not None and decision.follow_up.after.isoformat() == friday
