"""The service process is killed with SIGKILL at random points, 20 times over.

Webhooks keep arriving (and are redelivered until acknowledged, some twice) at
one port across incarnations; the sandbox delays Zendesk and marketplace calls
at random and answers some ticket writes only after applying them, so kills
land before, during and after reads, writes and store updates. A short lease
(1 s) hands the events of a killed process to the next one.
"""

from __future__ import annotations

import random
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.core.serving import free_port
from tests.e2e.conftest import wait_for
from tests.faults.harness import (
    FINAL,
    Deliverer,
    FaultSandbox,
    ForkServer,
    ServiceProcess,
    new_ticket,
    running,
    sqlite_events,
    trigger,
)

pytestmark = pytest.mark.e2e

KILLS = 20
NEW_PER_LIFE = 2
SEED = 5150
RANDOM_DELAYS = (
    {"method": "GET", "path_prefix": "/api/v2/tickets", "delay_ms": 300, "probability": 0.4},
    {"method": "PUT", "path_prefix": "/api/v2/tickets", "delay_ms": 300, "probability": 0.4},
    {"path_prefix": "/api/v2/", "delay_ms": 150, "probability": 0.3},
    {"path_prefix": "/marketplace/", "delay_ms": 150, "probability": 0.3},
)


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server reads /proc")
def test_service_sigkill_at_random_points_nothing_lost_nothing_written_twice(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    tickets = [new_ticket(zd) for _ in range(KILLS * NEW_PER_LIFE)]
    db = tmp_path / "triage.db"
    port = free_port()
    sandbox.inject(*RANDOM_DELAYS, seed=SEED)
    sandbox.log.answer_late("PUT", "/api/v2/tickets", seconds=0.5, probability=0.3, seed=SEED)
    # each kill costs an event at most one lease: the poison cap must never be what gives up
    settings = {"lease_seconds": 1, "log_level": "WARNING", "max_lease_expiries": KILLS + 1}
    kill_points: list[float] = []
    with (
        ForkServer() as forks,
        Deliverer(f"http://127.0.0.1:{port}", duplicates=0.2, seed=SEED) as zendesk,
    ):
        for life in range(KILLS):
            service = ServiceProcess(
                sandbox.url,
                f"sqlite:///{db}",
                tmp_path / "service.log",
                port=port,
                forkserver=forks,
                **settings,
            )
            with running(service):
                service.wait_healthy()
                batch = tickets[life * NEW_PER_LIFE : (life + 1) * NEW_PER_LIFE]
                zendesk.put(*(trigger(t) for t in batch))
                kill_points.append(rng.uniform(0.2, 1.4))
                time.sleep(kill_points[-1])
                service.signal(signal.SIGKILL)
                service.wait(timeout=10)
        # The last life is not killed: it finishes what the others left.
        sandbox.clear_faults()
        sandbox.log.clear_late()
        survivor = ServiceProcess(
            sandbox.url,
            f"sqlite:///{db}",
            tmp_path / "service.log",
            port=port,
            forkserver=forks,
            **settings,
        )
        with running(survivor):
            survivor.wait_healthy()
            wait_for(zendesk.idle, timeout=30, what="every webhook acknowledged")
            assert zendesk.errors == []

            def settled() -> bool:
                events = sqlite_events(db)
                return bool(events) and all(e["status"] in FINAL for e in events.values())

            wait_for(settled, timeout=60, what="every stored event done or dead")
    events = sqlite_events(db)
    missing = sorted(set(zendesk.acked) - set(events))
    assert missing == [], "acknowledged events are all in the store"
    dead = {i: e["last_error"] for i, e in events.items() if e["status"] != "done"}
    assert dead == {}, "no event was given up on"
    assert {e["ticket_id"] for e in events.values()} == {t["id"] for t in tickets}
    twice = {}
    for ticket in tickets:
        notes, writes = len(sandbox.notes(ticket["id"])), sandbox.marker_writes(ticket["id"])
        if (notes, writes) != (1, 1):
            twice[ticket["id"]] = (notes, writes)
    assert twice == {}, "(notes, decision writes) per ticket"
    assert zendesk.refused > 0, "some deliveries hit a dead process and were redelivered"
    taken_over = [e for e in events.values() if "lease expired" in (e["last_error"] or "")]
    assert len(taken_over) >= 3, "kills landed in the middle of events"
