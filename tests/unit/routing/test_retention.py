"""Rule family 4: past the 30-day window, UIR, in-product follow-ups, work diary abuse, NDF."""

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
    policy_variant,
    run,
)

make = facts_factory()

CR2 = "Client Retention Tier 2"
ABUSE = "Hourly Job Abuse Queue"
NDF = "Client Retention - NDF Daily"
T1 = "Mediation_Tier_1_CX420"

RETENTION = "If the last payment is 31-60 days ago (31-90, if HV CL or FL)"
UIR = "UIR related inquiries"
FOLLOW = "Freelancer/Client following up with Hourly In Product Dispute"
UPDATES = (
    "Any updates will be displayed on the Site directly & cases usually close/solve within 4 "
    "calendar days"
)
AUTOCLICKER = (
    "Use of Auto Clicker: Possibility of the Freelancer logging artificial hours on the contract."
)
EXCESSIVE = (
    "Excessive Hours Logged: Freelancer bills excessive hours on the contract weekly(EX: FL "
    "billing over 100 hours a week)"
)
UNAUTHORIZED = "Billing unauthorized hours"
NON_WORK = "Logging non-work related hours"
INSIDE = (
    "If it's within the 30 day window agent should still send the ticket to the hourly job "
    "abuse queue for review."
)
NDF_Q = "NDF (Freelancer's who have been determined as NDF by RM)"

WINDOW_CASES = [
    case(
        "day_31_client_retention",
        RETENTION,
        {"queue": CR2, "path": "retention_past_window", "eligible": False, "status": "open"},
        contract__payments=paid(31),
    ),
    case("day_60_client_retention", RETENTION, {"queue": CR2}, contract__payments=paid(60)),
    case(
        "day_61_regular_not_eligible",
        RETENTION,
        {
            "queue": None,
            "path": "not_eligible",
            "trace": Contains({"step": "retention", "outcome": "not_chosen"}),
        },
        contract__payments=paid(61),
    ),
    case(
        "day_61_hv_client",
        RETENTION,
        {"queue": CR2},
        contract__payments=paid(61),
        client__segment="SB",
    ),
    case(
        "day_90_hv_freelancer",
        RETENTION,
        {"queue": CR2},
        contract__payments=paid(90),
        freelancer__badge="Top Rated",
    ),
    case(
        "day_91_hv_not_eligible",
        RETENTION,
        {"queue": None, "path": "not_eligible"},
        contract__payments=paid(91),
        client__segment="LB",
    ),
    case(
        "day_75_enterprise_counts_as_hv",
        RETENTION,
        {"queue": CR2},
        contract__payments=paid(75),
        client__segment="Enterprise",
    ),
    case(
        "day_75_enterprise_not_hv_setting",
        RETENTION,
        {"queue": None},
        policy=policy_variant(settings__enterprise_high_value_for_retention=False),
        contract__payments=paid(75),
        client__segment="Enterprise",
    ),
    case(
        "day_75_segment_unknown_asks",
        RETENTION,
        {"path": "needs_info", "missing": ["client_segment"]},
        contract__payments=paid(75),
        client__segment=None,
    ),
    case(
        "day_45_fixed_price_client_retention",
        RETENTION,
        {"queue": CR2},
        contract__type="fixed_price",
        contract__payments=paid(45, kind="milestone"),
    ),
    case(
        "leap_2024_day_60_boundary",
        RETENTION,
        {"queue": CR2},
        now=dt.date(2024, 4, 29),
        contract__payments=[{"date": "2024-02-29", "kind": "hourly"}],
    ),
    case(
        "leap_2024_day_61_boundary",
        RETENTION,
        {"queue": None},
        now=dt.date(2024, 4, 30),
        contract__payments=[{"date": "2024-02-29", "kind": "hourly"}],
    ),
    case(
        "uir_to_client_retention",
        UIR,
        {
            "queue": CR2,
            "path": "uir_retention",
            "notes.0.body": Contains("Related RT: https://rt/42"),
        },
        inquiry="uir",
        related_rt_link="https://rt/42",
    ),
    case(
        "uir_without_contract_asks",
        UIR,
        {"path": "needs_info", "missing": ["contract_id"]},
        inquiry="uir",
        contract__id=None,
    ),
]


