"""Rule family 3: which Mediation queue, high-value segments, never Mediation T2."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy, PolicyError
from app.routing.policy_loader import parse_policy

from .factories import (
    CASE_FIELDS,
    Contains,
    case,
    check,
    facts_factory,
    paid,
    policy_data,
    policy_variant,
    run,
)

make = facts_factory()

T1 = "Mediation_Tier_1_CX420"
HV = "HV Mediation Tier 1"
CATALOG = "Catalog_Mediation_CX420"
ENTERPRISE = "Dispute_Enterprise_CX420"
DIRECT = "Mediation_ Direct_Contracts_CX420"

HV_USERS = "Client: VSB +, SB, MM, LB"
HV_FL = "Freelancer: Top Rated/Top Rated Plus"
CATALOG_Q = "All Project Catalog mediation concerns should be routed to Catalog_Mediation_CX420."
DIRECT_Q = "Mediation_ Direct_Contracts_CX420 - use for Direct Contracts disputes"
QUEUES = "The following queues are monitored by the Mediation Team"
FIND_SEGMENT = "First, find out the segment of user in OBO"
VALUE = "depending on client status, freelancer status or value of dispute"

SEGMENT_CASES = [
    case(
        f"client_{segment.replace('+', '_plus')}_to_{queue.split()[0].lower()}",
        HV_USERS,
        {"queue": queue, "path": "mediation_escalation"},
        client__segment=segment,
    )
    for segment, queue in (
        ("VSB", T1),
        ("VSB+", HV),
        ("SB", HV),
        ("MM", HV),
        ("LB", HV),
        ("Enterprise", ENTERPRISE),
    )
]

BADGE_CASES = [
    case(
        f"freelancer_{badge.replace(' ', '_').lower()}",
        HV_FL,
        {"queue": queue},
        freelancer__badge=badge,
    )
    for badge, queue in (("none", T1), ("Top Rated", HV), ("Top Rated Plus", HV))
]

OTHER_CASES = [
    case(
        "project_catalog_to_catalog",
        CATALOG_Q,
        {"queue": CATALOG},
        contract__type="project_catalog",
        contract__payments=paid(3, kind="milestone"),
    ),
    case(
        "project_catalog_wins_over_hv",
        CATALOG_Q,
        {"queue": CATALOG},
        contract__type="project_catalog",
        contract__payments=paid(3, kind="milestone"),
        client__segment="SB",
    ),
    case(
        "project_catalog_wins_over_enterprise",
        CATALOG_Q,
        {"queue": CATALOG},
        contract__type="project_catalog",
        contract__payments=paid(3, kind="milestone"),
        client__segment="Enterprise",
    ),
    case(
        "direct_contract_wins_over_enterprise",
        DIRECT_Q,
        {"queue": DIRECT},
        contract__type="direct_contract",
        contract__escrow_released_on="2024-06-10",
        client__segment="Enterprise",
    ),
    case(
        "enterprise_wins_over_top_rated",
        QUEUES,
        {"queue": ENTERPRISE},
        client__segment="Enterprise",
        freelancer__badge="Top Rated Plus",
    ),
    case(
        "segment_unknown_asks",
        FIND_SEGMENT,
        {"queue": None, "path": "needs_info", "missing": ["client_segment"]},
        client__segment=None,
    ),
    case(
        "badge_unknown_asks",
        FIND_SEGMENT,
        {"queue": None, "missing": ["freelancer_badge"]},
        freelancer__badge=None,
    ),
    case(
        "badge_unknown_but_client_hv",
        HV_USERS,
        {"queue": HV},
        client__segment="MM",
        freelancer__badge=None,
    ),
    case(
        "segment_unknown_but_freelancer_hv_asks_for_enterprise",
        FIND_SEGMENT,
        {"missing": ["client_segment"]},
        client__segment=None,
        freelancer__badge="Top Rated",
    ),
    case(
        "segment_unknown_standard_setting",
        FIND_SEGMENT,
        {"queue": T1},
        policy=policy_variant(settings__unknown_segment="standard"),
        client__segment=None,
    ),
    case(
        "hv_via_tier_1_setting",
        "Tickets will automatically reopen to HV Mediation or Mediation.",
        {"queue": T1, "trace": Contains({"why": Contains("via_tier_1")})},
        policy=policy_variant(settings__hv_routing="via_tier_1"),
        client__segment="SB",
    ),
    case(
        "dispute_value_at_threshold_is_hv",
        VALUE,
        {"queue": HV},
        policy=policy_variant(settings__hv_dispute_value=500),
        contract__payments=paid(3, 4),
        dispute__hours_charged_on="2024-06-03",  # an older week: not in-product any more
    ),
    case(
        "dispute_value_below_threshold",
        VALUE,
        {"queue": T1},
        policy=policy_variant(settings__hv_dispute_value=501),
        contract__payments=paid(3, 4),
        dispute__hours_charged_on="2024-06-03",
    ),
    case("lenient_segment_case", HV_USERS, {"queue": HV}, client__segment="vsb +"),
    case("lenient_badge_case", HV_FL, {"queue": HV}, freelancer__badge="TOP_RATED_PLUS"),
]


@pytest.mark.parametrize(CASE_FIELDS, SEGMENT_CASES + BADGE_CASES + OTHER_CASES)
def test_queue_choice(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


def test_trace_says_why_not_hv() -> None:
    decision = run(make(client__segment="VSB", freelancer__badge="none"))
    why_not = [s.why for s in decision.trace if s.step == "queue" and s.outcome == "not_chosen"]
    assert any(
        w.startswith("not HV Mediation Tier 1: client segment VSB is not in VSB+, SB, MM, LB")
        and "freelancer badge none is not in Top Rated, Top Rated Plus" in w
        for w in why_not
    )


def test_routing_to_mediation_t2_is_rejected_at_load() -> None:
    """'*** Please do not route tickets to Mediation T2'."""
    data = policy_data()
    data["routes"]["high_value"] = "Mediation T2"
    import yaml

    with pytest.raises(PolicyError, match="Mediation T2"):
        parse_policy(yaml.safe_dump(data).encode(), "t2.yaml")


def test_default_policy_marks_mediation_t2_unroutable() -> None:
    from .factories import default_policy

    spec = default_policy().queues["Mediation T2"]
    assert spec.routable is False
    assert "Mediation T2" not in default_policy().routes.model_dump().values()
