"""The reconciliation sweep over real HTTP: with no webhook at all, a ticket changed
in the sandbox Zendesk is triaged by the next sweep."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from app.core.serving import ThreadedServer
from tests.e2e.conftest import admin_client, create_case, wait_for
from tests.e2e.test_webhook_to_zendesk import hourly_case

INTERVAL = 0.5  # seconds between sweeps: short, so the test is short


def sweeps_started(api: httpx.Client) -> int:
    text = api.get("/metrics").text
    match = re.search(r"^triage_reconcile_sweeps_total ([0-9.]+)$", text, re.M)
    return int(float(match.group(1))) if match else 0


def event_statuses(api: httpx.Client, ticket_id: int) -> list[str]:
    events = api.get("/admin/events", params={"ticket_id": ticket_id}).json()["events"]
    return [e["status"] for e in events]


def routed_group(zd: httpx.Client, ticket_id: int) -> str | None:
    ticket = zd.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    groups = {g["id"]: g["name"] for g in zd.get("/api/v2/groups").json()["groups"]}
    return groups.get(ticket["group_id"])


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_a_ticket_whose_webhook_never_came_is_triaged_by_the_next_sweep(
    service_factory: Callable[..., ThreadedServer], zd: httpx.Client, role: str
) -> None:
    zd.post("/_sandbox/settings", json={"service_user_role": role}).raise_for_status()
    service = service_factory(reconcile_interval_seconds=INTERVAL)
    with admin_client(service.url) as api:
        wait_for(lambda: sweeps_started(api) >= 1, what="a first sweep")
        before = sweeps_started(api)  # sweeps begun before the change
        ticket = create_case(zd, hourly_case())  # webhooks are off: none is ever sent
        wait_for(
            lambda: routed_group(zd, ticket["id"]) == "Mediation_Tier_1_CX420",
            timeout=60,
            what="the swept ticket routed",
        )
        wait_for(lambda: event_statuses(api, ticket["id"]) == ["done"], what="the event done")
        [event] = api.get("/admin/events", params={"ticket_id": ticket["id"]}).json()["events"]
        assert event["source"] == "reconcile"
        # queued by the sweep under way at the change or the one after it: one interval
        assert event["payload"]["sweep"] <= before + 1
        history = api.get(f"/admin/tickets/{ticket['id']}/decisions").json()["decisions"]
        assert history and history[0]["decision"]["queue"] == "Mediation_Tier_1_CX420"

        # the service's own write is a change too: later sweeps queue nothing for it
        done = sweeps_started(api)
        wait_for(lambda: sweeps_started(api) >= done + 2, what="two more sweeps")
        again = api.get("/admin/events", params={"ticket_id": ticket["id"]}).json()["events"]
        assert len(again) == 1
    paths = [entry["path"] for entry in zd.get("/_sandbox/requests").json()]
    source = "/api/v2/search" if role == "agent" else "/api/v2/incremental/tickets/cursor"
    assert any(p.startswith(source) for p in paths)
