"""Agents' facts: policy fields -> ticket facts (data-driven), markers, ownership, replies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.routing import Decision, Policy, TicketFacts, decide
from app.routing.policy_loader import parse_policy
from app.routing.policy_schema import AgentField
from app.store import DecisionRecord
from app.worker.facts import Directory, agent_facts, facts_from, read_agent_value
from app.worker.ownership import judge, last_hand_off
from app.worker.plan import decision_marker, facts_key, plan_reply, plan_ticket_write
from app.zendesk import ZendeskCatalog

DAY = dt.date(2024, 6, 12)


def with_fields(catalog: ZendeskCatalog, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A Zendesk ticket whose custom fields hold `values` (title -> option name or text)."""
    fields = []
    for title, value in values.items():
        info = catalog.field(title)
        fields.append({"id": info.id, "value": info.options.get(value, value)})
    return {"id": 7, "status": "open", "custom_fields": fields, "tags": [], **extra}


def test_every_agent_field_maps_to_its_fact(policy: Policy, catalog: ZendeskCatalog) -> None:
    ticket = with_fields(
        catalog,
        {
            "FL Exception: Client Refuses Milestone Release": "Yes",
            "AE Suspended by Mediation": "No",
            "Dispute Closed": "Yes",
            "Disputed Payment": "Bonus",
            "Abuse: Hours Billed Last Week": "101.5",
            "Related RT Link": " https://rt/1 ",
            "In-product Dispute Status": "Under Review",
            "In-product Dispute Filed On": "2024-06-10",
            "Client Segment (OBO)": "SB",
            "FL Badge (OBO)": "Top Rated",
        },
    )
    found, problems = agent_facts(ticket, policy, catalog)
    assert problems == []
    assert found == {
        "dispute.client_refuses_milestone_release": True,
        "account.suspended_by_mediation": False,
        "dispute.closed": True,
        "dispute.disputed_payment_kind": "bonus",
        "abuse.hours_last_week": "101.5",
        "related_rt_link": "https://rt/1",
        "dispute.in_product.status": "under_review",
        "dispute.in_product.filed_on": "2024-06-10",
        "client.segment": "SB",
        "freelancer.badge": "Top Rated",
    }


def test_agent_fields_win_over_the_directory(policy: Policy, catalog: ZendeskCatalog) -> None:
    ticket = with_fields(
        catalog,
        {"Contract ID": "C-1", "AE Suspended by Mediation": "Yes", "Client Segment (OBO)": "LB"},
    )
    directory = Directory(
        contract={"id": "C-1", "account": {"suspended_by_mediation": False}},
        client={"username": "a", "segment": "VSB"},
    )
    facts = facts_from(ticket, policy, catalog, directory)
    assert facts.account is not None and facts.account.suspended_by_mediation is True
    assert facts.client is not None and facts.client.segment == "LB"
    assert facts.client.username == "a"  # the rest of the directory's answer stays


@pytest.mark.parametrize(
    ("spec", "raw", "why"),
    [
        (
            AgentField(title="D", type="date", fact="dispute.in_product.filed_on"),
            "next tuesday",
            "'next tuesday' is not a date (YYYY-MM-DD)",
        ),
        (
            AgentField(title="N", type="decimal", fact="abuse.hours_last_week"),
            "lots",
            "'lots' is not a number",
        ),
        (
            AgentField(title="T", type="tagger", fact="dispute.closed", options={"Yes": True}),
            "maybe",
            "unknown option 'maybe' (known: Yes)",
        ),
    ],
)
def test_unreadable_values_are_reported_never_guessed(spec: AgentField, raw: str, why: str) -> None:
    with pytest.raises(ValueError) as error:
        read_agent_value(spec, raw)
    assert str(error.value) == why


def test_an_unreadable_field_is_in_the_note_and_the_trace(
    policy: Policy, catalog: ZendeskCatalog
) -> None:
    filed_on = catalog.field("In-product Dispute Filed On")
    ticket = with_fields(catalog, {"Inquiry Type": "follow_up", "Requester Role": "client"})
    ticket["custom_fields"].append({"id": filed_on.id, "value": "12/06/2024"})
    facts = facts_from(ticket, policy, catalog, Directory())
    assert facts.unreadable == [
        "In-product Dispute Filed On: '12/06/2024' is not a date (YYYY-MM-DD)"
    ]
    decision = decide(facts, policy, DAY)
    why = "could not read In-product Dispute Filed On: '12/06/2024' is not a date (YYYY-MM-DD)"
    assert why in [step.why for step in decision.trace]
    assert "Could not read In-product Dispute Filed On: '12/06/2024'" in decision.notes[0].body


