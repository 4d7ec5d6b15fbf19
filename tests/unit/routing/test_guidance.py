"""Rule family 12: what to tell the user on each path (reply guidance)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy

from .factories import (
    CASE_FIELDS,
    MEDIATION_TICKET_ID,
    Contains,
    case,
    check,
    facts_factory,
    paid,
    policy_variant,
    run,
)

make = facts_factory()

CONTACT = (
    "Mediation will email both parties within 2-3 business days (sometimes it depends on the "
    "queue volume)"
)
LAST_30 = "& cases can (not always) last up to 30 days"
CENTER = "Give the user the link: https://upworkdispute.zendesk.com/hc/en-us"
OTHER = "Offer to reach out to Client on their behalf"
PROTECTED = "Make sure they are aware how they are protected under Hourly and Fixed-Price contracts"
BEST = "See “Client Contract Issues Best Practices” dropdown"

CASES = [
    case(
        "escalation_contact_by_business_day",
        CONTACT,
        {
            "reply_guidance.0": "Mediation will email both parties within 2-3 business days "
            "(by 2024-06-17); "
            "it can take longer when the queue volume is high."
        },
    ),
    case(
        "escalation_skips_july_4",
        CONTACT,
        {"reply_guidance.0": Contains("(by 2024-07-08)")},
        now=dt.date(2024, 7, 2),
        contract__payments=[{"date": "2024-06-20", "kind": "hourly"}],
    ),
    case(
        "escalation_skips_thanksgiving",
        CONTACT,
        {"reply_guidance.0": Contains("(by 2024-12-02)")},
        now=dt.date(2024, 11, 26),
        contract__payments=[{"date": "2024-11-20", "kind": "hourly"}],
    ),
    case(
        "escalation_3_to_5_days_skips_juneteenth",
        "The team reaches out within 3-5 business days.",
        {"reply_guidance.0": Contains("within 3-5 business days (by 2024-06-20)")},
        policy=policy_variant(timeframes__mediation_contact_business_days=[3, 5]),
    ),
    case(
        "escalation_uk_holidays_setting",
        CONTACT,
        {"reply_guidance.0": Contains("(by 2024-12-30)")},
        policy=policy_variant(calendar__holiday_country="GB"),
        now=dt.date(2024, 12, 23),
        contract__payments=[{"date": "2024-12-20", "kind": "hourly"}],
    ),
    case(
        "escalation_up_to_30_days",
        LAST_30,
        {"reply_guidance.1": "Mediation can take up to 30 days."},
    ),
    case(
        "escalation_dispute_center_link",
        CENTER,
        {"reply_guidance": Contains("https://upworkdispute.zendesk.com/hc/en-us")},
    ),
    case(
        "with_mediation_open",
        LAST_30,
        {"reply_guidance.0": Contains("cases can (not always) last up to 30 days")},
        inquiry="follow_up",
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "open"},
    ),
    case(
        "not_eligible_freelancer_options",
        OTHER,
        {
            "reply_guidance": Contains(
                "Offer to reach out to the client on the freelancer's behalf."
            )
        },
        requester_role="freelancer",
        contract__payments=paid(100),
    ),
    case(
        "not_eligible_freelancer_protections",
        PROTECTED,
        {"reply_guidance": Contains("protected under Hourly and Fixed-Price contracts")},
        requester_role="freelancer",
        contract__payments=paid(100),
    ),
    case(
        "not_eligible_client_best_practices",
        BEST,
        {"reply_guidance": Contains("Client Contract Issues Best Practices")},
        contract__payments=paid(100),
    ),
    case(
        "not_eligible_says_why",
        "Requesting Dispute & Not Eligible",
        {"reply_guidance.0": Contains("Not eligible for Mediation: last qualifying payment")},
        contract__payments=paid(100),
    ),
    case(
        "retention_reply",
        "Team is also referred to as “Customer Experience Specialist”",
        {"reply_guidance": ["The Client Retention team will review the case and reach out."]},
        contract__payments=paid(40),
    ),
    case(
        "merge_blocked_reply",
        "use the appropriate Tag-only macro instead",
        {"reply_guidance": Contains("CS > Mediation Ticket")},
        inquiry="merge_requested",
        linked_mediation_ticket={"id": 99, "status": "open"},
        merge={"source_ids": [5100001], "target_id": 99},
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_reply_guidance(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


@pytest.mark.parametrize(
    "facts",
    [
        {"contract__payments": paid(3)},
        {"contract__payments": paid(40)},
        {"contract__payments": paid(100)},
        {"inquiry": "payment_refusal"},
        {"inquiry": "chargeback_threat"},
        {"inquiry": "change_terms"},
        {"inquiry": "uir"},
        {"dispute__reasons": ["Abusive Communication"]},
        {"abuse__autoclicker": True},
        {"freelancer__ndf": True},
        {"contract__id": None},
    ],
    ids=lambda f: "_".join(str(k) for k in f),
)
def test_every_path_gives_the_agent_something_to_say(facts: dict[str, Any]) -> None:
    decision = run(make(**facts))
    assert decision.reply_guidance
    assert all(line.strip() and "None" not in line for line in decision.reply_guidance)
