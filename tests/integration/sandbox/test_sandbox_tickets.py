"""Tickets: create, show, update, safe updates, validation, audits, sideloads, lists."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.sandbox import SandboxServer
from tests.integration.sandbox.sandbox_helpers import (
    CONTRACT_ID,
    CUSTOMER_SUPPORT,
    DISPUTE_PROCESS,
    DISPUTE_REASONS,
    DISPUTE_TYPE,
    FIRST_TICKET,
    MEDIATION_MACRO,
    MEDIATION_TIER_1,
    SERVICE_USER,
    create_ticket,
    field_value,
    update,
)


def test_create_ticket_first_comment_becomes_description(zd: httpx.Client) -> None:
    ticket = create_ticket(zd, subject="Refund", comment={"body": "Money back", "public": False})
    assert ticket["id"] == FIRST_TICKET
    assert (ticket["subject"], ticket["description"], ticket["status"]) == (
        "Refund",
        "Money back",
        "new",
    )
    assert ticket["via"]["channel"] == "api"
    assert ticket["created_at"].endswith("Z") and ticket["updated_at"] == ticket["created_at"]
    comments = zd.get(f"/api/v2/tickets/{ticket['id']}/comments").json()["comments"]
    assert [(c["body"], c["public"], c["author_id"]) for c in comments] == [
        ("Money back", False, SERVICE_USER)
    ]
    assert set(comments[0]) >= {
        "id",
        "body",
        "html_body",
        "public",
        "author_id",
        "created_at",
        "via",
    }


def test_create_ticket_without_comment_is_invalid(zd: httpx.Client) -> None:
    response = zd.post("/api/v2/tickets", json={"ticket": {"subject": "No body"}})
    assert response.status_code == 422
    assert response.json()["error"] == "RecordInvalid"


def test_create_ticket_honours_requested_via_channel(zd: httpx.Client) -> None:
    ticket = create_ticket(zd, via={"channel": "voice"})
    assert ticket["via"]["channel"] == "voice"


def test_show_ticket_with_and_without_json_suffix(zd: httpx.Client) -> None:
    created = create_ticket(zd)
    for path in (f"/api/v2/tickets/{created['id']}", f"/api/v2/tickets/{created['id']}.json"):
        response = zd.get(path)
        assert response.status_code == 200
        assert response.json()["ticket"] == created


def test_show_unknown_ticket_is_404(zd: httpx.Client) -> None:
    response = zd.get("/api/v2/tickets/999.json")
    assert response.status_code == 404
    assert response.json()["error"] == "RecordNotFound"


def test_show_ticket_sideloads_users_groups_organizations(zd: httpx.Client) -> None:
    org = zd.post("/api/v2/organizations", json={"organization": {"name": "Acme"}}).json()
    user = zd.post(
        "/api/v2/users",
        json={
            "user": {
                "name": "Ann",
                "email": "ann@acme.test",
                "organization_id": org["organization"]["id"],
            }
        },
    )
    requester_id = user.json()["user"]["id"]
    ticket = create_ticket(zd, requester_id=requester_id, group_id=CUSTOMER_SUPPORT)
    body = zd.get(
        f"/api/v2/tickets/{ticket['id']}", params={"include": "users,organizations,groups"}
    ).json()
    assert {u["id"] for u in body["users"]} == {requester_id, SERVICE_USER}
    assert [o["name"] for o in body["organizations"]] == ["Acme"]
    assert [g["name"] for g in body["groups"]] == ["Customer Support"]


def test_update_ticket_changes_fields_and_records_audit(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    response = update(
        zd,
        ticket["id"],
        status="open",
        group_id=MEDIATION_TIER_1,
        tags=["x", "y"],
        custom_fields=[{"id": CONTRACT_ID, "value": "C-1"}],
        comment={"body": "Routed", "public": False},
        macro_id=MEDIATION_MACRO,
    )
    assert response.status_code == 200
    body = response.json()
    after = body["ticket"]
    assert (after["status"], after["group_id"], after["tags"]) == (
        "open",
        MEDIATION_TIER_1,
        ["x", "y"],
    )
    assert field_value(after, CONTRACT_ID) == "C-1"
    assert after["updated_at"] > ticket["updated_at"]
    events = {(e["type"], e.get("field_name")): e for e in body["audit"]["events"]}
    assert events[("Change", "status")]["previous_value"] == "new"
    assert events[("Change", "group_id")]["value"] == MEDIATION_TIER_1
    assert events[("Comment", None)]["body"] == "Routed"
    assert events[("AgentMacroReference", None)]["macro_id"] == MEDIATION_MACRO
    audits = zd.get(f"/api/v2/tickets/{ticket['id']}/audits").json()["audits"]
    assert [a["via"]["channel"] for a in audits] == ["api", "api"]
    assert audits[0]["events"][0]["type"] == "Comment"


def test_update_comment_keeps_author_and_defaults_public_to_first_comment(zd: httpx.Client) -> None:
    ticket = create_ticket(zd, comment={"body": "private start", "public": False})
    update(zd, ticket["id"], comment={"html_body": "<p>a <b>note</b></p>"})
    comments = zd.get(f"/api/v2/tickets/{ticket['id']}/comments.json").json()["comments"]
    assert (comments[1]["body"], comments[1]["public"], comments[1]["author_id"]) == (
        "a note",
        False,
        SERVICE_USER,
    )


def test_update_with_stale_stamp_is_409(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    fresh = update(
        zd, ticket["id"], status="open", safe_update=True, updated_stamp=ticket["updated_at"]
    )
    assert fresh.status_code == 200
    stale = update(
        zd, ticket["id"], status="pending", safe_update=True, updated_stamp=ticket["updated_at"]
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "UpdateConflict"
    assert zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]["status"] == "open"


def test_fast_updates_get_distinct_increasing_stamps(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    stamps = [ticket["updated_at"]]
    for i in range(5):
        stamps.append(update(zd, ticket["id"], tags=[f"t{i}"]).json()["ticket"]["updated_at"])
    assert stamps == sorted(set(stamps))


def test_update_without_changes_keeps_updated_at(zd: httpx.Client) -> None:
    ticket = create_ticket(zd, status="open")
    response = update(zd, ticket["id"], status="open")
    assert response.json()["ticket"]["updated_at"] == ticket["updated_at"]
    assert response.json()["audit"]["events"] == []


@pytest.mark.parametrize(
    "changes",
    [
        {"group_id": 1},
        {"status": "bogus"},
        {"custom_fields": [{"id": 1, "value": "x"}]},
        {"custom_fields": [{"id": DISPUTE_TYPE, "value": "Hourly"}]},  # a name, not the tag
        {"assignee_id": 123},
        {"safe_update": True},  # without updated_stamp
    ],
)
def test_update_with_invalid_values_is_422(zd: httpx.Client, changes: dict[str, Any]) -> None:
    ticket = create_ticket(zd)
    response = update(zd, ticket["id"], **changes)
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["error"], body["description"]) == ("RecordInvalid", "Record validation errors")
    assert body["details"]


def test_closed_ticket_cannot_be_updated(zd: httpx.Client) -> None:
    ticket = create_ticket(zd, status="closed")
    response = update(zd, ticket["id"], status="open")
    assert response.status_code == 422
    assert "closed" in str(response.json()["details"])


def test_update_unknown_ticket_is_404(zd: httpx.Client) -> None:
    assert update(zd, 42, status="open").status_code == 404


def test_dropdown_fields_and_their_tags_stay_in_step(zd: httpx.Client) -> None:
    ticket = create_ticket(
        zd,
        tags=["demo"],
        custom_fields=[
            {"id": DISPUTE_TYPE, "value": "dispute_type__hourly"},
            {"id": DISPUTE_REASONS, "value": ["dispute_reasons__manual_time"]},
        ],
    )
    assert set(ticket["tags"]) == {"demo", "dispute_type__hourly", "dispute_reasons__manual_time"}
    changed = update(
        zd, ticket["id"], custom_fields=[{"id": DISPUTE_TYPE, "value": "dispute_type__fixed_price"}]
    ).json()["ticket"]
    assert "dispute_type__hourly" not in changed["tags"]
    assert "dispute_type__fixed_price" in changed["tags"]
    # Replacing the tags without a field's option tag clears that field.
    cleared = update(zd, ticket["id"], tags=["demo", "dispute_type__fixed_price"]).json()["ticket"]
    assert field_value(cleared, DISPUTE_TYPE) == "dispute_type__fixed_price"
    assert field_value(cleared, DISPUTE_REASONS) is None
    # Adding an option's tag sets the field.
    tagged = zd.put(
        f"/api/v2/tickets/{ticket['id']}/tags",
        json={"tags": ["dispute_ticket_process__escalate_to_mediation"]},
    )
    assert tagged.status_code == 200
    after = zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]
    assert field_value(after, DISPUTE_PROCESS) == "dispute_ticket_process__escalate_to_mediation"


def test_show_many_and_cursor_pagination(zd: httpx.Client) -> None:
    ids = [create_ticket(zd)["id"] for _ in range(5)]
    many = zd.get("/api/v2/tickets/show_many.json", params={"ids": f"{ids[4]},{ids[0]},77"})
    assert [t["id"] for t in many.json()["tickets"]] == [ids[4], ids[0]]
    seen: list[int] = []
    url: str | None = "/api/v2/tickets?page[size]=2"
    pages = 0
    while url:
        body = zd.get(url).json()
        seen += [t["id"] for t in body["tickets"]]
        pages += 1
        url = body["links"]["next"] if body["meta"]["has_more"] else None
    assert (seen, pages) == (ids, 3)


def test_show_many_over_100_ids_is_refused(zd: httpx.Client) -> None:
    ids = ",".join(str(i) for i in range(1, 102))
    assert zd.get("/api/v2/tickets/show_many", params={"ids": ids}).status_code == 400


def test_offset_pagination_without_page_params(zd: httpx.Client) -> None:
    for _ in range(3):
        create_ticket(zd)
    body = zd.get("/api/v2/tickets", params={"per_page": 2}).json()
    assert (len(body["tickets"]), body["count"]) == (2, 3)
    assert zd.get(body["next_page"]).json()["tickets"][0]["id"] == FIRST_TICKET + 2


def test_comments_cursor_pagination(zd: httpx.Client) -> None:
    ticket = create_ticket(zd)
    for i in range(3):
        update(zd, ticket["id"], comment={"body": f"note {i}", "public": False})
    first = zd.get(f"/api/v2/tickets/{ticket['id']}/comments", params={"page[size]": 3}).json()
    assert first["meta"]["has_more"] is True
    rest = zd.get(first["links"]["next"]).json()
    assert [c["body"] for c in first["comments"] + rest["comments"]] == [
        "Please help",
        "note 0",
        "note 1",
        "note 2",
    ]
    assert rest["meta"]["has_more"] is False


def test_raw_ticket_control_endpoint_has_comments_and_audits(
    zd: httpx.Client, sandbox: SandboxServer
) -> None:
    ticket = create_ticket(zd)
    update(zd, ticket["id"], comment={"body": "more", "public": False})
    raw = zd.get(f"/_sandbox/tickets/{ticket['id']}").json()["ticket"]
    assert [c["body"] for c in raw["comments"]] == ["Please help", "more"]
    assert len(raw["audits"]) == 2
    assert sandbox.state.ticket(ticket["id"])["comments"] == raw["comments"]