def hand_off_facts() -> dict[str, Any]:
    return {
        "ticket": {"id": 7, "channel": "web", "group": "Customer Support", "description": "x"},
        "requester_role": "client",
        "inquiry": "uir",
        "contract": {"id": "C-1", "type": "hourly", "status": "closed"},
        "client": {"username": "a", "segment": "VSB", "profile_url": "https://obo/a"},
        "freelancer": {"username": "b", "badge": "none", "profile_url": "https://obo/b"},
    }


def decided(policy: Policy, facts: dict[str, Any], day: dt.date) -> Decision:
    """As the worker decides: the decision with its case-facts key."""
    model = TicketFacts.model_validate(facts)
    key = facts_key(model.model_dump(mode="json", exclude_none=True))
    return decide(model, policy, day).model_copy(update={"facts_key": key})


def test_the_marker_does_not_depend_on_the_day_or_the_ticket_state(policy: Policy) -> None:
    facts = hand_off_facts()
    first = decided(policy, facts, DAY)
    later = decided(
        policy, facts | {"ticket": facts["ticket"] | {"group": "X"}}, DAY.replace(day=20)
    )
    assert decision_marker(first) == decision_marker(later)
    changed = decided(policy, facts | {"related_rt_link": "https://rt/9"}, DAY)
    assert decision_marker(changed) != decision_marker(first), "a new fact is a new decision"


def test_ownership_holds_without_new_facts_and_keeps_the_agents_place(policy: Policy) -> None:
    first = decided(policy, hand_off_facts(), DAY)
    record = DecisionRecord(
        ticket_id=7,
        event_id=1,
        policy_version="v",
        facts={},
        decision=first.model_dump(mode="json"),
        writes=[{"ticket_id": 7}],
        decided_at=dt.datetime(2024, 6, 12, 9, tzinfo=dt.UTC),
    )
    hand_off = last_hand_off([record])
    assert hand_off is not None and hand_off.queue == "Client Retention Tier 2"
    ticket = {"id": 7, "updated_at": "2024-06-13T10:00:00Z"}
    same = judge(hand_off, first.facts_key, ticket, "Client Retention Tier 2", policy, DAY)
    assert same.hold is not None and same.hold.startswith("held: handed to Client Retention")
    moved = judge(hand_off, first.facts_key, ticket, "Customer Support", policy, DAY)
    assert moved.hold == "held: owned by agent since 2024-06-13T10:00:00Z"
    new = decided(policy, hand_off_facts() | {"related_rt_link": "https://rt/9"}, DAY)
    acted = judge(hand_off, new.facts_key, ticket, "Customer Support", policy, DAY)
    assert acted.hold is None and acted.keep_place


def follow_up_facts() -> dict[str, Any]:
    return hand_off_facts() | {
        "inquiry": "follow_up",
        "linked_mediation_ticket": {"id": 99, "status": "open"},
    }


def test_solved_only_with_a_public_reply(policy: Policy, catalog: ZendeskCatalog) -> None:
    decision = decided(policy, follow_up_facts(), DAY)
    assert decision.status == "solved" and decision.public_reply
    ticket = {"id": 7, "status": "open", "tags": [], "updated_at": "t"}
    reply = plan_reply(decision, ticket)
    assert reply is not None and reply.changes["comment"]["public"] is True
    own = plan_ticket_write(decision, ticket, policy, catalog)
    assert own is not None and own.changes["status"] == "solved"
    assert reply.marker in own.changes["tags"], "the retry knows the reply went out"
    silent = decision.model_copy(update={"public_reply": None})
    kept = plan_ticket_write(silent, ticket, policy, catalog)
    assert kept is not None and "status" not in kept.changes


def test_public_replies_off_keeps_the_ticket_open_with_the_reply_drafted(
    policy: Policy,
) -> None:
    text = policy_text().replace(
        "public_replies:\n  enabled: true", "public_replies:\n  enabled: false"
    )
    quiet = parse_policy(text.encode())
    decision = decided(quiet, follow_up_facts(), DAY)
    assert decision.status == "open" and decision.public_reply is None
    own = next(n for n in decision.notes if n.ticket_id == 7).body
    assert "Reply drafted for the user (public replies are off" in own
    assert "Thank you for following up." in own


def policy_text() -> str:
    from app.routing import default_policy_path

    return default_policy_path().read_text()


def test_a_policy_field_naming_an_unknown_fact_is_rejected() -> None:
    text = policy_text().replace("fact: dispute.closed", "fact: dispute.is_it_closed")
    with pytest.raises(Exception, match="no such fact 'dispute.is_it_closed'"):
        parse_policy(text.encode())
