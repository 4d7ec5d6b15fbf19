"""Ops endpoints against the real service and the sandbox Zendesk over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.cli.demo_cases import hourly_case
from app.routing import default_policy_path, load_policy
from tests.e2e.conftest import create_case, event_status, send, ticket_writes, wait_for

TODAY = datetime.now(UTC).date()


def webhook(api: httpx.Client, ticket: dict[str, Any]) -> int:
    answer = send(api, {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]})
    assert answer.status_code == 200, answer.text
    event_id: int = answer.json()["event_id"]
    return event_id


def group_of(zd: httpx.Client, ticket_id: int) -> str | None:
    groups = {g["id"]: g["name"] for g in zd.get("/api/v2/groups").json()["groups"]}
    ticket = zd.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    return groups.get(ticket.get("group_id"))


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when absent)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def window_policy(days: int) -> str:
    text = default_policy_path().read_text()
    changed, count = re.subn(
        r"^(\s+mediation:\s+)30\b", rf"\g<1>{days}", text, count=1, flags=re.MULTILINE
    )
    assert count == 1
    return changed


def test_dry_run_replay_writes_nothing(zd: httpx.Client, api: httpx.Client) -> None:
    ticket = create_case(zd, hourly_case(TODAY))
    zd.delete("/_sandbox/requests").raise_for_status()

    answer = api.post(f"/admin/tickets/{ticket['id']}/replay", params={"dry_run": "true"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["dry_run"] is True and body["decision"]["queue"] == "Mediation_Tier_1_CX420"
    assert body["writes"] and body["writes"][0]["method"] == "PUT"  # planned, not made

    requests = zd.get("/_sandbox/requests").json()
    assert requests, "the dry run read the ticket"
    assert [r for r in requests if r["method"] != "GET"] == []
    assert ticket_writes(zd, ticket["id"]) == 0
    assert api.get("/admin/events").json()["events"] == []
    assert api.get(f"/admin/tickets/{ticket['id']}/decisions").json()["decisions"] == []


def test_dead_letter_is_retried_after_zendesk_recovers(zd: httpx.Client, api: httpx.Client) -> None:
    ticket = create_case(zd, hourly_case(TODAY))
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"method": "PUT", "path_prefix": "/api/v2/tickets", "status": 422}]},
    ).raise_for_status()
    event_id = webhook(api, ticket)
    wait_for(lambda: event_status(api, event_id) == "dead", what="dead letter")
    dead = api.get("/admin/dead-letters", params={"ticket_id": ticket["id"]}).json()
    assert [d["id"] for d in dead["dead_letters"]] == [event_id]
    assert "permanent" in dead["dead_letters"][0]["last_error"]
    assert group_of(zd, ticket["id"]) != "Mediation_Tier_1_CX420"

    zd.delete("/_sandbox/faults").raise_for_status()
    retry = api.post(f"/admin/dead-letters/{event_id}/retry")
    assert retry.status_code == 200, retry.text
    assert retry.json() == {"event_id": event_id, "status": "pending"}
    wait_for(lambda: event_status(api, event_id) == "done", what="retried event done")
    assert group_of(zd, ticket["id"]) == "Mediation_Tier_1_CX420"
    assert ticket_writes(zd, ticket["id"]) == 2  # the refused PUT and the one that worked
    assert api.get("/admin/dead-letters").json()["dead_letters"] == []
    assert api.post(f"/admin/dead-letters/{event_id}/retry").status_code == 404


def test_metrics_move_as_events_flow(zd: httpx.Client, api: httpx.Client) -> None:
    ticket = create_case(zd, hourly_case(TODAY))
    before = api.get("/metrics").text
    event_id = webhook(api, ticket)
    wait_for(lambda: event_status(api, event_id) == "done", what="event done")
    after = api.get("/metrics").text

    def moved(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert moved("triage_webhook_events_total", outcome="accepted") == 1
    assert moved("triage_events_processed_total", outcome="applied") == 1
    assert moved("triage_decisions_total", queue="Mediation_Tier_1_CX420") == 1
    assert moved("triage_processing_seconds_count") == 1
    assert moved("triage_zendesk_calls_total", method="PUT") >= 1
    assert metric(after, "triage_queue_depth", status="done") == 1
    # A refused webhook moves its own counter.
    refused = api.post("/webhooks/zendesk", json={"ticket_id": "1"})
    assert refused.status_code == 401
    last = api.get("/metrics").text
    assert (
        metric(last, "triage_webhook_rejected_total")
        - metric(after, "triage_webhook_rejected_total")
        == 1
    )


def test_policy_diff_on_a_changed_window(zd: httpx.Client, api: httpx.Client) -> None:
    paid_25 = create_case(zd, hourly_case(TODAY, "C-25", days_since_payment=25))
    paid_10 = create_case(zd, hourly_case(TODAY, "C-10", days_since_payment=10))
    events = [webhook(api, paid_25), webhook(api, paid_10)]
    wait_for(lambda: all(event_status(api, e) == "done" for e in events), what="both done")
    assert group_of(zd, paid_25["id"]) == group_of(zd, paid_10["id"]) == "Mediation_Tier_1_CX420"

    answer = api.post("/admin/policy/diff", json={"policy_yaml": window_policy(20), "last": 10})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["compared"] == 2 and result["problems"] == []
    by_ticket = {c["ticket_id"]: c for c in result["changes"]}
    moved = by_ticket[paid_25["id"]]
    assert moved["diff"]["queue"] == {
        "before": "Mediation_Tier_1_CX420",
        "after": "Client Retention Tier 2",
    }
    assert moved["diff"]["eligible"] == {"before": True, "after": False}
    assert moved["diff"]["eligibility"]["before"] == "within_30_days"
    # The ticket paid 10 days ago keeps its queue, status and macro.
    assert set(by_ticket[paid_10["id"]]["changed"]) <= {"eligibility", "notes"}
    material = api.post(
        "/admin/policy/diff",
        params={"aspect": ["queue", "status", "eligible", "macro"]},
        json={"policy_yaml": window_policy(20)},
    ).json()
    assert [c["ticket_id"] for c in material["changes"]] == [paid_25["id"]]
    # Nothing was written while comparing.
    assert ticket_writes(zd, paid_25["id"]) == ticket_writes(zd, paid_10["id"]) == 1


def test_replay_time_range_queues_at_replay_priority_and_reports_done(
    zd: httpx.Client, api: httpx.Client
) -> None:
    tickets = [create_case(zd, hourly_case(TODAY, f"C-R{i}")) for i in range(3)]
    start = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    answer = api.post("/admin/replay", json={"start": start, "end": None})
    assert answer.status_code == 202, answer.text
    replay_id = answer.json()["id"]

    def progress() -> dict[str, Any]:
        body: dict[str, Any] = api.get(f"/admin/replays/{replay_id}").json()
        return body

    wait_for(lambda: progress()["status"] == "done", what="replay done")
    final = progress()
    assert (final["seen"], final["queued"], final["error"]) == (3, 3, None)
    assert final["cursor"]
    events = [
        e
        for e in api.get("/admin/events", params={"limit": 100}).json()["events"]
        if e["dedupe_key"].startswith(f"replay:{replay_id}:")
    ]
    assert sorted(e["ticket_id"] for e in events) == sorted(t["id"] for t in tickets)
    assert {e["priority"] for e in events} == {5}
    wait_for(lambda: all(event_status(api, e["id"]) == "done" for e in events), what="replays done")
    for ticket in tickets:
        assert group_of(zd, ticket["id"]) == "Mediation_Tier_1_CX420"
        assert ticket_writes(zd, ticket["id"]) == 1
    listed = api.get("/admin/replays", params={"status": "done"}).json()["replays"]
    assert [r["id"] for r in listed] == [replay_id]


def test_get_policy_shows_version_and_check_config(api: httpx.Client) -> None:
    answer = api.get("/admin/policy")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    shipped = load_policy(default_policy_path())
    assert (body["name"], body["version"]) == (shipped.name, shipped.version)
    assert body["version"].startswith("sha256:")
    check = body["check_config"]
    assert check["status"] == "ok" and check["missing"] == 0 and check["total"] > 0
    names = {(r["kind"], r["name"]) for r in check["rows"]}
    assert ("groups", "Mediation T2") in names
    assert ("macros", "CS > Mediation Ticket") in names
    assert ("forms", "Dispute Ticket Form - Escalate from CS") in names
    assert all(r["found"] for r in check["rows"])
