"""Rule families 1 and 2: eligibility for Mediation and the October 2023 fixed-price rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy

from .factories import (
    CASE_FIELDS,
    NOW,
    Contains,
    case,
    check,
    facts_factory,
    paid,
    policy_variant,
    run,
)

make = facts_factory()

T1 = "Mediation_Tier_1_CX420"
DIRECT = "Mediation_ Direct_Contracts_CX420"
CR2 = "Client Retention Tier 2"
FP: dict[str, Any] = {"contract__type": "fixed_price"}
FL: dict[str, Any] = {"requester_role": "freelancer"}


def on(day: str, kind: str = "hourly") -> list[dict[str, str]]:
    return [{"date": day, "kind": kind, "amount": "100.00"}]


WINDOW = "Mediation Support is only available on contracts with payments issued in the last 30 days"
LAST = "Eligibility: Last Payment made within 30 days"
KINDS = "Important - bonuses, expense, and miscellaneous payments are not eligible for mediation."
BONUS = "(bonus payments do not qualify)"
ESCROW = "OR if there are currently funds held in escrow"
CLOSED = "where the contract is closed"
DIRECT_Q = "Eligibility: Escrow Payments were released in the last 7 days (only Direct Contracts)"
DIRECT_NO_MORE = "Currently, there isn't additional support available past the eligibility period."
FP_CLOSED = (
    "If a CL reaches out with an closed FP contract wanting to dispute funds already released, "
    "if the funds were released within the last 30 days"
)
FP_ACTIVE_RELEASED = "Please walk them through closing out the contract FIRST"
FP_ACTIVE_ESCROW = (
    "If a CL reaches out with an active FP contract looking to receive a refund for funds still "
    "in escrow, please walk them through closing the contract and going through the in-product "
    "dispute process"
)
REFUND = "The freelancer has 7 calendar days to accept/reject that request."
REFUND_WAIT = (
    "We have no way of releasing those funds until the FL has responded or the 7 days have lapsed."
)
REJECTED = "The request is rejected by the FL - a formal FP dispute is created"
FL_EXCEPTION = (
    "If a FL reaches out with an active FP contract wanting to dispute, we will make an exception "
    "for them in the following scenarios"
)
FL_WONT_RELEASE = (
    "if a FL is reaching out where their CL won't release funds / full payment in a FP contract"
)

WINDOW_CASES = [
    case(
        "paid_today_eligible",
        WINDOW,
        {"eligible": True, "queue": T1},
        contract__payments=paid(0, 9),
        dispute__hours_charged_on="2024-06-03",  # the disputed week's review ended 2024-06-07
    ),
    case("day_29_eligible", WINDOW, {"eligible": True, "queue": T1}, contract__payments=paid(29)),
    case(
        "day_30_eligible_boundary",
        WINDOW,
        {
            "eligible": True,
            "eligibility.code": "within_30_days",
            "eligibility.explanation": Contains("30 calendar days before 2024-06-12; window is 30"),
        },
        contract__payments=paid(30),
    ),
    case(
        "day_31_not_eligible",
        WINDOW,
        {"eligible": False, "eligibility.code": "past_30_days", "queue": CR2},
        contract__payments=paid(31),
    ),
    case(
        "future_dated_counts_inside",
        WINDOW,
        {"eligible": True},
        contract__payments=paid(-3),
        dispute__hours_charged_on="2024-06-03",
    ),
    case("latest_payment_counts", LAST, {"eligible": True}, contract__payments=paid(45, 12)),
    case(
        "leap_2024_jan31_to_mar01_is_30",
        LAST,
        {"eligible": True, "eligibility.explanation": Contains("is 30 calendar days")},
        now=dt.date(2024, 3, 1),
        contract__payments=on("2024-01-31"),
    ),
    case(
        "leap_2024_jan30_to_mar01_is_31",
        LAST,
        {"eligible": False, "eligibility.explanation": Contains("is 31 calendar days")},
        now=dt.date(2024, 3, 1),
        contract__payments=on("2024-01-30"),
    ),
    case(
        "non_leap_2023_jan31_to_mar02_is_30",
        LAST,
        {"eligible": True},
        now=dt.date(2023, 3, 2),
        contract__payments=on("2023-01-31"),
    ),
    case(
        "leap_day_payment_30_days",
        LAST,
        {"eligible": True},
        now=dt.date(2024, 3, 30),
        contract__payments=on("2024-02-29"),
    ),
    case(
        "leap_day_payment_31_days",
        LAST,
        {"eligible": False},
        now=dt.date(2024, 3, 31),
        contract__payments=on("2024-02-29"),
    ),
]

KIND_CASES = [
    case(
        "recent_bonus_does_not_count",
        BONUS,
        {
            "eligible": False,
            "eligibility.code": "past_30_days",
            "eligibility.explanation": Contains("not counted: bonus"),
        },
        contract__payments=paid(5, kind="bonus") + paid(40),
    ),
    case(
        "only_expense_not_eligible",
        KINDS,
        {"eligible": False, "eligibility.code": "no_qualifying_payment", "queue": None},
        contract__payments=paid(5, kind="expense"),
    ),
    case(
        "only_misc_not_eligible",
        KINDS,
        {"eligible": False, "eligibility.code": "no_qualifying_payment", "path": "not_eligible"},
        contract__payments=paid(5, kind="misc"),
    ),
    case(
        "only_bonus_not_eligible",
        BONUS,
        {"eligible": False, "eligibility.code": "no_qualifying_payment"},
        contract__payments=paid(5, kind="bonus"),
    ),
    case(
        "milestone_payment_qualifies",
        FP_CLOSED,
        {"eligible": True},
        **FP,
        contract__payments=paid(5, kind="milestone"),
    ),
    *[
        case(
            f"disputed_{kind}_never_qualifies",
            KINDS,
            {
                "eligible": False,
                "eligibility.code": "payment_kind_not_eligible",
                "queue": None,
                "reply_guidance": Contains("miscellaneous payments are not eligible for mediation"),
            },
            dispute__disputed_payment_kind=kind,
        )
        for kind in ("bonus", "expense", "misc")
    ],
    case(
        "disputed_hourly_qualifies",
        KINDS,
        {"eligible": True},
        dispute__disputed_payment_kind="hourly",
    ),
    case(
        "payment_of_unknown_kind_asks",
        KINDS,
        {"eligible": None, "missing": Contains("payment_details"), "queue": None},
        contract__payments=[{"date": "2024-06-07", "kind": None}],
    ),
]

ESCROW_CASES = [
    case(
        "escrow_qualifies_past_window",
        ESCROW,
        {"eligible": True, "eligibility.code": "funds_in_escrow", "queue": T1},
        contract__payments=paid(45),
        contract__funds_in_escrow="100.00",
    ),
    case(
        "escrow_ignored_when_policy_says_so",
        ESCROW,
        {"eligible": False, "queue": CR2},
        policy=policy_variant(settings__escrow_qualifies=False),
        contract__payments=paid(45),
        contract__funds_in_escrow="100.00",
    ),
    case(
        "zero_escrow_does_not_qualify",
        ESCROW,
        {"eligible": False},
        contract__payments=paid(45),
        contract__funds_in_escrow="0.00",
    ),
    case(
        "active_hourly_close_first_by_default",
        CLOSED,
        {
            "path": "close_contract_first",
            "eligible": True,
            "queue": None,
            "eligibility.code": "close_contract_first",
            "reply_guidance": Contains("only available where the contract is closed"),
        },
        contract__status="active",
    ),
    case(
        "active_hourly_escalated_when_not_required",
        CLOSED,
        {"path": "mediation_escalation"},
        policy=policy_variant(settings__require_closed_contract=False),
        contract__status="active",
    ),
    case("closed_hourly_when_closed_required", CLOSED, {"path": "mediation_escalation"}),
]

DIRECT_CASES = [
    case(
        "direct_released_7_days_eligible",
        DIRECT_Q,
        {"eligible": True, "eligibility.code": "direct_within_7_days", "queue": DIRECT},
        contract__type="direct_contract",
        contract__escrow_released_on="2024-06-05",
    ),
    case(
        "direct_released_8_days_not_eligible",
        DIRECT_Q,
        {"eligible": False, "eligibility.code": "direct_past_7_days", "queue": None},
        contract__type="direct_contract",
        contract__escrow_released_on="2024-06-04",
    ),
    case(
        "direct_20_days_no_client_retention",
        DIRECT_NO_MORE,
        {"queue": None, "path": "not_eligible", "reply_guidance": Contains("no arbitration")},
        contract__type="direct_contract",
        contract__escrow_released_on="2024-05-23",
    ),
    case(
        "direct_falls_back_to_last_payment",
        DIRECT_Q,
        {"eligible": True, "queue": DIRECT},
        contract__type="direct_contract",
        contract__payments=paid(7),
    ),
    case(
        "direct_release_date_wins_over_old_payment",
        DIRECT_Q,
        {"eligible": True, "eligibility.explanation": Contains("escrow release")},
        contract__type="direct_contract",
        contract__payments=paid(40),
        contract__escrow_released_on="2024-06-09",
    ),
    case(
        "direct_leap_feb28_to_mar06_is_7",
        DIRECT_Q,
        {"eligible": True},
        now=dt.date(2024, 3, 6),
        contract__type="direct_contract",
        contract__escrow_released_on="2024-02-28",
    ),
]

FP_CLIENT_CASES = [
    case(
        "fp_closed_day_30",
        FP_CLOSED,
        {"eligible": True, "queue": T1},
        **FP,
        contract__payments=paid(30, kind="milestone"),
    ),
    case(
        "fp_closed_day_31",
        FP_CLOSED,
        {"eligible": False, "queue": CR2},
        **FP,
        contract__payments=paid(31, kind="milestone"),
    ),
    case(
        "fp_active_released_close_first",
        FP_ACTIVE_RELEASED,
        {
            "path": "close_contract_first",
            "eligible": True,
            "queue": None,
            "reply_guidance": Contains("closing out the contract FIRST"),
        },
        **FP,
        contract__status="active",
        contract__payments=paid(10, kind="milestone"),
    ),
    case(
        "fp_active_released_escalate_setting",
        FP_ACTIVE_RELEASED,
        {"path": "mediation_escalation"},
        policy=policy_variant(settings__client_active_fp_released="escalate"),
        **FP,
        contract__status="active",
        contract__payments=paid(10, kind="milestone"),
    ),
    case(
        "fp_active_escrow_in_product",
        FP_ACTIVE_ESCROW,
        {
            "path": "escrow_in_product",
            "eligible": False,
            "queue": None,
            "reply_guidance": Contains("in-product dispute process"),
        },
        **FP,
        contract__status="active",
        contract__payments=paid(45, kind="milestone"),
        contract__funds_in_escrow="500.00",
    ),
    case(
        "fp_closed_escrow_refund_request",
        "A client may end a FP contract and request a return of the funds in escrow.",
        {"path": "escrow_in_product", "eligibility.code": "closed_fp_escrow_refund_request"},
        **FP,
        contract__payments=paid(45, kind="milestone"),
        contract__funds_in_escrow="500.00",
    ),
    case(
        "fp_closed_escrow_refund_accepted",
        "The request is accepted by the FL - escrow is refunded to the client",
        {"eligible": False, "eligibility.code": "escrow_refunded_to_client"},
        **FP,
        contract__payments=paid(45, kind="milestone"),
        contract__funds_in_escrow="500.00",
        contract__refund_request={"requested_on": "2024-05-01", "status": "accepted"},
    ),
    case(
        "fp_active_released_and_escrow_both_explained",
        FP_ACTIVE_ESCROW,
        {"path": "close_contract_first", "reply_guidance": Contains("in-product dispute process")},
        **FP,
        contract__status="active",
        contract__payments=paid(10, kind="milestone"),
        contract__funds_in_escrow="500.00",
    ),
]


def refund(requested_on: str, status: str = "pending") -> dict[str, Any]:
    return {"contract__refund_request": {"requested_on": requested_on, "status": status}}


FP_MILESTONE: dict[str, Any] = {**FP, "contract__payments": paid(10, kind="milestone")}

REFUND_CASES = [
    case(
        "refund_pending_day_7_blocks",
        REFUND_WAIT,
        {
            "path": "refund_request_pending",
            "eligible": False,
            "queue": None,
            "follow_up.after": "2024-06-12",
        },
        **FP_MILESTONE,
        **refund("2024-06-05"),
    ),
    case(
        "refund_pending_day_8_lapsed",
        REFUND,
        {
            "path": "mediation_escalation",
            "trace": Contains(
                {"step": "refund_request", "outcome": "lapsed", "why": Contains("lapsed")}
            ),
        },
        **FP_MILESTONE,
        **refund("2024-06-04"),
    ),
    case(
        "refund_pending_day_0_blocks",
        REFUND_WAIT,
        {"path": "refund_request_pending"},
        **FP_MILESTONE,
        **refund("2024-06-12"),
    ),
    case(
        "refund_rejected_formal_dispute",
        REJECTED,
        {"path": "formal_fp_dispute", "queue": None},
        **FP_MILESTONE,
        **refund("2024-06-01", "rejected"),
    ),
    case(
        "refund_pending_without_date_asks",
        REFUND,
        {"path": "needs_info", "missing": Contains("refund_request")},
        **FP_MILESTONE,
        contract__refund_request={"requested_on": None, "status": "pending"},
    ),
    case(
        "refund_leap_feb25_to_mar03_pending",
        REFUND,
        {"path": "refund_request_pending", "follow_up.after": "2024-03-03"},
        now=dt.date(2024, 3, 3),
        **FP_MILESTONE,
        **refund("2024-02-25"),
    ),
    case(
        "refund_leap_feb25_to_mar04_lapsed",
        REFUND,
        {"path": "mediation_escalation"},  # no longer blocked: the payment rules apply
        now=dt.date(2024, 3, 4),
        **FP_MILESTONE,
        **refund("2024-02-25"),
    ),
    case(
        "refund_pending_freelancer_told_to_respond",
        REFUND,
        {"path": "refund_request_pending", "reply_guidance": Contains("respond in-product")},
        **FP_MILESTONE,
        **FL,
        **refund("2024-06-10"),
    ),
]

FL_CASES = [
    case(
        "fl_active_client_refuses_milestone",
        FL_EXCEPTION,
        {"eligible": True, "eligibility.code": "freelancer_fp_exception", "queue": T1},
        **FP,
        **FL,
        contract__status="active",
        contract__payments=[],
        dispute__client_refuses_milestone_release=True,
    ),
    case(
        "fl_active_partial_release",
        "The CL released a partial milestone payment and applied the remainder in Escrow for "
        "a future milestone",
        {"eligible": True, "eligibility.explanation": Contains("partial milestone")},
        **FP,
        **FL,
        contract__status="active",
        dispute__partial_milestone_release=True,
    ),
    case(
        "fl_active_no_exception",
        FL_EXCEPTION,
        {
            "eligible": False,
            "eligibility.code": "freelancer_active_fp_no_exception",
            "reply_guidance": Contains("reach out to the client on the freelancer's behalf"),
        },
        **FP,
        **FL,
        contract__status="active",
    ),
    case(
        "fl_active_exception_unknown_asks",
        FL_EXCEPTION,
        {"path": "needs_info", "missing": Contains("fp_exception")},
        **FP,
        **FL,
        contract__status="active",
        dispute=None,
    ),
    case(
        "fl_closed_escrow_unreleased",
        FL_WONT_RELEASE,
        {"eligible": True, "eligibility.code": "client_wont_release_funds"},
        **FP,
        **FL,
        contract__payments=paid(45, kind="milestone"),
        contract__funds_in_escrow="200.00",
    ),
    case(
        "fl_closed_past_window_retention",
        FP_CLOSED,
        {"queue": CR2},
        **FP,
        **FL,
        contract__payments=paid(45, kind="milestone"),
    ),
    case(
        "fl_closed_refuses_release_no_payments",
        FL_WONT_RELEASE,
        {"eligible": True},
        **FP,
        **FL,
        contract__payments=[],
        dispute__client_refuses_milestone_release=True,
    ),
    case(
        "fp_role_unknown_asks",
        FL_EXCEPTION,
        {"missing": Contains("requester_role")},
        **FP,
        requester_role=None,
    ),
    case(
        "fp_status_unknown_asks",
        FL_EXCEPTION,
        {"missing": Contains("contract_status")},
        **FP,
        contract__status=None,
    ),
    case(
        "fl_closed_escrow_unknown_asks",
        FL_WONT_RELEASE,
        {"missing": Contains("funds_in_escrow")},
        **FP,
        **FL,
        contract__payments=paid(45, kind="milestone"),
        contract__funds_in_escrow=None,
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, WINDOW_CASES + KIND_CASES + ESCROW_CASES + DIRECT_CASES)
def test_mediation_eligibility(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


@pytest.mark.parametrize(CASE_FIELDS, FP_CLIENT_CASES + REFUND_CASES + FL_CASES)
def test_october_2023_fixed_price_rules(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


def test_window_explanation_counts_calendar_days() -> None:
    decision = run(make(contract__payments=paid(30)), now=NOW)
    assert decision.eligibility.explanation == (
        "last qualifying payment 2024-05-13 is 30 calendar days before 2024-06-12; window is 30"
    )
