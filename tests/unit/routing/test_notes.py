"""Rule family 7: internal notes in the playbook's exact formats."""

from __future__ import annotations

import pytest

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
    case(f"team_{name}", TEAM, {"notes.0.body": Contains(f"[{team}]")}, **facts)
    for name, team, facts in (
        ("phone", "Phone Support", {"ticket__channel": "phone"}),
        ("chat", "Chat Support", {"ticket__channel": "chat"}),
        ("email_freelancer", "FL Support", {"requester_role": "freelancer"}),
        ("email_client", "Client Support", {}),
        ("web_unknown_role", "CS Support", {"ticket__channel": "web", "requester_role": None}),
    )
]


@pytest.mark.parametrize(CASE_FIELDS, TEAM_CASES)
def test_team_of_the_note(quote, facts, expect, now, policy):
    check(run(make(**facts), policy, now), expect)


def test_mediation_note_format():
    """'[TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #]', on the Mediation ticket."""
    decision = run(make(ticket__channel="phone"))
    note = decision.notes[0]
    assert note.ticket_id == MEDIATION_TICKET_ID
    team, contract, details, link = note.body.splitlines()
    assert (team, contract) == ("[Phone Support]", "[C-1]")
    assert details.startswith("[Client follows up on the dispute via phone") and details.endswith(
        "]"
    )
    assert link == f"[https://support.upwork.com/requests/{TICKET_ID}]"


def test_own_ticket_gets_the_mediation_ticket_link():
    """'Leave an internal note on your ticket with the URL link for the Mediation ticket'."""
    own = run(make()).notes[1]
    assert own.ticket_id == TICKET_ID
    assert own.body.startswith(
        f"Mediation ticket #{MEDIATION_TICKET_ID}: https://support.upwork.com/requests/99"
    )


def test_forwarding_note_format():
    """'Quick summary of the issue / OBO profile link / Contract ID number'."""
    decision = run(facts_factory()())
    summary, profile, contract = decision.notes[0].body.splitlines()
    assert summary.startswith(
        "Quick summary: Client wants to dispute via email; hourly contract C-1"
    )
    assert "Reasons: Missed Deadlines." in summary
    assert profile == "OBO profile link: https://obo/client1"
    assert contract == "Contract ID: C-1"


def test_forwarding_note_without_profile_says_so():
    decision = run(facts_factory()(client__profile_url=None))
    assert "OBO profile link: (not on file: please add it)" in decision.notes[0].body


def test_client_retention_note_without_rt_link():
    decision = run(facts_factory()(contract__payments=paid(40)))
    assert decision.notes[0].body.splitlines()[-1] == "Related RT: none on file"


def test_ask_note_lists_what_to_find():
    decision = run(facts_factory()(contract__id=None, freelancer__username=" "))
    body = decision.notes[0].body
    assert "- the contract ID (assignment number)" in body
    assert "- the freelancer's username" in body
    assert decision.notes[0].ticket_id == TICKET_ID
