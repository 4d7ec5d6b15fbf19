"""Macros: listing and the read-only apply endpoints (custom fields under `fields`)."""

from __future__ import annotations

import httpx

from app.sandbox import SandboxServer
from tests.integration.sandbox.sandbox_helpers import (
    DISPUTE_PROCESS,
    MEDIATION_MACRO,
    MEDIATION_TIER_1,
    PHONE_MACRO,
    create_ticket,
)


def test_macros_list_active_and_show(zd: httpx.Client) -> None:
    listed = zd.get("/api/v2/macros.json").json()["macros"]
    assert [(m["id"], m["title"]) for m in listed] == [
        (PHONE_MACRO, "CS > Phone - Mediation Ticket"),
        (MEDIATION_MACRO, "CS > Mediation Ticket"),
    ]
    assert listed[0]["actions"] == [
        {"field": "current_tags", "value": "cs_mediation_ticket cs_phone_mediation"}
    ]
    active = zd.get("/api/v2/macros/active").json()["macros"]
    assert [m["id"] for m in active] == [PHONE_MACRO, MEDIATION_MACRO]
    assert zd.get(f"/api/v2/macros/{PHONE_MACRO}").json()["macro"]["title"].startswith("CS >")
    page = zd.get("/api/v2/macros", params={"page[size]": 1}).json()
    assert page["meta"]["has_more"] is True and len(page["macros"]) == 1
    assert zd.get("/api/v2/macros/1").status_code == 404
    found = zd.get("/api/v2/macros/search.json", params={"query": "phone"}).json()
    assert ([m["id"] for m in found["macros"]], found["count"]) == ([PHONE_MACRO], 1)


def test_apply_tag_only_macro_to_ticket_changes_nothing(zd: httpx.Client) -> None:
    ticket = create_ticket(zd, tags=["existing"])
    response = zd.get(f"/api/v2/tickets/{ticket['id']}/macros/{PHONE_MACRO}/apply.json")
    assert response.status_code == 200
    result = response.json()["result"]["ticket"]
    assert result["tags"] == ["existing", "cs_mediation_ticket", "cs_phone_mediation"]
    assert "fields" in result and "custom_fields" not in result
    assert "comment" not in result
    stored = zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]
    assert stored["tags"] == ["existing"]


def test_apply_macro_without_ticket_returns_only_changes(zd: httpx.Client) -> None:
    body = zd.get(f"/api/v2/macros/{MEDIATION_MACRO}/apply").json()
    assert body == {"result": {"ticket": {"tags": ["cs_mediation_ticket"]}}}


def test_apply_macro_with_fields_group_and_comment(
    sandbox: SandboxServer, zd: httpx.Client
) -> None:
    macro = sandbox.state.macros.add(
        "Escalate",
        [
            {"field": "group_id", "value": str(MEDIATION_TIER_1)},
            {
                "field": f"custom_fields_{DISPUTE_PROCESS}",
                "value": "dispute_ticket_process__escalate_to_mediation",
            },
            {"field": "comment_value", "value": "Escalated to mediation"},
            {"field": "comment_mode_is_public", "value": "false"},
            {"field": "remove_tags", "value": "stale"},
        ],
    )
    ticket = create_ticket(zd, tags=["stale", "keep"])
    result = zd.get(f"/api/v2/tickets/{ticket['id']}/macros/{macro['id']}/apply").json()
    after = result["result"]["ticket"]
    assert after["group_id"] == MEDIATION_TIER_1
    assert {
        "id": DISPUTE_PROCESS,
        "value": "dispute_ticket_process__escalate_to_mediation",
    } in after["fields"]
    assert after["tags"] == ["keep", "dispute_ticket_process__escalate_to_mediation"]
    assert after["comment"]["body"] == "Escalated to mediation"
    assert after["comment"]["public"] is False
    changes = zd.get(f"/api/v2/macros/{macro['id']}/apply").json()["result"]["ticket"]
    assert changes["fields"] == [
        {"id": DISPUTE_PROCESS, "value": "dispute_ticket_process__escalate_to_mediation"}
    ]
    assert changes["comment"]["scoped_body"] == [["channel:all", "Escalated to mediation"]]
