"""A signed webhook ends as one Zendesk update, however often Zendesk delivers it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from app.cli.demo_cases import DemoCase
from app.cli.demo_cases import hourly_case as demo_hourly_case
from tests.e2e.conftest import create_case, event_status, send, ticket_writes, wait_for


def hourly_case(today: date | None = None) -> DemoCase:
    return demo_hourly_case(today or datetime.now(UTC).date())


def test_signed_webhook_updates_ticket(zd: httpx.Client, api: httpx.Client) -> None:
    ticket = create_case(zd, hourly_case())
    answer = send(api, {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"
    event_id = answer.json()["event_id"]
    wait_for(lambda: event_status(api, event_id) == "done", what="event done")
    after = zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]
    groups = {g["id"]: g["name"] for g in zd.get("/api/v2/groups").json()["groups"]}
    assert groups[after["group_id"]] == "Mediation_Tier_1_CX420"
    comments = zd.get(f"/api/v2/tickets/{ticket['id']}/comments").json()["comments"]
    assert any(not c["public"] for c in comments), "an internal note was written"
    history = api.get(f"/admin/tickets/{ticket['id']}/decisions").json()["decisions"]
    assert history and history[0]["decision"]["queue"] == "Mediation_Tier_1_CX420"


def test_same_webhook_five_times_one_update(zd: httpx.Client, api: httpx.Client) -> None:
    ticket = create_case(zd, hourly_case())
    payload = {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}
    answers = [send(api, payload) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["status"] for a in answers] == ["accepted"] + ["duplicate"] * 4
    assert len({a.json()["event_id"] for a in answers}) == 1
    wait_for(lambda: event_status(api, answers[0].json()["event_id"]) == "done", what="event done")
    assert ticket_writes(zd, ticket["id"]) == 1


def test_echo_of_own_update_writes_nothing(zd: httpx.Client, api: httpx.Client) -> None:
    ticket = create_case(zd, hourly_case())
    first = send(api, {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]})
    wait_for(lambda: event_status(api, first.json()["event_id"]) == "done", what="first done")
    updated = zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]
    echo = send(api, {"ticket_id": str(ticket["id"]), "updated_at": updated["updated_at"]})
    assert echo.json()["status"] == "accepted"
    wait_for(lambda: event_status(api, echo.json()["event_id"]) == "done", what="echo done")
    assert ticket_writes(zd, ticket["id"]) == 1
    outcomes = [
        d["outcome"]
        for d in api.get(f"/admin/tickets/{ticket['id']}/decisions").json()["decisions"]
    ]
    assert outcomes == ["noop", "applied"]
