"""`POST /merges`: merges touching a Dispute / Mediation ticket are refused (409, with
the follow-up path to use instead); others go through Zendesk. `GET /admin/merges`
reports them."""

from __future__ import annotations

import httpx

from tests.e2e.test_followup_flow import Desk


def test_merge_into_mediation_ticket_is_refused(zd: httpx.Client, api: httpx.Client) -> None:
    desk = Desk(zd)
    mediation = desk.mediation_ticket("C-MG1")
    phone = desk.create("Called about C-MG1", {"Contract ID": "C-MG1"}, channel="voice")
    chat = desk.create("Chat about C-MG1", {"Contract ID": "C-MG1"}, channel="chat")
    answer = api.post(
        "/merges", json={"target_id": mediation["id"], "source_ids": [phone["id"], chat["id"]]}
    )
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["error"] == "merge_blocked" and body["merged"] is False
    assert "Mediation_Tier_1_CX420" in body["reason"]
    assert body["tickets"] == [
        {
            "ticket_id": mediation["id"],
            "role": "target",
            "why": "group Mediation_Tier_1_CX420",
        }
    ]
    instead = body["instead"]
    assert instead["path"] == "follow_up"
    assert instead["mediation_ticket_ids"] == [mediation["id"]]
    assert instead["apply_macro_to"] == [
        {"ticket_id": phone["id"], "macro": "CS > Phone - Mediation Ticket"},
        {"ticket_id": chat["id"], "macro": "CS > Mediation Ticket"},
    ]
    for ticket in (phone, chat):
        assert desk.ticket(ticket["id"])["status"] != "closed"
    assert not any("/merge" in r["path"] for r in zd.get("/_sandbox/requests").json())


def test_merging_a_mediation_source_or_tagged_ticket_is_refused(
    zd: httpx.Client, api: httpx.Client
) -> None:
    desk = Desk(zd)
    agent = desk.create("Agent ticket", {})
    on_form = desk.create("On the dispute form", {}, form="Dispute Ticket Form - Escalate from CS")
    tagged = desk.create("Tagged", {}, tags=["cs_phone_mediation"])
    answer = api.post(
        "/merges", json={"target_id": agent["id"], "source_ids": [on_form["id"], tagged["id"]]}
    )
    assert answer.status_code == 409
    whys = {t["ticket_id"]: t["why"] for t in answer.json()["tickets"]}
    assert whys == {
        on_form["id"]: "form Dispute Ticket Form - Escalate from CS",
        tagged["id"]: "tags cs_phone_mediation",
    }


def test_ordinary_merge_is_made_and_reported(zd: httpx.Client, api: httpx.Client) -> None:
    desk = Desk(zd)
    target = desk.create("Login problem", {})
    source = desk.create("Login problem again", {})
    answer = api.post(
        "/merges",
        json={
            "target_id": target["id"],
            "source_ids": [source["id"]],
            "source_comment": "Merged: same issue.",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["merged"] is True and body["job"]["success"] is True
    closed = desk.ticket(source["id"])
    assert closed["status"] == "closed" and "closed_by_merge" in closed["tags"]

    blocked = desk.mediation_ticket("C-MG3")
    assert (
        api.post(
            "/merges", json={"target_id": blocked["id"], "source_ids": [target["id"]]}
        ).status_code
        == 409
    )
    report = api.get("/admin/merges").json()
    assert [m["kind"] for m in report["merges"]] == ["blocked", "performed"]
    assert report["merges"][1]["job"]["success"] is True
    first = api.get("/admin/merges", params={"limit": 1}).json()
    assert len(first["merges"]) == 1 and first["next_before_id"] == first["merges"][0]["id"]
    second = api.get(
        "/admin/merges", params={"limit": 1, "before_id": first["next_before_id"]}
    ).json()
    assert second["merges"][0]["kind"] == "performed" and second["next_before_id"] is None
    only = api.get("/admin/merges", params={"kind": "blocked"}).json()["merges"]
    assert [m["target_id"] for m in only] == [blocked["id"]]


def test_merge_endpoint_needs_the_admin_token_and_valid_ids(
    zd: httpx.Client, api: httpx.Client
) -> None:
    desk = Desk(zd)
    ticket = desk.create("Lonely", {})
    anonymous = httpx.post(f"{api.base_url}/merges", json={"target_id": 1, "source_ids": [2]})
    assert anonymous.status_code == 401
    assert api.post("/merges", json={"target_id": 1, "source_ids": [1]}).status_code == 422
    missing = api.post("/merges", json={"target_id": ticket["id"], "source_ids": [999999]})
    assert missing.status_code == 404 and missing.json()["missing"] == [999999]
    assert api.get("/admin/merges", params={"kind": "nope"}).status_code == 422
