"""Rule family 5: the dispute reasons taxonomy and Abusive Communication."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy
from app.routing.facts import DisputeReason

from .factories import CASE_FIELDS, Contains, case, check, facts_factory, paid, run

# A fixed-price contract, so that no reason is taken for work diary abuse.
make = facts_factory(contract__type="fixed_price", contract__payments=paid(5, kind="milestone"))

CE = "Content_Engagement_Tier_1_TS425"
T1 = "Mediation_Tier_1_CX420"
HV = "HV Mediation Tier 1"
ONLY = "If this is the ONLY problem, route to CE (Content_Engagement_Tier_1_TS425)."
ANY_OTHER = (
    "If ANY other Final Determinations apply, please route to either Mediation or HV Mediation "
    "depending on client status, freelancer status or value of dispute"
)
TAXONOMY = "Manual Time - CL reports no work done in manually logged hours"

ABUSIVE_CASES = [
    case(
        "abusive_only_to_content_engagement",
        ONLY,
        {
            "queue": CE,
            "path": "abusive_communication_ce",
            "status": "open",
            "notes.0.body": Contains("Quick summary:"),
        },
        dispute__reasons=["Abusive Communication"],
    ),
    case(
        "abusive_only_even_when_not_eligible",
        ONLY,
        {"queue": CE},
        dispute__reasons=["Abusive Communication"],
        contract__payments=paid(200, kind="milestone"),
    ),
    case(
        "abusive_only_lenient_case", ONLY, {"queue": CE}, dispute__reasons=["abusive communication"]
    ),
    case(
        "abusive_plus_other_to_mediation",
        ANY_OTHER,
        {
            "queue": T1,
            "trace": Contains({"step": "abusive_communication", "outcome": "not_chosen"}),
        },
        dispute__reasons=["Abusive Communication", "Missed Deadlines"],
    ),
    case(
        "abusive_plus_other_hv_client",
        ANY_OTHER,
        {"queue": HV},
        dispute__reasons=["Abusive Communication", "Poor Communication Skills"],
        client__segment="SB",
    ),
    case(
        "abusive_plus_other_not_eligible_not_mediation",
        ANY_OTHER,
        {"queue": None},
        dispute__reasons=["Abusive Communication", "Fraudulent Activity"],
        contract__payments=paid(200, kind="milestone"),
    ),
    case(
        "abusive_only_asks_for_other_party",
        ONLY,
        {"missing": ["freelancer_username"]},
        dispute__reasons=["Abusive Communication"],
        freelancer__username=None,
    ),
]

REASON_CASES = [
    case(
        f"reason_{reason.name.lower()}_to_mediation",
        TAXONOMY,
        {"queue": T1, "fields.Dispute Reasons": [reason.value]},
        dispute__reasons=[reason.value],
    )
    for reason in DisputeReason
    if reason is not DisputeReason.ABUSIVE_COMMUNICATION
]


@pytest.mark.parametrize(CASE_FIELDS, ABUSIVE_CASES + REASON_CASES)
def test_dispute_reasons(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


def test_all_reasons_ticked_once_in_order() -> None:
    reasons = ["Missed Deadlines", "Manual Time", "Missed Deadlines"]
    decision = run(make(dispute__reasons=reasons))
    assert decision.fields["Dispute Reasons"] == ["Missed Deadlines", "Manual Time"]
