"""Merges made anyway in Zendesk's UI are detected and repaired, once.

(a) a ticket merged *into* a Mediation ticket: a note there flagging the merge
    (requester, content) with the follow-up note, and a reporting tag;
(b) a Mediation ticket merged *away*: a new ticket restores it, with an alert.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.e2e.conftest import event_status, send, ticket_writes, wait_for
from tests.e2e.test_followup_flow import DISPUTE_FORM, Desk, process


def ui_merge(zd: httpx.Client, target_id: int, source_ids: list[int]) -> None:
    """What an agent does in Zendesk's UI (the sandbox has one merge path: the API)."""
    job = zd.post(f"/api/v2/tickets/{target_id}/merge", json={"ids": source_ids}).json()
    job_id = job["job_status"]["id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = zd.get(f"/api/v2/job_statuses/{job_id}").json()["job_status"]["status"]
        if status == "completed":
            return
        time.sleep(0.05)
    raise AssertionError("merge job did not complete")


def merged_event(source_id: int, target_id: int) -> dict[str, Any]:
    """`zen:event-type:ticket.merged` as Zendesk sends it (ids as strings, status upper)."""
    return {
        "type": "zen:event-type:ticket.merged",
        "id": str(uuid.uuid4()),
        "account_id": 123456,
        "time": "2025-01-15T10:00:00.123456789Z",
        "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{source_id}",
        "detail": {"id": str(source_id), "status": "CLOSED", "tags": ["closed_by_merge"]},
        "event": {"target_ticket_id": str(target_id)},
    }


def deliver(api: httpx.Client, payload: dict[str, Any]) -> None:
    answer = send(api, payload)
    assert answer.status_code == 200, answer.text
    event_id = answer.json()["event_id"]
    wait_for(lambda: event_status(api, event_id) == "done", what=f"event {event_id} done")


def restored_tickets(zd: httpx.Client, source_id: int) -> list[dict[str, Any]]:
    external_id = f"triage-restore-{source_id}"
    found: list[dict[str, Any]] = zd.get(
        "/api/v2/tickets", params={"external_id": external_id}
    ).json()["tickets"]
    return found


def test_ticket_merged_into_mediation_ticket_is_repaired_once(
    zd: httpx.Client, api: httpx.Client
) -> None:
    desk = Desk(zd)
    desk.market("C-MR1")
    mediation = desk.mediation_ticket("C-MR1")
    agent = desk.follow_up("C-MR1", requester={"name": "Ada Client", "email": "ada@example.com"})
    ui_merge(zd, mediation["id"], [agent["id"]])
    zd.delete("/_sandbox/requests")
    deliver(api, merged_event(agent["id"], mediation["id"]))

    notes = [n for n in desk.notes(mediation["id"]) if n.startswith("MERGE REPAIR")]
    assert len(notes) == 1
    note = notes[0]
    assert f"ticket #{agent['id']}" in note
    assert "Ada Client, ada@example.com" in note  # the source's requester
    assert "Any news on my dispute C-MR1?" in note  # its content
    # The follow-up flow's note, as if the macro had been used on the merged ticket.
    assert "[TEAM] Customer Support\n[CONTRACT #] C-MR1" in note
    assert f"/agent/tickets/{agent['id']}" in note
    after = desk.ticket(mediation["id"])
    assert "triage_merged_into_mediation" in after["tags"]
    assert f"triage_mrgin_{agent['id']}" in after["tags"]
    assert desk.group(mediation["id"]) == "Mediation_Tier_1_CX420"

    # Redelivery, another delivery of the same merge, the trigger on both tickets,
    # and the echo of our note: nothing more is written.
    deliver(api, merged_event(agent["id"], mediation["id"]))
    process(api, zd, agent["id"])
    process(api, zd, mediation["id"])
    assert ticket_writes(zd, mediation["id"]) == 1
    assert restored_tickets(zd, agent["id"]) == []
    report = api.get("/admin/merges", params={"ticket_id": mediation["id"]}).json()["merges"]
    kinds = sorted(m["kind"] for m in report)
    assert kinds == ["detected", "repaired"]
    repaired = next(m for m in report if m["kind"] == "repaired")
    assert repaired["repair"] == "merged_into_mediation"
    assert repaired["follow_up_path"] == "with_mediation_note"


def test_merge_into_solved_mediation_ticket_detected_by_trigger_reopens_it(
    zd: httpx.Client, api: httpx.Client
) -> None:
    """No event subscription: the trigger webhook on the Mediation ticket (its merge
    audit) is enough; a solved Mediation ticket is reopened for the update."""
    desk = Desk(zd)
    desk.market("C-MR2")
    mediation = desk.mediation_ticket("C-MR2", status="solved")
    agent = desk.follow_up("C-MR2")
    ui_merge(zd, mediation["id"], [agent["id"]])
    process(api, zd, mediation["id"])

    after = desk.ticket(mediation["id"])
    assert after["status"] == "open"
    assert "triage_merged_into_mediation" in after["tags"]
    notes = [n for n in desk.notes(mediation["id"]) if n.startswith("MERGE REPAIR")]
    assert len(notes) == 1 and "reopened" in notes[0]
    process(api, zd, mediation["id"])  # the echo
    assert len([n for n in desk.notes(mediation["id"]) if n.startswith("MERGE REPAIR")]) == 1


def test_mediation_ticket_merged_away_is_restored_once(zd: httpx.Client, api: httpx.Client) -> None:
    desk = Desk(zd)
    desk.market("C-MR3")
    mediation = desk.mediation_ticket("C-MR3", group="HV Mediation Tier 1")
    zd.put(
        f"/api/v2/tickets/{mediation['id']}",
        json={"ticket": {"comment": {"body": "Mediation: emailed both parties", "public": False}}},
    ).raise_for_status()
    agent = desk.create("Refund question", {"Contract ID": "C-MR3"}, group="Customer Support")
    ui_merge(zd, agent["id"], [mediation["id"]])
    closed = desk.ticket(mediation["id"])
    assert closed["status"] == "closed" and "closed_by_merge" in closed["tags"]

    process(api, zd, mediation["id"])  # the trigger webhook: tag closed_by_merge

    restored = restored_tickets(zd, mediation["id"])
    assert len(restored) == 1
    new = restored[0]
    assert new["requester_id"] == closed["requester_id"]
    assert new["group_id"] == closed["group_id"] == desk.groups["HV Mediation Tier 1"]
    assert new["ticket_form_id"] == desk.forms[DISPUTE_FORM]
    assert new["status"] == "open"
    assert {"cs_mediation_ticket", "triage_merge_alert", "triage_restored_mediation"} <= set(
        new["tags"]
    )
    assert "closed_by_merge" not in new["tags"]
    contract_field = desk.fields["Contract ID"]["id"]
    assert {"id": contract_field, "value": "C-MR3"} in new["custom_fields"]
    intro = desk.notes(new["id"])[0]
    assert f"#{mediation['id']}" in intro and f"#{agent['id']}" in intro
    assert "> [" in intro and "Mediation: emailed both parties" in intro  # last comments
    target_notes = [n for n in desk.notes(agent["id"]) if n.startswith("MERGE REPAIR")]
    assert len(target_notes) == 1 and f"#{new['id']}" in target_notes[0]
    assert "triage_merge_alert" in desk.ticket(agent["id"])["tags"]

    # Redelivered as an event, delivered again by trigger, echoes: still one restored ticket.
    deliver(api, merged_event(mediation["id"], agent["id"]))
    deliver(api, merged_event(mediation["id"], agent["id"]))
    process(api, zd, mediation["id"])
    process(api, zd, new["id"])
    process(api, zd, agent["id"])
    assert len(restored_tickets(zd, mediation["id"])) == 1
    assert len([n for n in desk.notes(agent["id"]) if n.startswith("MERGE REPAIR")]) == 1
    assert ticket_writes(zd, new["id"]) == 0
    metrics = api.get("/metrics").text
    assert 'triage_merge_repairs_total{kind="mediation_restored"} 1.0' in metrics
    assert 'triage_merges_total{outcome="detected"} 1.0' in metrics
    report = api.get("/admin/merges", params={"kind": "repaired"}).json()["merges"]
    assert [(m["source_id"], m["restored_id"]) for m in report] == [(mediation["id"], new["id"])]


def test_guarded_merge_is_detected_but_needs_no_repair(zd: httpx.Client, api: httpx.Client) -> None:
    desk = Desk(zd)
    target = desk.create("Billing", {})
    source = desk.create("Billing again", {})
    assert (
        api.post(
            "/merges", json={"target_id": target["id"], "source_ids": [source["id"]]}
        ).status_code
        == 200
    )
    deliver(api, merged_event(source["id"], target["id"]))
    detected = api.get("/admin/merges", params={"kind": "detected"}).json()["merges"]
    assert len(detected) == 1 and detected[0]["guarded"] is True
    assert api.get("/admin/merges", params={"kind": "repaired"}).json()["merges"] == []
    assert ticket_writes(zd, target["id"]) == 0
