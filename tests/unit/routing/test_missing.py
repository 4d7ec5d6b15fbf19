"""Rule family 10: missing facts are asked for, never guessed; ineligible cases never go to
Mediation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy

from .factories import CASE_FIELDS, DROP, Contains, case, check, facts_factory, paid, run

make = facts_factory()

ASK = (
    "please ask for 1) the name of the freelancer and 2) the assignment number they are having "
    "a problem with"
)
SENT_BACK = (
    "Any cases that are not eligible for Mediation that get sent to Mediation will be sent back "
    "to the CS agent."
)
NEEDS = {"path": "needs_info", "queue": None, "eligible": None, "status": None}

MISSING_CASES = [
    case(
        "contract_id_missing",
        ASK,
        {"path": "needs_info", "queue": None, "missing": ["contract_id"]},
        contract__id=None,
    ),
    case("contract_id_blank", ASK, {"missing": ["contract_id"]}, contract__id="  "),
    case(
        "freelancer_unknown_for_client",
        ASK,
        {"missing": ["freelancer_username"], "queue": None},
        freelancer__username=None,
    ),
    case(
        "client_unknown_for_freelancer",
        ASK,
        {"missing": ["client_username"]},
        requester_role="freelancer",
        client__username=None,
    ),
    case(
        "form_needs_both_usernames",
        "fill in the starred areas for Contract ID, Client Username, and FL Username",
        {"missing": ["client_username"]},
        client__username=None,
    ),
    case(
        "payments_unknown",
        ASK,
        {**NEEDS, "missing": ["payments", "contract_id"]},
        contract__payments=None,
        contract__id=None,
    ),
    case(
        "contract_type_unknown", ASK, {**NEEDS, "missing": ["contract_type"]}, contract__type=None
    ),
    case(
        "no_contract_at_all",
        ASK,
        {**NEEDS, "missing": ["contract_type", "contract_id"]},
        contract=DROP,
    ),
    case("inquiry_unknown", ASK, {**NEEDS, "missing": ["inquiry"]}, inquiry=None),
    case(
        "requester_unknown_usernames_known",
        ASK,
        {"path": "mediation_escalation"},
        requester_role=None,
    ),
    case(
        "requester_and_client_unknown",
        ASK,
        {"missing": ["client_username"]},
        requester_role=None,
        client__username=None,
    ),
    case(
        "ask_guidance_for_client",
        ASK,
        {"reply_guidance": Contains("1) the name of the freelancer and 2) the assignment")},
        contract__id=None,
    ),
    case(
        "ask_guidance_for_freelancer",
        ASK,
        {"reply_guidance": Contains("1) the name of the client")},
        contract__id=None,
        requester_role="freelancer",
    ),
    case(
        "not_eligible_and_contract_unknown_is_not_sent",
        SENT_BACK,
        {"path": "not_eligible", "queue": None},
        contract__id=None,
        contract__payments=paid(200),
    ),
    case(
        "not_eligible_never_mediation",
        SENT_BACK,
        {"queue": None, "eligible": False},
        contract__payments=paid(95),
        client__segment="SB",
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, MISSING_CASES)
def test_missing_facts(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


def test_only_a_ticket_id_is_enough() -> None:
    from app.routing import TicketFacts

    decision = run(TicketFacts.model_validate({"ticket": {"id": 1}}))
    assert decision.path == "needs_info"
    assert decision.missing == ["inquiry"]
