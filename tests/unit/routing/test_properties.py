"""Properties over every facts object the contract allows (absent fields included):
the decision never crashes, never routes to Mediation T2, never sends an ineligible case to a
Mediation queue, and is deterministic."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.routing import Decision, Policy, TicketFacts, decide
from app.routing.facts import (
    Abuse,
    Account,
    Badge,
    Channel,
    Client,
    Contract,
    ContractStatus,
    ContractType,
    Dispute,
    DisputeReason,
    Freelancer,
    InProductDispute,
    InProductStatus,
    Inquiry,
    LinkedTicket,
    MergeRequest,
    Payment,
    PaymentKind,
    RefundRequest,
    RefundStatus,
    Role,
    Segment,
    Ticket,
    TicketStatus,
)
from app.routing.outcome import ALREADY_WITH_MEDIATION

from .factories import NOW, default_policy, policy_variant


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


# Mostly dates around 2024, sometimes any date at all (year 1 to 9999).
DATES = st.dates(min_value=dt.date(2023, 10, 1), max_value=dt.date(2025, 3, 31)) | st.dates()
MONEY = st.decimals(min_value=0, max_value=2000, places=2, allow_nan=False, allow_infinity=False)
TEXT = st.sampled_from(["", " ", "jdoe", "C-1", "x" * 40])
IDS = st.integers(min_value=1, max_value=200)
GROUPS = st.sampled_from(
    ["Customer Support", "Mediation_Tier_1_CX420", "Mediation T2", "HV Mediation Tier 1"]
)
TAGS = st.lists(
    st.sampled_from(
        [
            "vip",
            "triage_routed",
            "triage_path_not_eligible",
            "triage_needs_info",
            "cs_mediation_ticket",
        ]
    ),
    max_size=3,
)

tickets = st.builds(
    Ticket,
    id=IDS,
    status=maybe(st.sampled_from(TicketStatus)),
    channel=maybe(st.sampled_from(Channel)),
    group=maybe(GROUPS),
    form=maybe(st.sampled_from(["Default Ticket Form", "Dispute Ticket Form - Escalate from CS"])),
    tags=maybe(TAGS),
    subject=maybe(TEXT),
    created_on=maybe(DATES),
)
payments = st.builds(
    Payment, date=maybe(DATES), kind=maybe(st.sampled_from(PaymentKind)), amount=maybe(MONEY)
)
contracts = st.builds(
    Contract,
    id=maybe(TEXT),
    type=maybe(st.sampled_from(ContractType)),
    status=maybe(st.sampled_from(ContractStatus)),
    payments=maybe(st.lists(payments, max_size=3)),
    funds_in_escrow=maybe(MONEY),
    escrow_released_on=maybe(DATES),
    refund_request=maybe(
        st.builds(
            RefundRequest, requested_on=maybe(DATES), status=maybe(st.sampled_from(RefundStatus))
        )
    ),
    payment_past_due_days=maybe(st.integers(min_value=0, max_value=30)),
)
disputes = st.builds(
    Dispute,
    reasons=maybe(st.lists(st.sampled_from(DisputeReason), max_size=3)),
    disputed_payment_kind=maybe(st.sampled_from(PaymentKind)),
    closed=maybe(st.booleans()),
    client_refuses_milestone_release=maybe(st.booleans()),
    partial_milestone_release=maybe(st.booleans()),
    in_product=maybe(
        st.builds(
            InProductDispute, filed_on=maybe(DATES), status=maybe(st.sampled_from(InProductStatus))
        )
    ),
    hours_charged_on=maybe(DATES),
    time_mostly_offline=maybe(st.booleans()),
    obvious_fraud=maybe(st.booleans()),
    manual_dispute_requested=maybe(st.booleans()),
    new_information=maybe(st.booleans()),
)
facts_strategy = st.builds(
    TicketFacts,
    ticket=tickets,
    requester_role=maybe(st.sampled_from(Role)),
    inquiry=maybe(st.sampled_from(Inquiry)),
    contract=maybe(contracts),
    client=maybe(
        st.builds(
            Client,
            username=maybe(TEXT),
            segment=maybe(st.sampled_from(Segment)),
            profile_url=maybe(TEXT),
        )
    ),
    freelancer=maybe(
        st.builds(
            Freelancer,
            username=maybe(TEXT),
            badge=maybe(st.sampled_from(Badge)),
            ndf=maybe(st.booleans()),
            profile_url=maybe(TEXT),
        )
    ),
    dispute=maybe(disputes),
    account=maybe(st.builds(Account, suspended_by_mediation=maybe(st.booleans()))),
    abuse=maybe(
        st.builds(
            Abuse,
            autoclicker=maybe(st.booleans()),
            hours_last_week=maybe(MONEY),
            unauthorized_hours=maybe(st.booleans()),
            non_work_hours=maybe(st.booleans()),
        )
    ),
    linked_mediation_ticket=maybe(
        st.builds(
            LinkedTicket,
            id=maybe(IDS),
            status=maybe(st.sampled_from(TicketStatus)),
            opened_on=maybe(DATES),
            solved_on=maybe(DATES),
        )
    ),
    merge=maybe(
        st.builds(MergeRequest, source_ids=maybe(st.lists(IDS, max_size=2)), target_id=maybe(IDS))
    ),
    related_rt_link=maybe(TEXT),
)
# Facts that are mostly complete, so that the Mediation routes are exercised too.
# Their dates fall around NOW (the day they are decided on), where the windows end.
NEAR = st.dates(min_value=NOW - dt.timedelta(days=100), max_value=NOW + dt.timedelta(days=3))
dense_contracts = st.builds(
    Contract,
    id=st.just("C-9"),
    type=st.sampled_from(ContractType),
    status=st.sampled_from(ContractStatus),
    payments=st.lists(
        st.builds(Payment, date=NEAR, kind=st.sampled_from(PaymentKind), amount=MONEY), max_size=3
    ),
    funds_in_escrow=st.sampled_from([Decimal(0), Decimal("0.00"), Decimal("120.00")]),
    escrow_released_on=maybe(NEAR),
    refund_request=maybe(
        st.builds(RefundRequest, requested_on=NEAR, status=st.sampled_from(RefundStatus))
    ),
)
dense_facts = st.builds(
    TicketFacts,
    ticket=st.builds(
        Ticket,
        id=IDS,
        status=st.sampled_from([TicketStatus.NEW, TicketStatus.OPEN]),
        channel=st.sampled_from(Channel),
        tags=TAGS,
    ),
    requester_role=st.sampled_from(Role),
    inquiry=st.just(Inquiry.DISPUTE) | st.sampled_from(Inquiry),
    contract=dense_contracts,
    client=st.builds(Client, username=st.just("client9"), segment=st.sampled_from(Segment)),
    freelancer=st.builds(
        Freelancer,
        username=st.just("fl9"),
        badge=st.sampled_from(Badge),
        ndf=st.sampled_from([False, False, False, True]),
    ),
    dispute=st.builds(
        Dispute,
        reasons=st.lists(st.sampled_from(DisputeReason), max_size=2),
        disputed_payment_kind=maybe(st.sampled_from(PaymentKind)),
        closed=st.booleans(),
        client_refuses_milestone_release=st.booleans(),
        partial_milestone_release=st.booleans(),
        in_product=maybe(
            st.builds(InProductDispute, filed_on=NEAR, status=st.sampled_from(InProductStatus))
        ),
        hours_charged_on=maybe(NEAR),
        time_mostly_offline=st.booleans(),
        obvious_fraud=st.booleans(),
        manual_dispute_requested=st.booleans(),
        new_information=st.booleans(),
    ),
    account=st.builds(Account, suspended_by_mediation=st.booleans()),
    abuse=maybe(st.builds(Abuse, autoclicker=st.booleans(), hours_last_week=MONEY)),
    linked_mediation_ticket=maybe(
        st.builds(
            LinkedTicket,
            id=IDS,
            status=st.sampled_from(TicketStatus),
            opened_on=maybe(NEAR),
            solved_on=maybe(NEAR),
        )
    ),
)
TODAY = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 12, 31)) | st.dates()
# (facts, today): sparse facts on any day of 2024, dense facts on NOW.
cases = st.one_of(st.tuples(facts_strategy, TODAY), st.tuples(dense_facts, st.just(NOW)))


def policies() -> list[Policy]:
    return [
        default_policy(),
        policy_variant(
            settings__escalation_status="solved",
            settings__hv_routing="via_tier_1",
            settings__unknown_segment="standard",
        ),
        policy_variant(
            settings__require_closed_contract=False,
            settings__escrow_qualifies=False,
            settings__client_active_fp_released="escalate",
            settings__hv_dispute_value=300,
        ),
        policy_variant(
            settings__in_product_follow_up="always",
            settings__ndf_within_mediation_window="mediation",
            timeframes__in_product_review_day_kind="business",
            hourly_in_product__contract_statuses=["active"],
            manual_dispute__require_grounds=False,
            direct_contracts__fixed_price_rules=False,
        ),
    ]


POLICIES = st.sampled_from(policies())
QUALIFYING = {PaymentKind.HOURLY, PaymentKind.MILESTONE}


def could_be_eligible(facts: TicketFacts, now: dt.date) -> bool:
    """An independent, necessary condition for any Mediation route of a new case."""
    contract, dispute = facts.contract, facts.dispute or Dispute()
    if contract is None or contract.type is None:
        return False
    if dispute.disputed_payment_kind not in (None, *QUALIFYING):
        return False
    direct = contract.type == ContractType.DIRECT_CONTRACT
    window = 7 if direct else 30
    days = [p.date for p in contract.payments or [] if p.kind in QUALIFYING and p.date]
    days += [contract.escrow_released_on] if direct and contract.escrow_released_on else []
    recent = any((now - day).days <= window for day in days)
    # Direct Contracts follow the fixed-price rules: escrow held counts for them too.
    escrow = (contract.funds_in_escrow or Decimal(0)) > 0
    exception = bool(dispute.client_refuses_milestone_release or dispute.partial_milestone_release)
    return recent or escrow or exception


def assert_invariants(decision: Decision, facts: TicketFacts, policy: Policy, now: dt.date) -> None:
    assert decision.queue != "Mediation T2"
    if decision.queue is not None:
        spec = policy.queues[decision.queue]
        assert spec.routable and spec.group != "Mediation T2"
        if spec.mediation and decision.path not in ALREADY_WITH_MEDIATION:
            assert decision.eligible is True
            assert could_be_eligible(facts, now), decision.trace
    assert all(step.step != "invariant" for step in decision.trace), "the last-resort guard fired"


@settings(max_examples=400)
@given(case=cases, policy=POLICIES)
def test_decide_is_total_and_keeps_the_invariants(
    case: tuple[TicketFacts, dt.date], policy: Policy
) -> None:
    facts, now = case
    decision = decide(facts, policy, now)
    assert_invariants(decision, facts, policy, now)
    assert decision.policy.version == policy.version
    assert decision.trace and decision.ticket_id == facts.ticket.id
    assert Decision.model_validate(decision.model_dump(mode="json")) == decision


@given(case=cases, policy=POLICIES)
def test_decide_is_deterministic(case: tuple[TicketFacts, dt.date], policy: Policy) -> None:
    facts, now = case
    first = decide(facts, policy, now).model_dump(mode="json")
    again = decide(copy.deepcopy(facts), policy, now).model_dump(mode="json")
    assert first == again


@given(case=cases)
def test_notes_target_this_ticket_or_the_mediation_ticket_once_each(
    case: tuple[TicketFacts, dt.date],
) -> None:
    facts, now = case
    decision = decide(facts, default_policy(), now)
    targets = [note.ticket_id for note in decision.notes]
    linked = facts.linked_mediation_ticket.id if facts.linked_mediation_ticket else None
    assert len(targets) == len(set(targets))
    assert set(targets) <= {facts.ticket.id, linked}


@given(case=cases)
def test_every_routed_ticket_is_tagged(case: tuple[TicketFacts, dt.date]) -> None:
    facts, now = case
    decision = decide(facts, default_policy(), now)
    if decision.path not in ("ticket_closed", "owned_by_mediation"):  # hands off
        assert decision.tags.add[:2] == ["triage_routed", f"triage_path_{decision.path}"]
    assert not set(decision.tags.add) & set(decision.tags.remove)


@given(case=cases)
def test_datetime_now_is_read_as_its_date(case: tuple[TicketFacts, dt.date]) -> None:
    facts, now = case
    at_noon = dt.datetime.combine(now, dt.time(12, 0))
    assert decide(facts, default_policy(), at_noon) == decide(facts, default_policy(), now)


def friday_of(charged: dt.date) -> dt.date | None:
    """Independently: the Friday on or after a charge day (None past the calendar's end)."""
    ahead = (4 - charged.weekday()) % 7
    return (
        None if charged > dt.date.max - dt.timedelta(days=ahead) else charged + dt.timedelta(ahead)
    )


@settings(max_examples=300)
@given(case=cases, policy=POLICIES)
def test_hours_inside_their_review_window_never_go_to_mediation(
    case: tuple[TicketFacts, dt.date], policy: Policy
) -> None:
    """'first check to see if filing an in-product dispute is possible'."""
    facts, now = case
    decision = decide(facts, policy, now)
    contract, dispute = facts.contract, facts.dispute
    charged = dispute.hours_charged_on if dispute else None
    friday = friday_of(charged) if charged else None
    inside = (
        contract is not None
        and contract.type == ContractType.HOURLY
        and contract.status in policy.hourly_in_product.contract_statuses
        and facts.requester_role == Role.CLIENT
        and dispute is not None
        and dispute.disputed_payment_kind in (None, PaymentKind.HOURLY)
        and friday is not None
        and now <= friday
        and (facts.linked_mediation_ticket is None or facts.linked_mediation_ticket.id is None)
    )
    if inside:
        assert not policy.is_mediation_queue(decision.queue), decision.trace


@settings(max_examples=300)
@given(case=cases, policy=POLICIES)
def test_a_case_over_is_never_mediated_again(
    case: tuple[TicketFacts, dt.date], policy: Policy
) -> None:
    """'Why does the dispute team not mediate cases again?'"""
    facts, now = case
    decision = decide(facts, policy, now)
    linked = facts.linked_mediation_ticket
    contacted = facts.ticket.created_on or now
    limit = policy.mediation_follow_ups.case_days_from_start
    if linked is not None and linked.opened_on is not None:
        if (contacted - linked.opened_on).days > limit:
            assert decision.path != "with_mediation_reassign", decision.trace
