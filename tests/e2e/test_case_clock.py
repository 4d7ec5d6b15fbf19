"""The case clock end to end: a refund request's 7 days run out with no webhook.

A client's refund request is filed today; the service decides the ticket (the
freelancer has 7 calendar days) and keeps a timer. The service is stopped and
started again with its clock 8 days ahead: no webhook comes, yet the ticket is
decided again on the worker's first timer poll and the note says the 7 days are
over and what follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.app import create_app
from app.cli.demo_cases import DemoCase, hourly_case
from app.core.serving import ThreadedServer
from app.routing.calendar import plain_day
from app.store import TimerSpec, open_store
from tests.e2e.conftest import (
    admin_client,
    create_case,
    e2e_settings,
    event_status,
    send,
    ticket_writes,
    wait_for,
)

# Long enough that a second poll could not come within the test's wait: the
# re-decision can only come from the first poll after the restart.
POLL_SECONDS = 60.0
WAIT_SECONDS = 45.0


def refund_case(today: date) -> DemoCase:
    contract = {
        "id": "C-7001",
        "type": "fixed_price",
        "status": "closed",
        "client_username": "acme",
        "freelancer_username": "jo",
        "funds_in_escrow": "300.00",
        "payments": [],
        "refund_request": {"status": "pending", "requested_on": today.isoformat()},
    }
    users = [
        {"username": "acme", "role": "client", "segment": "VSB", "profile_url": "https://o/a"},
        {"username": "jo", "role": "freelancer", "badge": "none", "profile_url": "https://o/j"},
    ]
    fields: dict[str, Any] = {
        "Requester Role": "client",
        "Inquiry Type": "dispute",
        "Contract ID": "C-7001",
        "Dispute Reasons": ["Poor Deliverable / Performance"],
    }
    return DemoCase(
        "refund requested today", "I want my escrow back", "web", fields, contract, users
    )


def admin(server: ThreadedServer) -> httpx.Client:
    return admin_client(server.url)


def notes(zd: httpx.Client, ticket_id: int) -> list[str]:
    comments = zd.get(f"/api/v2/tickets/{ticket_id}/comments").json()["comments"]
    return [c["body"] for c in comments if not c["public"]]


def decisions(api: httpx.Client, ticket_id: int) -> list[dict[str, Any]]:
    answer = api.get(f"/admin/tickets/{ticket_id}/decisions").json()
    return list(answer["decisions"])


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "triage.db"


@pytest.fixture
def stopped() -> Iterator[list[ThreadedServer]]:
    servers: list[ThreadedServer] = []
    yield servers
    for server in servers:
        server.stop()


def test_refund_request_lapses_without_a_webhook(
    zd: httpx.Client, sandbox: ThreadedServer, database: Path, stopped: list[ThreadedServer]
) -> None:
    today = datetime.now(UTC).date()
    settings = e2e_settings(sandbox.url, database, poll_interval_seconds=POLL_SECONDS)
    ticket = create_case(zd, refund_case(today))
    due = plain_day(today + timedelta(days=7))

    first = ThreadedServer(create_app(settings)).start()
    stopped.append(first)
    with admin(first) as api:
        sent = send(api, {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]})
        wait_for(lambda: event_status(api, sent.json()["event_id"]) == "done", what="decided")
        [decided] = decisions(api, ticket["id"])
        [deadline] = decided["decision"]["deadlines"]
        assert (deadline["kind"], deadline["over"]) == ("refund_response", False)
        assert deadline["due"] == (today + timedelta(days=7)).isoformat()
        [timer] = api.get(f"/admin/tickets/{ticket['id']}/timers").json()["timers"]
        assert timer["fired_at"] is None
        soon = api.get("/admin/timers", params={"within_hours": 24 * 9}).json()
        assert [t["ticket_id"] for t in soon["due_soon"]] == [ticket["id"]]
    first.stop()
    assert any(f"has until {due} to respond in-product" in n for n in notes(zd, ticket["id"]))

    ahead = ThreadedServer(
        create_app(settings, clock=lambda: datetime.now(UTC) + timedelta(days=8))
    ).start()
    stopped.append(ahead)
    with admin(ahead) as api:
        wait_for(
            lambda: len(decisions(api, ticket["id"])) == 2,
            timeout=WAIT_SECONDS,
            what="the timer's re-decision (first poll after the restart)",
        )
        latest = decisions(api, ticket["id"])[0]
        assert latest["decision"]["trigger"]["deadline"] == "refund_response"
        assert latest["outcome"] == "applied"
        [over] = latest["decision"]["deadlines"]
        assert over["over"] is True
        assert latest["decision"]["eligibility"]["code"] == "escrow_refunded_to_client"
        assert api.get(f"/admin/tickets/{ticket['id']}/timers").json()["timers"] == []

        def timer_events() -> list[dict[str, Any]]:
            events = api.get("/admin/events").json()["events"]
            return [e for e in events if e["source"] == "timer"]

        # the decision is recorded a moment before its event is marked done
        wait_for(lambda: [e["status"] for e in timer_events()] == ["done"], what="timer done")
        [event] = timer_events()
        assert event["priority"] == 3
        metrics = api.get("/metrics").text
        assert "triage_timers_fired_total 1.0" in metrics
        assert "triage_timers_overdue 0.0" in metrics
    last = notes(zd, ticket["id"])[-1]
    assert f"7 days to respond in-product are over (they ended {due})" in last
    assert "the escrow goes back to the client" in last


def test_a_timer_whose_outcome_did_not_change_writes_nothing(
    zd: httpx.Client, service_factory: Callable[..., ThreadedServer], tmp_path: Path
) -> None:
    service = service_factory(poll_interval_seconds=0.2)
    ticket = create_case(zd, hourly_case(datetime.now(UTC).date()))
    with admin(service) as api:
        sent = send(api, {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]})
        wait_for(lambda: event_status(api, sent.json()["event_id"]) == "done", what="decided")
        assert ticket_writes(zd, ticket["id"]) == 1
        asyncio.run(arm_now(tmp_path / "triage.db", ticket["id"]))
        wait_for(lambda: len(decisions(api, ticket["id"])) == 2, what="the timer's re-decision")
        latest = decisions(api, ticket["id"])[0]
        assert latest["decision"]["trigger"]["deadline"] == "mediation_duration"
        assert latest["outcome"] == "noop" and latest["writes"] == []
    assert ticket_writes(zd, ticket["id"]) == 1


async def arm_now(database: Path, ticket_id: int) -> None:
    """A timer due now, as a decision depending on a clock would have left it."""
    store = await open_store(f"sqlite:///{database}")
    try:
        spec = TimerSpec(
            "mediation_duration", date.today(), datetime.now(UTC), "the Mediation case", "-"
        )
        await store.set_timers(ticket_id, [spec], policy_version="test", decision_id=None)
    finally:
        await store.close()


def test_many_deadlines_at_once_are_re_decided_as_a_batch(
    zd: httpx.Client, sandbox: ThreadedServer, database: Path, stopped: list[ThreadedServer]
) -> None:
    """After a long stop, the deadlines that ran out meanwhile fire together: the
    worker claims them as one batch (`BATCH_MIN_EVENTS`), and a timer's ticket,
    unchanged since the service's own write, is still no echo."""
    today = datetime.now(UTC).date()
    settings = e2e_settings(sandbox.url, database, batch_min_events=5)
    tickets = [create_case(zd, refund_case(today)) for _ in range(6)]
    first = ThreadedServer(create_app(settings)).start()
    stopped.append(first)
    with admin(first) as api:
        sent = [
            send(api, {"ticket_id": str(t["id"]), "updated_at": t["updated_at"]}).json()
            for t in tickets
        ]
        wait_for(
            lambda: all(event_status(api, s["event_id"]) == "done" for s in sent),
            what="all decided",
        )
    first.stop()

    ahead = ThreadedServer(
        create_app(settings, clock=lambda: datetime.now(UTC) + timedelta(days=8))
    ).start()
    stopped.append(ahead)
    with admin(ahead) as api:
        wait_for(
            lambda: all(len(decisions(api, t["id"])) == 2 for t in tickets),
            what="every ticket decided again by its timer",
        )
        latest = [decisions(api, t["id"])[0] for t in tickets]
        assert {d["outcome"] for d in latest} == {"applied"}
        assert any(w.get("job_id") for d in latest for w in d["writes"]), "one bulk job"
    for ticket in tickets:
        assert "are over" in notes(zd, ticket["id"])[-1]
        assert ticket_writes(zd, ticket["id"]) == 1  # the webhook's; the timer's went in bulk


def test_overdue_timers_show_in_admin_and_metrics_when_no_worker_fires_them(
    zd: httpx.Client, sandbox: ThreadedServer, database: Path, stopped: list[ThreadedServer]
) -> None:
    settings = e2e_settings(sandbox.url, database)
    asyncio.run(arm_now(database, 4242))
    server = ThreadedServer(create_app(settings, run_worker=False)).start()
    stopped.append(server)
    with admin(server) as api:
        page = api.get("/admin/timers").json()
        assert page["overdue_count"] == 1
        assert [t["ticket_id"] for t in page["overdue"]] == [4242]
        assert page["overdue"][0]["fired_at"] is None
        assert "triage_timers_overdue 1.0" in api.get("/metrics").text
        assert api.get("/admin/timers", headers={"authorization": "Bearer x"}).status_code == 403
