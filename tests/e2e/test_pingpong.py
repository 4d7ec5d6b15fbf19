"""Loops: our own updates fire Zendesk triggers again.

- The echo of our own update writes nothing (also for a ticket the service
  never routed, where no decision marker could stop it).
- A ticket bounced between two groups by a Zendesk trigger and this service is
  stopped after a few round trips, with one note for a human.
"""

from __future__ import annotations

import httpx

from tests.e2e.conftest import create_case, ticket_writes
from tests.e2e.test_followup_flow import Desk, decisions, process
from tests.e2e.test_webhook_to_zendesk import hourly_case

PINGPONG_NOTE = "Triage stopped routing this ticket"


def service_group_writes(api: httpx.Client, ticket_id: int) -> int:
    return sum(
        1
        for d in decisions(api, ticket_id)
        for w in d["writes"]
        if w["ticket_id"] == ticket_id and "group_id" in w["body"]["ticket"]
    )


def trigger_moves_back(zd: httpx.Client, desk: Desk, ticket_id: int) -> None:
    """A Zendesk trigger: back to Customer Support, and the service's tags removed."""
    tags = [t for t in desk.ticket(ticket_id)["tags"] if not t.startswith("triage_")]
    zd.put(
        f"/api/v2/tickets/{ticket_id}",
        json={"ticket": {"group_id": desk.groups["Customer Support"], "tags": tags}},
    ).raise_for_status()


def test_two_group_ping_pong_is_stopped_by_ownership(zd: httpx.Client, api: httpx.Client) -> None:
    """A trigger (or an agent) moving the ticket back after the hand-off owns it: with no
    new facts the service never moves it again, so no round trip starts at all."""
    desk = Desk(zd)
    ticket = create_case(zd, hourly_case())
    tid = ticket["id"]
    groups_seen = []
    for _ in range(5):  # the trigger moves it back after every event
        process(api, zd, tid)
        groups_seen.append(desk.group(tid))
        trigger_moves_back(zd, desk, tid)

    assert service_group_writes(api, tid) == 1
    assert groups_seen == ["Mediation_Tier_1_CX420"] + ["Customer Support"] * 4
    assert [n for n in desk.notes(tid) if n.startswith(PINGPONG_NOTE)] == []
    # Events of one ticket state within the same second share a dedupe key: 2 to 5 decisions.
    outcomes = [d["outcome"] for d in decisions(api, tid)][::-1]
    assert len(outcomes) >= 2 and outcomes == ["applied"] + ["noop"] * (len(outcomes) - 1)
    holds = [
        step["why"]
        for d in decisions(api, tid)[:-1]
        for step in d["decision"]["trace"]
        if step["step"] == "ownership"
    ]
    assert len(holds) == len(outcomes) - 1
    assert all(h.startswith("held: owned by agent since ") for h in holds)
    assert len(set(holds)) == 1, "the same 'since' each time"


def test_echo_of_a_note_on_an_unrouted_mediation_ticket_writes_nothing(
    zd: httpx.Client, api: httpx.Client
) -> None:
    """The follow-up note lands on a Mediation ticket the service never decided on; its
    echo would otherwise be that ticket's first decision (a forwarding note and more)."""
    desk = Desk(zd)
    desk.market("C-ECHO")
    mediation = desk.mediation_ticket("C-ECHO")
    follow_up = desk.follow_up("C-ECHO")
    process(api, zd, follow_up["id"])
    assert ticket_writes(zd, mediation["id"]) == 1
    process(api, zd, mediation["id"])  # the trigger fired by our note
    process(api, zd, follow_up["id"])  # the trigger fired by our solve
    assert ticket_writes(zd, mediation["id"]) == 1
    assert ticket_writes(zd, follow_up["id"]) == 2  # the public reply, then the decision
    echo = decisions(api, mediation["id"])[0]
    assert echo["outcome"] == "noop"
    assert any(s["step"] == "loop_guard" for s in echo["decision"]["trace"])
    # A real change afterwards (an agent's update) is decided as usual.
    zd.put(
        f"/api/v2/tickets/{mediation['id']}",
        json={"ticket": {"comment": {"body": "Mediation: called both parties", "public": False}}},
    ).raise_for_status()
    process(api, zd, mediation["id"])
    assert decisions(api, mediation["id"])[0]["outcome"] in ("applied", "noop")
    assert not any(
        s["step"] == "loop_guard" for s in decisions(api, mediation["id"])[0]["decision"]["trace"]
    )
