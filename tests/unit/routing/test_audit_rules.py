"""Rule families 14-16 and the wording fixes: lapsed refund requests, Direct Contracts on the
October 2023 rules, no second mediation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from .factories import (
    CASE_FIELDS,
    MEDIATION_TICKET_ID,
    TICKET_ID,
    Contains,
    case,
    check,
    facts_factory,
    paid,
    policy_variant,
    run,
    text_of,
)

T1 = "Mediation_Tier_1_CX420"
DIRECT = "Mediation_ Direct_Contracts_CX420"

# --- Family 14: a refund request past the freelancer's 7 days ------------------------------

fixed_price = facts_factory(
    contract__type="fixed_price",
    contract__payments=paid(60, kind="milestone"),
    contract__funds_in_escrow="300.00",
)
LAPSE = "The FL fails to respond in-product within 7 days - escrow is refunded to the client"
WAIT = (
    "We have no way of releasing those funds until the FL has responded or the 7 days have lapsed."
)


def requested(days_ago: int, status: str = "pending") -> dict[str, str]:
    return {
        "requested_on": (dt.date(2024, 6, 12) - dt.timedelta(days=days_ago)).isoformat(),
        "status": status,
    }


REFUND_CASES = [
    case(
        "day_7_still_pending",
        WAIT,
        {"path": "refund_request_pending", "follow_up.after": "2024-06-12"},
        contract__refund_request=requested(7),
    ),
    case(
        "day_8_lapsed_escrow_refunded",
        LAPSE,
        {
            "path": "escrow_refunded",
            "eligibility.code": "escrow_refunded_to_client",
            "reply_guidance.0": Contains(
                "did not respond to the refund request within 7 calendar days "
                "(it lapsed after 2024-06-11)"
            ),
        },
        contract__refund_request=requested(8),
    ),
    case(
        "day_8_never_told_to_request_again",
        LAPSE,
        {"reply_guidance.0": Contains("nothing left to request in-product")},
        contract__refund_request=requested(8),
    ),
    case(
        "accepted_escrow_refunded",
        "The request is accepted by the FL - escrow is refunded to the client",
        {
            "path": "escrow_refunded",
            "reply_guidance.0": Contains("The freelancer accepted the refund request"),
        },
        contract__refund_request=requested(3, "accepted"),
    ),
    case(
        "lapsed_status_from_marketplace",
        LAPSE,
        {"path": "escrow_refunded", "reply_guidance.0": Contains("(it lapsed after 2024-06-07)")},
        contract__refund_request=requested(12, "lapsed"),
    ),
    case(
        "freelancer_after_lapse_no_escrow_to_claim",
        LAPSE,
        {"eligible": False, "path": "not_eligible", "queue": None},
        requester_role="freelancer",
        contract__payments=paid(100, kind="milestone"),
        contract__refund_request=requested(8),
    ),
    case(
        "freelancer_day_7_request_still_pending",
        WAIT,
        {"path": "refund_request_pending", "reply_guidance.0": Contains("respond in-product")},
        requester_role="freelancer",
        contract__refund_request=requested(7),
    ),
]

# --- Family 15: Direct Contracts ---------------------------------------------------------

direct = facts_factory(
    contract__type="direct_contract",
    contract__payments=[],
    contract__funds_in_escrow="0.00",
)
DC_ACTIVE = (
    "If a CL reaches out with an active FP contract wanting to dispute funds already released, "
    "if the funds were released within the last 30 days (or, 7 days for Direct Contracts), this "
    "can be sent to Mediation within ZD. Please walk them through closing out the contract FIRST"
)
DC_ESCROW = (
    "If a CL reaches out with an active FP contract looking to receive a refund for funds still "
    "in escrow, please walk them through closing the contract and going through the in-product "
    "dispute process"
)
DC_WINDOW = "Eligibility: Escrow Payments were released in the last 7 days (only Direct Contracts)"
DC_PAST = "Currently, there isn't additional support available past the eligibility period."

DIRECT_CASES = [
    case(
        "active_released_day_7_close_first",
        DC_ACTIVE,
        {
            "path": "close_contract_first",
            "queue": None,
            "eligibility.code": "active_fp_close_first",
            "reply_guidance.0": Contains("(within 7 days)"),
        },
        contract__status="active",
        contract__escrow_released_on="2024-06-05",
    ),
    case(
        "closed_released_day_7_direct_queue",
        DC_WINDOW,
        {"path": "mediation_escalation", "queue": DIRECT},
        contract__escrow_released_on="2024-06-05",
    ),
    case(
        "closed_released_day_8_no_more_support",
        DC_PAST,
        {
            "path": "not_eligible",
            "eligibility.code": "direct_past_7_days",
            "reply_guidance": Contains("no additional support past that period"),
        },
        contract__escrow_released_on="2024-06-04",
    ),
    case(
        "active_escrow_held_in_product",
        DC_ESCROW,
        {"path": "escrow_in_product", "eligibility.code": "active_fp_escrow_in_product"},
        contract__status="active",
        contract__funds_in_escrow="500.00",
    ),
    case(
        "closed_escrow_held_refund_request_not_no_support",
        "A client may end a FP contract and request a return of the funds in escrow.",
        {
            "path": "escrow_in_product",
            "eligibility.code": "closed_fp_escrow_refund_request",
            "reply_guidance": Contains("request the return of the funds in escrow"),
        },
        contract__funds_in_escrow="500.00",
    ),
    case(
        "escrow_held_guidance_never_says_no_support",
        DC_ESCROW,
        {"path": "escrow_in_product"},
        contract__status="active",
        contract__funds_in_escrow="500.00",
    ),
    case(
        "freelancer_client_wont_release_escrow",
        "if a FL is reaching out where their CL won't release funds / full payment",
        {"path": "mediation_escalation", "queue": DIRECT, "eligible": True},
        requester_role="freelancer",
        contract__funds_in_escrow="500.00",
    ),
    case(
        "window_only_policy_keeps_the_old_reading",
        DC_WINDOW,
        {"path": "mediation_escalation", "queue": DIRECT},
        policy=policy_variant(direct_contracts__fixed_price_rules=False),
        contract__status="active",
        contract__escrow_released_on="2024-06-05",
    ),
]

# --- Family 16: no second mediation ------------------------------------------------------

follow_up = facts_factory(
    inquiry="follow_up",
    linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "solved"},
)
IF_SOLVED = (
    "IMPORTANT: If showing “solved” and Mediation needs to be notified, do not do the above "
    "process. Instead, include the internal notes in your ticket and assign your ticket to "
    "Mediation."
)
AGAIN = (
    "Why does the dispute team not mediate cases again? ... Typically we mediate up to 30 days, "
    "this would cause havoc if they kept coming back and seeking assistance"
)


def mediation(opened: str | None, solved: str | None = None, status: str = "solved") -> Any:
    return {"id": MEDIATION_TICKET_ID, "status": status, "opened_on": opened, "solved_on": solved}


SECOND_CASES = [
    case(
        "started_30_days_ago_new_information_notifies",
        IF_SOLVED,
        {"path": "with_mediation_reassign", "queue": T1},
        linked_mediation_ticket=mediation("2024-05-13", "2024-06-01"),
        dispute__new_information=True,
    ),
    case(
        "started_31_days_ago_case_over",
        AGAIN,
        {
            "path": "mediation_case_over",
            "queue": None,
            "status": None,
            "merge": "blocked",
            "notes.0.ticket_id": TICKET_ID,
            "notes.0.body": Contains("The case is over"),
            "reply_guidance.1": Contains("pursue the issue outside of Upwork"),
        },
        linked_mediation_ticket=mediation("2024-05-12", "2024-06-01"),
        dispute__new_information=True,
    ),
    case(
        "closed_long_ago_case_over_without_start_date",
        AGAIN,
        {"path": "mediation_case_over"},
        linked_mediation_ticket=mediation(None, "2024-01-05", status="closed"),
        dispute__new_information=True,
    ),
    case(
        "fixed_price_case_over_mentions_arbitration_period",
        "Users have the ability to file for arbitration within 30 days of the start of Mediation",
        {"reply_guidance.1": Contains("Arbitration could be filed within 30 days")},
        contract__type="fixed_price",
        linked_mediation_ticket=mediation("2024-03-01", "2024-03-20"),
    ),
    case(
        "recent_but_nothing_new_not_notified",
        IF_SOLVED,
        {"path": "mediation_solved_no_update", "queue": None, "status": None},
        linked_mediation_ticket=mediation("2024-06-01", "2024-06-10"),
        dispute__new_information=False,
    ),
    case(
        "recent_new_information_unknown_asks",
        IF_SOLVED,
        {"path": "needs_info", "missing": ["new_information"]},
        linked_mediation_ticket=mediation("2024-06-01", "2024-06-10"),
    ),
    case(
        "start_unknown_recently_solved_asks",
        IF_SOLVED,
        {"path": "needs_info", "missing": ["mediation_opened_on"]},
        linked_mediation_ticket=mediation(None, "2024-06-10"),
        dispute__new_information=True,
    ),
    case(
        "a_second_dispute_request_on_an_old_case",
        AGAIN,
        {"path": "mediation_case_over"},
        inquiry="dispute",
        linked_mediation_ticket=mediation("2024-01-02", "2024-01-30"),
    ),
    case(
        "open_mediation_ticket_unchanged",
        "Comment an internal note on the Mediation ticket",
        {"path": "with_mediation_note"},
        linked_mediation_ticket=mediation("2024-01-02", None, status="open"),
    ),
    case(
        "limit_is_policy_data",
        AGAIN,
        {"path": "with_mediation_reassign"},
        policy=policy_variant(mediation_follow_ups__case_days_from_start=60),
        linked_mediation_ticket=mediation("2024-04-20", "2024-05-01"),
        dispute__new_information=True,
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, REFUND_CASES)
def test_lapsed_refund_request(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Any
) -> None:
    assert quote
    check(run(fixed_price(**facts), policy, now), expect)


@pytest.mark.parametrize(CASE_FIELDS, DIRECT_CASES)
def test_direct_contracts(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Any
) -> None:
    assert quote
    check(run(direct(**facts), policy, now), expect)


def test_direct_escrow_held_is_not_told_there_is_no_support() -> None:
    decision = run(direct(contract__status="active", contract__funds_in_escrow="500.00"))
    assert "no additional support" not in text_of(decision)


@pytest.mark.parametrize(CASE_FIELDS, SECOND_CASES)
def test_no_second_mediation(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Any
) -> None:
    assert quote
    check(run(follow_up(**facts), policy, now), expect)


# --- Wording -----------------------------------------------------------------------------


def test_direct_contract_is_named_once() -> None:
    decision = run(direct(contract__escrow_released_on="2024-06-05"))
    assert "Direct Contract C-1" in decision.notes[0].body
    assert "direct-contract contract" not in text_of(decision)


def test_expense_payment_takes_an() -> None:
    decision = run(facts_factory()(dispute__disputed_payment_kind="expense"))
    assert "an expense payment" in decision.eligibility.explanation
    assert "a expense" not in text_of(decision)


def test_enterprise_suspended_account_note_says_why_enterprise() -> None:
    decision = run(
        facts_factory()(
            inquiry="account_suspended",
            account__suspended_by_mediation=True,
            dispute__closed=True,
            client__segment="Enterprise",
        )
    )
    assert decision.queue == "Dispute_Enterprise_CX420"
    assert "not in VSB+" not in text_of(decision)
    assert "client segment Enterprise is in Enterprise" in decision.notes[0].body