def in_product(filed_on: str, status: str = "under_review") -> dict[str, Any]:
    return {"inquiry": "follow_up", "dispute__in_product": {"filed_on": filed_on, "status": status}}


FOLLOW_UP_CASES = [
    case(
        "hourly_in_product_day_4_reply",
        UPDATES,
        {
            "path": "in_product_update",
            "queue": None,
            "follow_up.after": "2024-06-12",
            "reply_guidance": Contains("displayed on the Site directly"),
        },
        **in_product("2024-06-08"),
    ),
    case(
        "hourly_in_product_day_5_retention",
        FOLLOW,
        {"queue": CR2, "path": "in_product_retention"},
        **in_product("2024-06-07"),
    ),
    case(
        "hourly_in_product_decided_retention",
        FOLLOW,
        {"queue": CR2},
        **in_product("2024-06-11", "decided"),
    ),
    case(
        "hourly_in_product_always_setting",
        FOLLOW,
        {"queue": CR2},
        policy=policy_variant(settings__in_product_follow_up="always"),
        **in_product("2024-06-11"),
    ),
    case(
        "hourly_in_product_filed_unknown_asks",
        FOLLOW,
        {"missing": ["in_product_filed_on"]},
        inquiry="follow_up",
        dispute__in_product={"status": "under_review"},
    ),
    case(
        "business_days_skip_july_4_inside",
        "We can now say that all disputes will be resolved within 3-4 business days.",
        {"path": "in_product_update", "follow_up.after": "2024-07-10"},
        now=dt.date(2024, 7, 10),
        policy=policy_variant(timeframes__in_product_review_day_kind="business"),
        **in_product("2024-07-03"),
    ),
    case(
        "business_days_skip_july_4_after",
        "We can now say that all disputes will be resolved within 3-4 business days.",
        {"queue": CR2},
        now=dt.date(2024, 7, 11),
        policy=policy_variant(timeframes__in_product_review_day_kind="business"),
        **in_product("2024-07-03"),
    ),
    case(
        "fixed_price_in_product_reply",
        UPDATES,
        {"path": "in_product_update", "queue": None},
        contract__type="fixed_price",
        **in_product("2024-06-01"),
    ),
    case(
        "fixed_price_in_product_refund_pending",
        "The freelancer has 7 calendar days to accept/reject that request.",
        {
            "path": "in_product_update",
            "follow_up.after": "2024-06-17",
            "reply_guidance": Contains("until 2024-06-17"),
        },
        contract__type="fixed_price",
        contract__refund_request={"requested_on": "2024-06-10", "status": "pending"},
        **in_product("2024-06-10"),
    ),
    case(
        "follow_up_without_any_dispute_asks",
        "Find the Mediation ticket",
        {"path": "needs_info", "missing": ["mediation_ticket"]},
        inquiry="follow_up",
    ),
]

