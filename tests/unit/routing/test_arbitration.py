"""Rule family 11: arbitration eligibility for fixed-price disputes, reported for the agent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy

from .factories import CASE_FIELDS, Contains, case, check, facts_factory, paid, run

make = facts_factory(contract__type="fixed_price", contract__payments=paid(10, kind="milestone"))

ELIGIBLE = "A dispute is eligible for arbitration if: 1. There are funds held in escrow; or"
LAST_30 = "2. There are no funds in escrow, but the last payment was released within 30 days"
FEE = "The arbitration fee ($675.00) is split equally between the client and freelancer."
DIRECT = "Ideally, within 7 days of escrow release. No Arbitration available."

CASES = [
    case(
        "escrow_makes_eligible",
        ELIGIBLE,
        {"arbitration.eligible": True, "arbitration.code": "funds_in_escrow"},
        contract__funds_in_escrow="300.00",
        contract__payments=paid(200, kind="milestone"),
    ),
    case(
        "fee_split_equally",
        FEE,
        {
            "arbitration.fee": "675.00",
            "arbitration.fee_share_each": "337.50",
            "arbitration.provider": "Brief",
        },
    ),
    case(
        "last_payment_day_30",
        LAST_30,
        {"arbitration.eligible": True},
        contract__payments=paid(30, kind="milestone"),
    ),
    case(
        "last_payment_day_31",
        LAST_30,
        {
            "arbitration.eligible": False,
            "arbitration.code": "no_escrow_and_last_payment_past_window",
        },
        contract__payments=paid(31, kind="milestone"),
    ),
    case(
        "leap_day_payment_30_days_later",
        LAST_30,
        {"arbitration.eligible": True},
        now=dt.date(2024, 3, 30),
        contract__payments=[{"date": "2024-02-29", "kind": "milestone"}],
    ),
    case(
        "unknown_payments_and_escrow",
        LAST_30,
        {"arbitration.eligible": None, "arbitration.code": "unknown"},
        contract__payments=None,
        contract__funds_in_escrow=None,
    ),
    case(
        "project_catalog_is_fixed_price",
        ELIGIBLE,
        {"arbitration.applicable": True},
        contract__type="project_catalog",
    ),
    case(
        "direct_contract_no_arbitration",
        DIRECT,
        {
            "arbitration.applicable": False,
            "arbitration.eligible": False,
            "arbitration.code": "direct_contract_no_arbitration",
        },
        contract__type="direct_contract",
    ),
    case(
        "hourly_not_reported",
        "Dispute assistance is available for up to 30 days, or until Mediation has become "
        "exhausted",
        {"arbitration": None},
        contract__type="hourly",
        contract__payments=paid(3),
    ),
    case(
        "escalation_tells_the_agent",
        FEE,
        {
            "reply_guidance": Contains(
                "arbitration by Brief may be offered; the fee ($675.00) is split equally "
                "($337.50 each)"
            )
        },
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_arbitration(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)
