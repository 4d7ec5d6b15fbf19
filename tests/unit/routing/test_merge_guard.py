"""'Please avoid merging into ANY Dispute / Mediation tickets at all times, use the appropriate
Tag-only macro instead'."""

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

make = facts_factory(inquiry="merge_requested", merge={"source_ids": [TICKET_ID], "target_id": 7})
QUOTE = (
    "Please avoid merging into ANY Dispute / Mediation tickets at all times, use the "
    "appropriate Tag-only macro instead"
)

CASES = [
    case(
        "plain_tickets_may_merge",
        QUOTE,
        {"merge": "allowed", "path": "merge_allowed", "macro": None},
    ),
    case(
        "into_mediation_ticket_blocked",
        QUOTE,
        {
            "merge": "blocked",
            "macro": "CS > Mediation Ticket",
            "notes.0.body": Contains("Do not merge"),
        },
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "open"},
        merge={"source_ids": [TICKET_ID], "target_id": MEDIATION_TICKET_ID},
    ),
    case(
        "phone_uses_phone_macro",
        "For Phone Calls: CS > Phone - Mediation Ticket",
        {"macro": "CS > Phone - Mediation Ticket"},
        ticket__channel="phone",
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "open"},
        merge={"source_ids": [MEDIATION_TICKET_ID], "target_id": 7},
    ),
    case(
        "this_ticket_in_mediation_group",
        QUOTE,
        {"merge": "blocked"},
        ticket__group="HV Mediation Tier 1",
    ),
    case(
        "this_ticket_on_dispute_form",
        QUOTE,
        {"merge": "blocked"},
        ticket__form="Dispute Ticket Form - Escalate from CS",
    ),
    case(
        "this_ticket_tagged_mediation",
        QUOTE,
        {"merge": "blocked"},
        ticket__tags=["cs_mediation_ticket"],
    ),
    case(
        "unknown_target_blocked",
        QUOTE,
        {"merge": "blocked", "missing": ["merge_target"]},
        merge={"source_ids": [TICKET_ID]},
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_merge_guard(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


@pytest.mark.parametrize(
    ("facts", "merge"),
    [
        ({"inquiry": "dispute"}, "blocked"),  # escalated to a Mediation queue
        ({"inquiry": "dispute", "contract__payments": paid(40)}, None),  # Client Retention
        (
            {"inquiry": "follow_up", "linked_mediation_ticket": {"id": 99, "status": "open"}},
            "blocked",
        ),
    ],
    ids=["escalated_ticket_blocked", "retention_ticket_unflagged", "case_with_mediation_blocked"],
)
def test_every_decision_says_whether_merging_is_safe(
    facts: dict[str, Any], merge: str | None
) -> None:
    assert run(make(**facts)).merge == merge