ABUSE_CASES = [
    case(
        "autoclicker_inside_window",
        INSIDE,
        {
            "queue": ABUSE,
            "path": "hourly_abuse_escalation",
            "eligible": True,
            "notes.0.body": Contains("so that the dispute agent is aware"),
        },
        abuse__autoclicker=True,
    ),
    case(
        "autoclicker_past_window",
        AUTOCLICKER,
        {"queue": ABUSE, "eligible": False},
        abuse__autoclicker=True,
        contract__payments=paid(45),
    ),
    case("hours_100_is_not_over_100", EXCESSIVE, {"queue": T1}, abuse__hours_last_week=100),
    case(
        "hours_101_is_over_100",
        EXCESSIVE,
        {"queue": ABUSE, "notes.0.body": Contains("excessive hours logged (101 hours")},
        abuse__hours_last_week=101,
    ),
    case("hours_100_5_is_over_100", EXCESSIVE, {"queue": ABUSE}, abuse__hours_last_week="100.5"),
    case("unauthorized_hours_flag", UNAUTHORIZED, {"queue": ABUSE}, abuse__unauthorized_hours=True),
    case("non_work_hours_flag", NON_WORK, {"queue": ABUSE}, abuse__non_work_hours=True),
    case(
        "reason_unauthorized_hours",
        UNAUTHORIZED,
        {"queue": ABUSE},
        dispute__reasons=["Unauthorized Hours"],
    ),
    case(
        "reason_non_work_related_hours",
        NON_WORK,
        {"queue": ABUSE},
        dispute__reasons=["Non-Work Related Hours"],
    ),
    case(
        "reason_excessive_hours_alone_is_mediation",
        "Excessive Hours - FL logs more hours than agreed upon",
        {"queue": T1},
        dispute__reasons=["Excessive Hours"],
    ),
    case(
        "abuse_report_without_flags",
        "Report of abuse/autoclicker in FL work diary",
        {"queue": ABUSE},
        inquiry="abuse_report",
    ),
    case(
        "abuse_report_on_fixed_price_is_a_dispute",
        AUTOCLICKER,
        {"queue": T1, "trace": Contains({"step": "hourly_abuse", "outcome": "skip"})},
        inquiry="abuse_report",
        contract__type="fixed_price",
        contract__payments=paid(3, kind="milestone"),
    ),
    case(
        "abuse_contract_type_unknown_asks",
        AUTOCLICKER,
        {"missing": Contains("contract_type")},
        abuse__autoclicker=True,
        contract__type=None,
    ),
    case(
        "abuse_note_on_linked_mediation_ticket",
        INSIDE,
        {"queue": ABUSE, "notes.1.ticket_id": MEDIATION_TICKET_ID, "notes.0.ticket_id": TICKET_ID},
        inquiry="abuse_report",
        linked_mediation_ticket={"id": MEDIATION_TICKET_ID, "status": "open"},
    ),
]

NDF_CASES = [
    case(
        "ndf_inside_window", NDF_Q, {"queue": NDF, "path": "ndf_escalation"}, freelancer__ndf=True
    ),
    case(
        "ndf_past_window", NDF_Q, {"queue": NDF}, freelancer__ndf=True, contract__payments=paid(50)
    ),
    case(
        "ndf_mediation_setting_inside_window",
        NDF_Q,
        {"queue": T1},
        policy=policy_variant(settings__ndf_within_mediation_window="mediation"),
        freelancer__ndf=True,
    ),
    case(
        "ndf_mediation_setting_past_window",
        NDF_Q,
        {"queue": NDF},
        policy=policy_variant(settings__ndf_within_mediation_window="mediation"),
        freelancer__ndf=True,
        contract__payments=paid(50),
    ),
    case("ndf_uir", NDF_Q, {"queue": NDF}, freelancer__ndf=True, inquiry="uir"),
    case("not_ndf", NDF_Q, {"queue": T1}, freelancer__ndf=False),
]


@pytest.mark.parametrize(CASE_FIELDS, WINDOW_CASES + FOLLOW_UP_CASES)
def test_client_retention(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


@pytest.mark.parametrize(CASE_FIELDS, ABUSE_CASES + NDF_CASES)
def test_abuse_and_ndf(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


def test_retention_note_has_summary_profile_contract_and_rt() -> None:
    """'Quick summary of the issue / OBO profile link / Contract ID number / Any RT link'."""
    decision = run(make(contract__payments=paid(40), related_rt_link="https://rt/7"))
    body = decision.notes[0].body
    for line in (
        "Quick summary: ",
        "OBO profile links: client https://obo/client1; freelancer https://obo/fl1",
        "Contract ID: C-1",
        "Related RT: https://rt/7",
    ):
        assert line in body


def test_abuse_escalation_is_one_note_on_this_ticket() -> None:
    decision = run(make(abuse__autoclicker=True))
    assert [n.ticket_id for n in decision.notes] == [TICKET_ID]
    assert (
        "Escalated to Hourly Job Abuse Queue for review: use of auto clicker."
        in decision.notes[0].body
    )
