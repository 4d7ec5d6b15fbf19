"""Timers under a kill loop: two service processes share one database while one
of them is SIGKILLed and restarted again and again as deadlines come due.

Each ticket has one timer, due at staggered moments during the loop. However
the kills land (before, during or after a firing, a claim, a Zendesk write),
every deadline fires exactly once (one TIMER event per deadline), never before
its time, and its re-decision writes the ticket once. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.store import TimerSpec, open_store
from tests.e2e.conftest import wait_for
from tests.faults.harness import (
    FaultSandbox,
    ForkServer,
    ServiceProcess,
    all_events,
    new_ticket,
    pg_url,
)

pytestmark = pytest.mark.e2e

TICKETS = 16
KILLS = 8
SEED = 1717
FIRST_DUE = 3.0  # seconds after arming; then one deadline every STAGGER seconds
STAGGER = 0.5
# each kill costs an event at most one lease: the poison cap must never be what gives up
SETTINGS: dict[str, Any] = {
    "lease_seconds": 1,
    "log_level": "WARNING",
    "max_lease_expiries": KILLS + 1,
}


async def arm(database_url: str, ticket_ids: list[int]) -> dict[int, datetime]:
    """One timer per ticket, straight into the store, due at staggered moments."""
    store = await open_store(database_url)
    start = datetime.now(UTC) + timedelta(seconds=FIRST_DUE)
    due = {tid: start + timedelta(seconds=i * STAGGER) for i, tid in enumerate(ticket_ids)}
    try:
        for tid, fire_at in due.items():
            spec = TimerSpec("refund_response", date.today(), fire_at, "answer", "escrow back")
            await store.set_timers(tid, [spec], policy_version="test", decision_id=None)
    finally:
        await store.close()
    return due


def kill_loop(
    sandbox: FaultSandbox, database_url: str, log: Path, until: Callable[[], bool]
) -> tuple[list[dict[str, Any]], int]:
    """Two services; one of them killed at random moments KILLS times; then both
    run until `until()`. Returns every event and how many kills were made."""
    rng = random.Random(SEED)
    kills = 0
    with ForkServer() as forks:

        def start() -> ServiceProcess:
            service = ServiceProcess(sandbox.url, database_url, log, forkserver=forks, **SETTINGS)
            service.start().wait_healthy()
            return service

        services = [start(), start()]
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.2, 1.2))
                victim = rng.randrange(2)
                services[victim].kill()
                kills += 1
                services[victim] = start()
            with services[0].admin() as api:
                wait_for(lambda: until() and _settled(api), timeout=90, what="timers settled")
                return all_events(api), kills
        finally:
            for service in services:
                service.kill()


def _settled(api: httpx.Client) -> bool:
    timers = [e for e in all_events(api) if e["source"] == "timer"]
    return len(timers) == TICKETS and all(e["status"] in ("done", "dead") for e in timers)


def check(sandbox: FaultSandbox, events: list[dict[str, Any]], due: dict[int, datetime]) -> None:
    fired = [e for e in events if e["source"] == "timer"]
    per_ticket = {tid: [e for e in fired if e["ticket_id"] == tid] for tid in due}
    assert {tid: len(found) for tid, found in per_ticket.items()} == dict.fromkeys(due, 1)
    assert len({e["dedupe_key"] for e in fired}) == TICKETS
    assert [e for e in fired if e["status"] != "done"] == []
    for tid, [event] in per_ticket.items():
        fired_at = datetime.fromisoformat(event["received_at"])
        assert fired_at >= due[tid], f"ticket {tid}: fired {fired_at} before {due[tid]}"
        assert event["priority"] == 3
    writes = {tid: sandbox.marker_writes(tid) for tid in due}
    assert writes == dict.fromkeys(due, 1), "each re-decision wrote its ticket once"


def run_case(sandbox: FaultSandbox, zd: httpx.Client, database_url: str, log: Path) -> None:
    tickets = [new_ticket(zd, contract_id="C-42", days=10)["id"] for _ in range(TICKETS)]
    due = asyncio.run(arm(database_url, tickets))
    last = max(due.values())
    events, kills = kill_loop(
        sandbox, database_url, log, until=lambda: datetime.now(UTC) > last + timedelta(seconds=1)
    )
    assert kills == KILLS
    check(sandbox, events, due)


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server reads /proc")
def test_timers_fire_once_under_a_kill_loop_sqlite(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    run_case(sandbox, zd, f"sqlite:///{tmp_path / 'triage.db'}", tmp_path / "service.log")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(420)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server reads /proc")
def test_timers_fire_once_under_a_kill_loop_postgres(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path, pg_schema: str
) -> None:
    run_case(sandbox, zd, pg_url(pg_schema), tmp_path / "service.log")
