"""Rule family 7: internal notes in the playbook's exact formats."""

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

LINKED = {"id": MEDIATION_TICKET_ID, "status": "open"}
make = facts_factory(inquiry="follow_up", linked_mediation_ticket=LINKED)

FORMAT = "[TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #]"
TEAM = (
    "[TEAM] (enter the team the information came to, for example, FL Support, Phone Support, etc.)"
)

TEAM_CASES = [
    case(f"team_{name}", TEAM, {"notes.0.body": Contains(f"[TEAM] {team}\n")}, **facts)
    for name, team, facts in (
        ("phone", "Phone Support", {"ticket__channel": "phone"}),
        ("chat", "Customer Support", {"ticket__channel": "chat"}),
        ("email_freelancer", "FL Support", {"requester_role": "freelancer"}),
        ("email_client", "Customer Support", {}),
        (
            "web_unknown_role",
            "Customer Support",
            {"ticket__channel": "web", "requester_role": None},
        ),
    )
]


@pytest.mark.parametrize(CASE_FIELDS, TEAM_CASES)
def test_team_of_the_note(
    quote: str, facts: dict[str, Any], expect: dict[str, Any], now: dt.date, policy: Policy | None
) -> None:
    check(run(make(**facts), policy, now), expect)


def test_mediation_note_format() -> None:
    """'[TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #]' as labels, on the Mediation ticket, with
    the agent's link to YOUR ticket and the user's words, one line each."""
    decision = run(
        make(
            ticket__channel="phone",
            ticket__description="He never\nsent the files",
            ticket__latest_public_comment="Any news?",
            zendesk_subdomain="acme",
        )
    )
    note = decision.notes[0]
    assert note.ticket_id == MEDIATION_TICKET_ID
    team, contract, details, description, latest, link = note.body.splitlines()
    assert (team, contract) == ("[TEAM] Phone Support", "[CONTRACT #] C-1")
    assert details.startswith("[DETAILS] Client follows up on the dispute via phone")
    assert description == 'Description: "He never sent the files"'
    assert latest == 'Latest public comment: "Any news?"'
    assert link == f"[ZD TICKET #] https://acme.zendesk.com/agent/tickets/{TICKET_ID}"


def test_own_ticket_gets_the_mediation_ticket_link() -> None:
    """'Leave an internal note on your ticket with the URL link for the Mediation ticket'."""
    own = run(make(zendesk_subdomain="acme")).notes[1]
    assert own.ticket_id == TICKET_ID
    assert f"Mediation ticket: https://acme.zendesk.com/agent/tickets/{MEDIATION_TICKET_ID}" in (
        own.body
    )


def test_forwarding_note_format() -> None:
    """'Quick summary of the issue / OBO profile link / Contract ID number', both parties."""
    decision = run(facts_factory()())
    body = decision.notes[0].body
    forwarding = body[body.index("Quick summary:") :].splitlines()
    summary, description, profile, contract = forwarding
    assert summary.startswith(
        "Quick summary: Client wants to dispute via email; hourly contract C-1"
    )
    assert "Reasons: Missed Deadlines." in summary
    assert description == 'Description: "..."'
    assert profile == "OBO profile links: client https://obo/client1; freelancer https://obo/fl1"
    assert contract == "Contract ID: C-1"


def test_forwarding_note_says_why_hv_mediation() -> None:
    decision = run(facts_factory()(client__segment="SB"))
    assert decision.queue == "HV Mediation Tier 1"
    assert "Why this queue: client segment SB is in VSB+, SB, MM, LB" in decision.notes[0].body


def test_forwarding_note_without_profile_says_so() -> None:
    decision = run(facts_factory()(client__profile_url=None))
    assert "client (not on file: please add it); freelancer https://obo/fl1" in (
        decision.notes[0].body
    )


def test_client_retention_note_without_rt_link() -> None:
    decision = run(facts_factory()(contract__payments=paid(40)))
    assert decision.notes[0].body.splitlines()[-1] == "Related RT: none on file"


def test_ask_note_lists_what_to_find() -> None:
    decision = run(facts_factory()(contract__id=None, freelancer__username=" "))
    body = decision.notes[0].body
    assert '- the contract ID (assignment number): fill in the ticket field "Contract ID"' in body
    assert '- the freelancer\'s username: fill in the ticket field "FL Username"' in body
    assert decision.notes[0].ticket_id == TICKET_ID
