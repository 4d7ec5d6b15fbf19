"""SIGTERM while 500 events (5 for each of 100 tickets) are being delivered and
worked on, with every Zendesk ticket call slowed down so the worker is busy.

A clean stop finishes what it holds within the grace period and releases the
rest: after the process is gone no event is left leased (the lease here is
30 s, so a forgotten one would sit out the rest of the test), and a restarted
service processes everything, each ticket written once.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.serving import free_port
from tests.e2e.conftest import wait_for
from tests.faults.harness import (
    FINAL,
    Deliverer,
    FaultSandbox,
    ServiceProcess,
    new_ticket,
    running,
    sqlite_events,
    trigger,
)

pytestmark = pytest.mark.e2e

TICKETS = 100
EVENTS_PER_TICKET = 5


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_service_sigterm_under_load_releases_work_and_restart_processes_all(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    tickets = [new_ticket(zd) for _ in range(TICKETS)]
    payloads = [
        trigger(t, t["updated_at"] if k == 0 else f"{t['updated_at']}~{k}")
        for k in range(EVENTS_PER_TICKET)
        for t in tickets
    ]
    db = tmp_path / "triage.db"
    port = free_port()
    sandbox.inject({"path_prefix": "/api/v2/tickets", "delay_ms": 50})
    settings: dict[str, Any] = {"lease_seconds": 30, "worker_concurrency": 4, "log_level": "INFO"}

    def service() -> ServiceProcess:
        return ServiceProcess(
            sandbox.url, f"sqlite:///{db}", tmp_path / "service.log", port=port, **settings
        )

    with Deliverer(f"http://127.0.0.1:{port}", threads=4) as zendesk:
        first = service()
        with running(first):
            first.wait_healthy(timeout=60)
            zendesk.put(*payloads)

            def busy() -> bool:
                events = sqlite_events(db) if db.exists() else {}
                working = any(e["status"] in ("leased", "done") for e in events.values())
                return len(zendesk.acked) >= 300 and working

            wait_for(busy, timeout=60, what="deliveries and work under way")
            stopped_at = time.monotonic()
            first.signal(signal.SIGTERM)
            code = first.wait(timeout=60)
            took = time.monotonic() - stopped_at
            # uvicorn shuts down, then re-raises the signal it caught: -SIGTERM
            assert code in (0, -signal.SIGTERM), first.tail()
            assert '"worker stopped"' in first.log_path.read_text(), "the worker stopped cleanly"
        events = sqlite_events(db)
        leased = {i: e for i, e in events.items() if e["status"] == "leased"}
        assert leased == {}, f"a clean stop releases what it holds (stopped in {took:.1f}s)"
        assert {e["status"] for e in events.values()} <= {"pending", "done"}
        assert any(e["status"] == "pending" for e in events.values()), "stopped mid-backlog"

        sandbox.clear_faults()
        second = service()
        with running(second):
            second.wait_healthy(timeout=60)
            wait_for(zendesk.idle, timeout=60, what="every webhook acknowledged")
            assert zendesk.errors == []

            def settled() -> bool:
                return all(e["status"] in FINAL for e in sqlite_events(db).values())

            wait_for(settled, timeout=120, what="every event done or dead after the restart")
    events = sqlite_events(db)
    dead = {i: e["last_error"] for i, e in events.items() if e["status"] != "done"}
    assert dead == {}, "no event was given up on"
    assert len(events) == TICKETS * EVENTS_PER_TICKET
    assert set(zendesk.acked) <= set(events)
    twice = {}
    for ticket in tickets:
        notes, writes = len(sandbox.notes(ticket["id"])), sandbox.marker_writes(ticket["id"])
        if (notes, writes) != (1, 1):
            twice[ticket["id"]] = (notes, writes)
    assert twice == {}, "(notes, decision writes) per ticket"
