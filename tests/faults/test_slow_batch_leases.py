"""A slow batch keeps its leases: Zendesk answers slowly, the leases are short, and
another worker trying to claim gets nothing until the batch is done.

The batch's heartbeat extends all its leases in one transaction every third of a
lease; were it to fall behind, the other worker would lease the same events and
write to the same tickets a second time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.store import open_store
from tests.e2e.conftest import send, wait_for
from tests.faults.harness import (
    FaultSandbox,
    new_ticket,
    service_settings,
    serving,
    settle,
    sqlite_events,
    trigger,
)

pytestmark = pytest.mark.e2e

LEASE = 0.5  # seconds; the batch below takes several


async def _steal(url: str) -> list[int]:
    store = await open_store(url)
    try:
        taken = await store.claim("thief", limit=50, lease_seconds=30, now=datetime.now(UTC))
        return [event.id for event in taken]
    finally:
        await store.close()


def test_slow_batch_keeps_its_leases_against_another_worker(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    db = tmp_path / "triage.db"
    url = f"sqlite:///{db}"
    tickets = [new_ticket(zd) for _ in range(6)]
    with serving(service_settings(sandbox.url, url), run_worker=False) as intake:
        ids = [send(intake, trigger(t)).json()["event_id"] for t in tickets]
    sandbox.inject({"path_prefix": "/api/v2/", "delay_ms": 500})  # every Zendesk call slow
    settings = service_settings(
        sandbox.url, url, lease_seconds=LEASE, poll_interval_seconds=0.1, worker_concurrency=1
    )
    with serving(settings) as api:
        wait_for(
            lambda: (
                {e["status"] for i, e in sqlite_events(db).items() if i in ids}
                <= {"leased", "done"}
            ),
            timeout=10,
            what="the worker leased the backlog",
        )
        stolen: list[int] = []
        started = time.monotonic()
        held = 0.0  # how long the batch held leases while the thief tried
        while time.monotonic() < started + 4 * LEASE and any(
            e["status"] == "leased" for e in sqlite_events(db).values()
        ):
            stolen += asyncio.run(_steal(url))
            held = time.monotonic() - started
            time.sleep(LEASE / 4)
        assert stolen == [], "a leased event was claimed by another worker"
        assert held > 2 * LEASE, f"the batch outlived its first leases ({held:.1f} s)"
        sandbox.clear_faults()
        settle(api, ids, timeout=60)
    for ticket in tickets:
        assert len(sandbox.notes(ticket["id"])) == 1
        assert sandbox.marker_writes(ticket["id"]) == 1
