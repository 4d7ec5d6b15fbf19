"""Zendesk delivers each webhook several times, in no order.

Every ticket has two states: the one it was created in (contract C-42, paid 10
days ago: mediation) and a newer one, after an agent changed the contract to
C-OLD (paid 45 days ago: retention). Both events are delivered 10 times each,
shuffled, concurrently, with the older state always arriving after the newer
one was first seen. The older events also carry the stale group and tags in
their body.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.cli.demo_cases import hourly_case
from app.core.serving import ThreadedServer
from app.sandbox.model import parse_changes
from tests.e2e.conftest import admin_client, send
from tests.faults.harness import FaultSandbox, new_ticket, settle, trigger

pytestmark = pytest.mark.e2e

COPIES = 10
TICKETS = 6


def _newer_state(sandbox: FaultSandbox, zd: httpx.Client, ticket: dict[str, Any]) -> str:
    """An agent points the ticket at contract C-OLD; returns the new updated_at."""
    fields = {f["title"]: f["id"] for f in zd.get("/api/v2/ticket_fields").json()["ticket_fields"]}
    changes = parse_changes({"custom_fields": [{"id": fields["Contract ID"], "value": "C-OLD"}]})
    updated, _ = sandbox.state.tickets.update(
        ticket["id"], changes, author_id=sandbox.state.service_user_id
    )
    return str(updated["updated_at"])


def _deliveries(
    states: dict[int, tuple[dict[str, Any], dict[str, Any]]], rng: random.Random
) -> list[dict[str, Any]]:
    """Every event COPIES times, shuffled; per ticket the newer state comes first."""
    deliveries = [payload for old, new in states.values() for payload in [old, new] * COPIES]
    rng.shuffle(deliveries)
    for old, new in states.values():
        first_old = next(i for i, p in enumerate(deliveries) if p is old)
        first_new = next(i for i, p in enumerate(deliveries) if p is new)
        if first_old < first_new:
            deliveries[first_old], deliveries[first_new] = new, old
    return deliveries


def test_webhook_duplicate_and_out_of_order_deliveries_one_effect_per_ticket(
    sandbox: FaultSandbox, zd: httpx.Client, service_factory: Callable[..., ThreadedServer]
) -> None:
    today = datetime.now(UTC).date()
    zd.post("/_sandbox/marketplace/contracts", json=hourly_case(today, "C-OLD", 45).contract)
    states: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for _ in range(TICKETS):
        ticket = new_ticket(zd)
        stale = {"status": "new", "group": "Customer Support", "tags": "demo"}
        old = trigger(ticket, ticket["updated_at"], **stale)
        new = trigger(ticket, _newer_state(sandbox, zd, ticket), status="new", tags="demo")
        states[ticket["id"]] = (old, new)
    deliveries = _deliveries(states, random.Random(1234))
    service = service_factory(worker_concurrency=4, poll_interval_seconds=0.1)
    with admin_client(service.url) as api:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda payload: send(api, payload), deliveries))
        assert {a.status_code for a in answers} == {200}
        accepted = [a.json() for a in answers if a.json()["status"] == "accepted"]
        assert len(accepted) == 2 * TICKETS, "one stored event per ticket state"
        assert sum(a.json()["status"] == "duplicate" for a in answers) == (
            2 * TICKETS * (COPIES - 1)
        )
        ids = {a["event_id"] for a in accepted}

        settle(api, ids, timeout=60)
        groups = {g["id"]: g["name"] for g in zd.get("/api/v2/groups").json()["groups"]}
        for tid in states:
            decisions = api.get(f"/admin/tickets/{tid}/decisions").json()["decisions"]
            outcomes = [d["outcome"] for d in decisions]
            assert len(outcomes) == 2 and outcomes.count("applied") == 1, (tid, outcomes)
            contracts = {d["facts"]["contract"]["id"] for d in decisions}
            assert contracts == {"C-OLD"}, "every decision was made on the newest ticket"
            assert len(sandbox.notes(tid)) == 1
            assert sandbox.marker_writes(tid) == 1
            final = sandbox.ticket(tid)
            assert groups[final["group_id"]] == "Client Retention Tier 2", (
                "the older state did not win"
            )
