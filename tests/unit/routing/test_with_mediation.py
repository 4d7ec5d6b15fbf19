"""Rule family 8: cases already with Mediation (follow-ups, changed terms, payment refusal,
chargeback threats), and the different path when the Mediation ticket is solved."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy

from .factories import (
    CASE_FIELDS,
    MEDIATION_TICKET_ID,
    TICKET_ID,
    Contains,
    case,
    check,
    facts_factory,
    paid,
    run,
)

T1 = "Mediation_Tier_1_CX420"
HV = "HV Mediation Tier 1"
OPEN = {"id": MEDIATION_TICKET_ID, "status": "open"}
# A case that started 11 days ago: Mediation can still be notified of new information.
RECENT = {"opened_on": "2024-06-01", "solved_on": "2024-06-10"}
SOLVED = {"id": MEDIATION_TICKET_ID, "status": "solved", **RECENT}
make = facts_factory(
    inquiry="follow_up", linked_mediation_ticket=OPEN, dispute__new_information=True
)

HANDED_OFF = (
    "If a client comes back in inquiring about an issue that has already been handed off to "
    "Mediation"
)
SOLVE_MINE = (
    "Leave an internal note on your ticket with the URL link for the Mediation ticket and "
    "“solve” that ticket"
)
IF_SOLVED = (
    "IMPORTANT: If showing “solved” and Mediation needs to be notified, do not do the above "
    "process. "
    "Instead, include the internal notes in your ticket and assign your ticket to Mediation."
)
CHANGE_FP = "If FP - find Mediation ticket"
CHANGE_HOURLY = (
    "If Hourly - suggest user updates this info in the comments in the Dispute itself within "
    "the Site"
)
REFUSAL = (
    "If payment refusal: Explain payments 5-days past due can temporarily suspend an account "
    "until payment is received."
)
CHARGEBACK = "If Chargeback threat: see **How to Handle Chargeback Threat"
FOR_MEDIATION = "For Mediation tickets: [TEAM]"

FOLLOW_UP_CASES = [
    case(
        "follow_up_open_notes_mediation_ticket",
        HANDED_OFF,
        {
            "path": "with_mediation_note",
            "queue": None,
            "notes.0.ticket_id": MEDIATION_TICKET_ID,
            "notes.1.ticket_id": TICKET_ID,
            "merge": "blocked",
            "macro": "CS > Mediation Ticket",
        },
    ),
    case("follow_up_open_solves_own_ticket", SOLVE_MINE, {"status": "solved"}),
    case(
        "dispute_inquiry_with_open_mediation_ticket",
        HANDED_OFF,
        {"path": "with_mediation_note"},
        inquiry="dispute",
    ),
    case(
        "follow_up_pending_mediation_ticket_is_open",
        HANDED_OFF,
        {"path": "with_mediation_note"},
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "pending"},
    ),
    case(
        "follow_up_solved_reassigns",
        IF_SOLVED,
        {
            "path": "with_mediation_reassign",
            "queue": T1,
            "status": "open",
            "notes.0.ticket_id": TICKET_ID,
            "notes": Contains({"ticket_id": TICKET_ID, "body": Contains("[CONTRACT #] C-1")}),
        },
        linked_mediation_ticket=SOLVED,
    ),
    case(
        "follow_up_solved_uppercase",
        IF_SOLVED,
        {"path": "with_mediation_reassign"},
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "SOLVED", **RECENT},
    ),
    case(
        "follow_up_closed_reassigns",
        IF_SOLVED,
        {"path": "with_mediation_reassign"},
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "closed", **RECENT},
    ),
    case(
        "follow_up_solved_hv_user",
        IF_SOLVED,
        {"queue": HV},
        linked_mediation_ticket=SOLVED,
        client__segment="LB",
    ),
    case(
        "follow_up_solved_even_past_window",
        IF_SOLVED,
        {"queue": T1, "eligible": None},
        linked_mediation_ticket=SOLVED,
        contract__payments=paid(200),
    ),
    case(
        "follow_up_mediation_status_unknown_asks",
        IF_SOLVED,
        {"path": "needs_info", "missing": ["mediation_ticket_status"]},
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID},
    ),
    case(
        "follow_up_contract_unknown_asks",
        FOR_MEDIATION,
        {"missing": ["contract_id"]},
        contract__id=None,
    ),
]

CHANGE_CASES = [
    case(
        "change_terms_fixed_price_notes_mediation",
        CHANGE_FP,
        {"path": "with_mediation_note", "notes.0.ticket_id": MEDIATION_TICKET_ID},
        inquiry="change_terms",
        contract__type="fixed_price",
    ),
    case(
        "change_terms_fixed_price_solved",
        IF_SOLVED,
        {"path": "with_mediation_reassign"},
        inquiry="change_terms",
        contract__type="fixed_price",
        linked_mediation_ticket=SOLVED,
    ),
    case(
        "change_terms_fixed_price_find_ticket",
        CHANGE_FP,
        {"path": "needs_info", "missing": ["mediation_ticket"]},
        inquiry="change_terms",
        contract__type="fixed_price",
        linked_mediation_ticket=None,
    ),
    case(
        "change_terms_hourly_reply",
        CHANGE_HOURLY,
        {
            "path": "change_terms_hourly",
            "queue": None,
            # no silent outcome: the agent reads what to tell the user
            "notes.0.body": Contains("Tell the user:\n- Suggest the user updates this info"),
            "reply_guidance": Contains("comments in the Dispute itself"),
        },
        inquiry="change_terms",
    ),
    case(
        "change_terms_type_unknown_asks",
        CHANGE_FP,
        {"missing": ["contract_type"]},
        inquiry="change_terms",
        contract__type=None,
    ),
]

PAYMENT_CASES = [
    case(
        "payment_refusal_reply_only",
        REFUSAL,
        {
            "path": "payment_refusal",
            "queue": None,
            "reply_guidance": Contains(
                "payments 5 days past due can temporarily suspend an account"
            ),
            "notes.0.body": Contains("Why: The client refuses payment"),
        },
        inquiry="payment_refusal",
        linked_mediation_ticket=None,
    ),
    case(
        "payment_refusal_days_past_due",
        REFUSAL,
        {"reply_guidance": Contains("This payment is 3 days past due.")},
        inquiry="payment_refusal",
        linked_mediation_ticket=None,
        contract__payment_past_due_days=3,
    ),
    case(
        "payment_refusal_with_mediation_ticket",
        FOR_MEDIATION,
        {
            "path": "with_mediation_note",
            "notes.0.ticket_id": MEDIATION_TICKET_ID,
            "reply_guidance": Contains("5 days past due"),
        },
        inquiry="payment_refusal",
    ),
    case(
        "chargeback_reply_only",
        CHARGEBACK,
        {
            "path": "chargeback_threat",
            "reply_guidance": Contains("How to Handle Chargeback Threat"),
        },
        inquiry="chargeback_threat",
        linked_mediation_ticket=None,
    ),
    case(
        "chargeback_with_mediation_ticket",
        FOR_MEDIATION,
        {"path": "with_mediation_note", "notes.0.body": Contains("threatens a chargeback")},
        inquiry="chargeback_threat",
    ),
    case(
        "chargeback_with_solved_mediation_ticket",
        IF_SOLVED,
        {"path": "with_mediation_reassign", "reply_guidance": Contains("Chargeback")},
        inquiry="chargeback_threat",
        linked_mediation_ticket=SOLVED,
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, FOLLOW_UP_CASES + CHANGE_CASES + PAYMENT_CASES)
def test_cases_with_mediation(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)
