"""Replays of a time range (incremental export) or of ticket ids, run in the background."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.store import Priority
from tests.integration.admin.admin_helpers import TestClient, poll, services_of

HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def new_ticket(zd: httpx.Client, subject: str = "Hours billed with no work") -> dict[str, Any]:
    answer = zd.post(
        "/api/v2/tickets", json={"ticket": {"subject": subject, "comment": {"body": subject}}}
    )
    answer.raise_for_status()
    ticket: dict[str, Any] = answer.json()["ticket"]
    return ticket


def finished(client: TestClient, replay_id: str) -> dict[str, Any]:
    return poll(
        lambda: client.get(f"/admin/replays/{replay_id}").json(),
        lambda p: p["status"] != "running",
    )


def replay_events(client: TestClient, replay_id: str) -> list[dict[str, Any]]:
    events = client.get("/admin/events", params={"limit": 500}).json()["events"]
    return [e for e in events if e["dedupe_key"].startswith(f"replay:{replay_id}:")]


def test_time_range_queues_every_ticket_at_replay_priority(
    client: TestClient, zd: httpx.Client
) -> None:
    tickets = [new_ticket(zd) for _ in range(3)]
    answer = client.post("/admin/replay", json={"start": HOUR_AGO, "end": None})
    assert answer.status_code == 202, answer.text
    started = answer.json()
    assert started["mode"] == "time_range" and started["end"] is not None
    assert started["progress_url"] == f"/admin/replays/{started['id']}"

    progress = finished(client, started["id"])
    assert progress["status"] == "done", progress
    assert (progress["seen"], progress["queued"], progress["duplicates"]) == (3, 3, 0)
    assert progress["cursor"] and progress["pages"] >= 1 and progress["error"] is None
    assert progress["active"] is False

    events = replay_events(client, started["id"])
    assert sorted(e["ticket_id"] for e in events) == sorted(t["id"] for t in tickets)
    assert {e["priority"] for e in events} == {int(Priority.REPLAY)}
    assert {e["status"] for e in events} == {"pending"}
    assert {e["dedupe_key"] for e in events} == {
        f"replay:{started['id']}:{t['id']}" for t in tickets
    }
    assert {e["source"] for e in events} == {"replay"}

    # The progress is the kv document, readable from the store itself.
    assert client.portal is not None
    raw = client.portal.call(services_of(client).store.get_kv, f"replay:{started['id']}")
    assert raw is not None
    assert json.loads(raw)["status"] == "done"


def test_time_range_stops_at_end_and_skips_closed(client: TestClient, zd: httpx.Client) -> None:
    early = new_ticket(zd)
    closed = new_ticket(zd)
    zd.put(
        f"/api/v2/tickets/{closed['id']}", json={"ticket": {"status": "closed"}}
    ).raise_for_status()
    end = datetime.now(UTC).isoformat()
    late = new_ticket(zd)
    started = client.post("/admin/replay", json={"start": HOUR_AGO, "end": end}).json()
    progress = finished(client, started["id"])
    assert progress["status"] == "done"
    assert (progress["seen"], progress["queued"], progress["skipped"]) == (2, 1, 1)
    queued = [e["ticket_id"] for e in replay_events(client, started["id"])]
    assert queued == [early["id"]]
    assert late["id"] not in queued


def test_ticket_ids_are_queued_once_per_replay(client: TestClient, zd: httpx.Client) -> None:
    a, b = new_ticket(zd), new_ticket(zd)
    first = client.post("/admin/replay", json={"ticket_ids": [a["id"], b["id"], a["id"]]}).json()
    progress = finished(client, first["id"])
    assert (progress["status"], progress["seen"], progress["queued"], progress["duplicates"]) == (
        "done",
        3,
        2,
        1,
    )
    assert progress["ticket_ids"] == 3 and progress["position"] == 3
    # A second replay of the same tickets is new work (its own dedupe keys).
    second = client.post("/admin/replay", json={"ticket_ids": [a["id"]]}).json()
    assert finished(client, second["id"])["queued"] == 1
    assert len(replay_events(client, first["id"])) == 2
    assert len(replay_events(client, second["id"])) == 1


def test_bad_requests_are_refused(client: TestClient) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for body in [
        {},
        {"start": HOUR_AGO, "ticket_ids": [1]},
        {"ticket_ids": []},
        {"ticket_ids": [0]},
        {"ticket_ids": [1], "end": HOUR_AGO},
        {"start": HOUR_AGO, "end": (datetime.now(UTC) - timedelta(hours=2)).isoformat()},
        {"start": "yesterday"},
        {"start": future},
        {"start": HOUR_AGO, "extra": 1},
        {"start": "1969-12-31T23:00:00Z"},
        {"start": "9999-12-31T23:00:00-05:00"},
        {"ticket_ids": [2**63]},
    ]:
        answer = client.post("/admin/replay", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert isinstance(answer.json()["detail"], list)  # FastAPI's validation-error shape
    assert client.get("/admin/replays/nope").status_code == 404
    assert client.get("/admin/replays/bad id!").status_code == 422
    assert client.post("/admin/replays/nope/resume").status_code == 404
    assert client.post("/admin/replays/nope/cancel").status_code == 409


def test_list_pages_and_filters(client: TestClient, zd: httpx.Client) -> None:
    ticket = new_ticket(zd)
    ids = []
    for _ in range(3):
        ids.append(client.post("/admin/replay", json={"ticket_ids": [ticket["id"]]}).json()["id"])
        finished(client, ids[-1])
    ranged = client.post("/admin/replay", json={"start": HOUR_AGO}).json()["id"]
    finished(client, ranged)

    first = client.get("/admin/replays", params={"limit": 2}).json()
    assert [r["id"] for r in first["replays"]] == [ranged, ids[2]]
    assert first["next_before"] == ids[2]
    second = client.get("/admin/replays", params={"limit": 2, "before": ids[2]}).json()
    assert [r["id"] for r in second["replays"]] == [ids[1], ids[0]]
    assert second["next_before"] is None

    only_ids = client.get("/admin/replays", params={"mode": "ticket_ids"}).json()["replays"]
    assert [r["id"] for r in only_ids] == [ids[2], ids[1], ids[0]]
    assert client.get("/admin/replays", params={"status": "failed"}).json()["replays"] == []
    assert len(client.get("/admin/replays", params={"status": "done"}).json()["replays"]) == 4
    assert client.get("/admin/replays", params={"status": "nonsense"}).status_code == 422


def test_failed_export_is_resumed_after_zendesk_recovers(
    client: TestClient, zd: httpx.Client
) -> None:
    new_ticket(zd)
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"path_prefix": "/api/v2/incremental", "status": 404}]},
    ).raise_for_status()
    started = client.post("/admin/replay", json={"start": HOUR_AGO}).json()
    progress = finished(client, started["id"])
    assert progress["status"] == "failed"
    assert "NotFound" in progress["error"] and progress["queued"] == 0

    zd.delete("/_sandbox/faults").raise_for_status()
    resumed = client.post(f"/admin/replays/{started['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    progress = finished(client, started["id"])
    assert progress["status"] == "done" and progress["queued"] == 1 and progress["resumed"] == 1
    assert progress["error"] is None
    assert client.post(f"/admin/replays/{started['id']}/resume").status_code == 409  # done


def slow_export(zd: httpx.Client, delay_ms: int = 3000) -> None:
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"path_prefix": "/api/v2/incremental", "delay_ms": delay_ms, "times": 1}]},
    ).raise_for_status()


def test_cancel_stops_a_running_replay(client: TestClient, zd: httpx.Client) -> None:
    new_ticket(zd)
    slow_export(zd)
    started = client.post("/admin/replay", json={"start": HOUR_AGO}).json()
    assert client.get(f"/admin/replays/{started['id']}").json()["active"] is True
    cancelled = client.post(f"/admin/replays/{started['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["active"] is False
    assert replay_events(client, started["id"]) == []
    # ...and can be resumed.
    assert client.post(f"/admin/replays/{started['id']}/resume").status_code == 200
    assert finished(client, started["id"])["status"] == "done"


def test_replay_interrupted_by_shutdown_resumes_at_next_start(
    client_factory: Callable[..., TestClient], zd: httpx.Client
) -> None:
    ticket = new_ticket(zd)
    first = client_factory()
    slow_export(zd)
    replay_id = first.post("/admin/replay", json={"start": HOUR_AGO}).json()["id"]
    first.__exit__(None, None, None)  # shutdown while the export page is in flight

    second = client_factory()
    progress = finished(second, replay_id)
    assert progress["status"] == "done", progress
    assert progress["resumed"] == 1 and progress["queued"] == 1
    assert [e["ticket_id"] for e in replay_events(second, replay_id)] == [ticket["id"]]
