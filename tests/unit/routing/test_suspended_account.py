"""Rule family 9: accounting entity still suspended after a closed dispute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy

from .factories import CASE_FIELDS, Contains, case, check, facts_factory, run

make = facts_factory(
    inquiry="account_suspended", account__suspended_by_mediation=True, dispute__closed=True
)

HV = "HV Mediation Tier 1"
T1 = "Mediation_Tier_1_CX420"
HV_RULE = (
    "For VSB+, Small Business, Mid-Market, Large Business, or TR Freelancer, assign ticket to "
    "HV Mediation and save as “open” for review."
)
T1_RULE = (
    "For VSB and regular freelancers, assign ticket to Mediation - Tier I and save as “open” "
    "for review."
)
NEVER = "DO NOT resume an AE if suspended by Mediation."
SEGMENT = "First, find out the segment of user in OBO"

SEGMENT_CASES = [
    case(
        f"client_{segment.replace('+', '_plus').lower()}",
        HV_RULE if queue == HV else T1_RULE,
        {"queue": queue, "status": "open", "path": "suspended_account_review"},
        client__segment=segment,
    )
    for segment, queue in (
        ("VSB+", HV),
        ("SB", HV),
        ("MM", HV),
        ("LB", HV),
        ("VSB", T1),
        ("Enterprise", "Dispute_Enterprise_CX420"),
    )
] + [
    case(
        f"freelancer_{badge.replace(' ', '_').lower()}",
        HV_RULE if queue == HV else T1_RULE,
        {"queue": queue, "status": "open"},
        requester_role="freelancer",
        freelancer__badge=badge,
        client__segment="LB",
    )
    for badge, queue in (("Top Rated", HV), ("Top Rated Plus", HV), ("none", T1))
]

OTHER_CASES = [
    case(
        "never_resume_note",
        NEVER,
        {"notes.0.body": Contains("DO NOT resume the accounting entity")},
    ),
    case("never_resume_even_after_review", NEVER, {"reply_guidance": Contains("stays suspended")}),
    case(
        "dispute_still_open_holds",
        NEVER,
        {
            "path": "suspended_account_dispute_open",
            "queue": None,
            "notes.0.body": Contains("DO NOT resume"),
        },
        dispute__closed=False,
    ),
    case(
        "not_suspended_by_mediation",
        NEVER,
        {"path": "suspended_account_not_mediation", "queue": None},
        account__suspended_by_mediation=False,
    ),
    case(
        "suspension_unknown_asks",
        NEVER,
        {"missing": ["suspended_by_mediation"]},
        account__suspended_by_mediation=None,
    ),
    case(
        "dispute_closed_unknown_asks",
        "look in CSS notes/Mediation ticket",
        {"missing": ["dispute_closed"]},
        dispute__closed=None,
    ),
    case(
        "segment_unknown_asks",
        SEGMENT,
        {"missing": ["client_segment"], "queue": None},
        client__segment=None,
    ),
    case("requester_unknown_asks", SEGMENT, {"missing": ["requester_role"]}, requester_role=None),
    case(
        "suspended_even_when_not_eligible",
        HV_RULE,
        {"queue": HV, "eligible": None},
        client__segment="SB",
        contract__payments=[],
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, SEGMENT_CASES + OTHER_CASES)
def test_suspended_accounting_entity(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)
