"""Rule family 6: escalation mechanics: form, fields, status, group, tag-only macros by channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Policy

from .factories import (
    CASE_FIELDS,
    TICKET_ID,
    case,
    check,
    dumped,
    facts_factory,
    paid,
    policy_variant,
    run,
)

make = facts_factory()

PHONE = "CS > Phone - Mediation Ticket"
CHAT = "CS > Mediation Ticket"
PHONE_Q = "For Phone Calls: CS > Phone - Mediation Ticket"
CHATS_Q = "For chats/tickets: CS > Mediation Ticket"
OPEN = "Lastly, after adding Internal Notes, save the ticket as OPEN."
SOLVED = (
    "Tickets are assigned to Mediation Tier I, have a Disputes Form filled out, and are saved "
    "as “Solved”."
)
TYPE = "selecting Dispute Type from the drop-down"

CHANNEL_CASES = [
    case(
        f"channel_{channel}_macro",
        PHONE_Q if macro == PHONE else CHATS_Q,
        {"macro": macro},
        ticket__channel=channel,
    )
    for channel, macro in (
        ("phone", PHONE),
        ("chat", CHAT),
        ("email", CHAT),
        ("web", CHAT),
        ("api", CHAT),
        (None, CHAT),
        ("PHONE", PHONE),
    )
]

STATUS_CASES = [
    case("status_open_by_default", OPEN, {"status": "open"}),
    case(
        "status_solved_setting",
        SOLVED,
        {"status": "solved"},
        policy=policy_variant(settings__escalation_status="solved"),
    ),
]

TYPE_CASES = [
    case(
        f"dispute_type_{kind}",
        TYPE,
        {"fields.Dispute Type": option},
        contract__type=kind,
        contract__payments=paid(5, kind="milestone" if kind != "hourly" else "hourly"),
    )
    for kind, option in (
        ("hourly", "Hourly"),
        ("fixed_price", "Fixed-Price"),
        ("direct_contract", "Direct Contract"),
        ("project_catalog", "Project Catalog"),
    )
]


@pytest.mark.parametrize(CASE_FIELDS, CHANNEL_CASES + STATUS_CASES + TYPE_CASES)
def test_escalation_mechanics(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


def test_dispute_form_and_fields() -> None:
    """'change Form to "Dispute Ticket Form - Escalate from CS"', 'Dispute Ticket Process ...
    must contain the value Escalate to Mediation', 'Contract ID, Client Username, and FL
    Username', '"No further task" is selected under the Task to Accomplish drop-down'."""
    decision = run(make())
    assert decision.form == "Dispute Ticket Form - Escalate from CS"
    assert decision.brand == "Upwork Help Center"
    assert decision.fields == {
        "Dispute Ticket Process": "Escalate to Mediation",
        "Task to Accomplish": "No further task",
        "Contract ID": "C-1",
        "Client Username": "client1",
        "FL Username": "fl1",
        "Dispute Type": "Hourly",
        "Dispute Reasons": ["Missed Deadlines"],
    }


def test_assigned_to_group_not_person() -> None:
    """'Always reassign to the Mediation group, in general. A specific team member will claim
    it after.'"""
    data = dumped(run(make()))
    assert data["queue"] == "Mediation_Tier_1_CX420"
    assert not any("assignee" in key for key in data)


def test_decision_has_every_design_key() -> None:
    data = dumped(run(make()))
    design = {
        "ticket_id",
        "eligible",
        "eligibility",
        "queue",
        "status",
        "macro",
        "tags",
        "fields",
        "notes",
        "merge",
        "reply_guidance",
        "trace",
        "policy",
    }
    assert design <= set(data)
    assert data["ticket_id"] == TICKET_ID


def test_tags_mark_routed_and_path_and_drop_stale_service_tags() -> None:
    facts = make(
        ticket__tags=["vip", "triage_routed", "triage_path_needs_info", "triage_needs_info"]
    )
    tags = run(facts).tags
    assert tags.add == ["triage_routed", "triage_path_mediation_escalation"]
    assert tags.remove == ["triage_path_needs_info", "triage_needs_info"]


def test_needs_info_tags() -> None:
    tags = run(make(contract__id=None)).tags
    assert tags.add == ["triage_routed", "triage_path_needs_info", "triage_needs_info"]


def test_closed_ticket_is_left_alone() -> None:
    """Zendesk refuses updates to closed tickets: no tags, no notes, no routing."""
    decision = run(make(ticket__status="CLOSED"))
    assert decision.path == "ticket_closed"
    assert (decision.queue, decision.notes, decision.tags.add) == (None, [], [])


def test_no_dispute_form_off_the_escalation_path() -> None:
    decision = run(make(contract__payments=paid(40)))
    assert (decision.form, decision.fields, decision.macro) == (None, {}, None)


@pytest.mark.parametrize(
    "group",
    [
        "Mediation_Tier_1_CX420",
        "HV Mediation Tier 1",
        "Catalog_Mediation_CX420",
        "Dispute_Enterprise_CX420",
        "Mediation_ Direct_Contracts_CX420",
        "Mediation T2",
    ],
)
def test_ticket_in_a_mediation_queue_is_left_to_mediation(group: str) -> None:
    """ "The following queues are monitored by the Mediation Team": once a ticket is
    there, a later event (even past the 30-day window) must not route it away."""
    late = make(ticket__group=group, contract__payments=[{"date": "2024-01-02", "kind": "hourly"}])
    decision = run(late)
    assert decision.path == "owned_by_mediation"
    assert (decision.queue, decision.status, decision.notes, decision.tags.add) == (
        None,
        None,
        [],
        [],
    )
    assert decision.merge == "blocked"


def test_ticket_in_a_non_mediation_queue_is_routed() -> None:
    decision = run(make(ticket__group="Customer Support"))
    assert decision.path != "owned_by_mediation"
