"""Kill -9 exactly between the Zendesk write and the decision record, 20 times over.

Issue 16.2. The sandbox applies every ticket PUT at once and then stalls its
answer (`answer_late`): the write is in Zendesk, the service does not know yet.
The test waits until the service's PUT for the new ticket is in that state and
kills the process with SIGKILL, so every kill lands in the window between the
write and its record. The next incarnation first finishes the killed ticket (its
lease of 1 s runs out; the ticket carries the decision's marker, so nothing is
written again) and is killed in turn on the next ticket.

Held: exactly one `applied` decision per ticket in the log, with the write the
crashed attempt made (marked `recovered`); one note and one marker write per
ticket in Zendesk; every event `done` with 0 recorded failures (there were no
real failures) and its kill counted apart as a lease expiry. The same on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import send, wait_for
from tests.faults.harness import (
    FaultSandbox,
    ForkServer,
    ServiceProcess,
    all_events,
    event_of,
    new_ticket,
    pg_url,
    running,
    trigger,
)

pytestmark = pytest.mark.e2e

KILLS = 20
STALL_SECONDS = 20.0  # longer than any kill takes to land; shorter than the client timeout


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'triage.db'}"
    else:
        yield pg_url(request.getfixturevalue("pg_schema"))


def _written_not_answered(sandbox: FaultSandbox, ticket_id: int) -> bool:
    path = f"/api/v2/tickets/{ticket_id}"
    return any(
        r.late and r.path.removesuffix(".json") == path for r in sandbox.requests("PUT", path)
    )


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~10 s a life on a loaded 2-core machine
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server reads /proc")
def test_sigkill_between_write_and_record_one_applied_decision_per_ticket(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path, database_url: str
) -> None:
    tickets = [new_ticket(zd) for _ in range(KILLS)]
    sandbox.log.answer_late("PUT", "/api/v2/tickets/", seconds=STALL_SECONDS, probability=1.0)
    settings: dict[str, Any] = {"lease_seconds": 1, "log_level": "WARNING", "max_attempts": 2}
    event_ids: list[int] = []
    events: dict[int, dict[str, Any]] = {}
    logs: dict[int, list[dict[str, Any]]] = {}
    with ForkServer() as forks:
        for life in range(KILLS + 1):
            service = ServiceProcess(
                sandbox.url, database_url, tmp_path / "service.log", forkserver=forks, **settings
            )
            with running(service), service.admin() as api:
                service.wait_healthy()
                if event_ids:  # the ticket killed last life: finished without a new write
                    last = event_ids[-1]
                    wait_for(
                        lambda: event_of(api, last)["status"] == "done",  # noqa: B023
                        timeout=30,
                        what=f"killed event {last} done",
                    )
                if life == KILLS:  # the survivor: read what the kills left
                    events = {e["id"]: e for e in all_events(api)}
                    logs = {
                        t["id"]: api.get(f"/admin/tickets/{t['id']}/decisions").json()["decisions"]
                        for t in tickets
                    }
                    break
                ticket = tickets[life]
                event_ids.append(int(send(api, trigger(ticket)).json()["event_id"]))
                wait_for(
                    lambda: _written_not_answered(sandbox, ticket["id"]),  # noqa: B023
                    timeout=30,
                    what=f"ticket {ticket['id']} written in Zendesk",
                )
                service.signal(signal.SIGKILL)
                service.wait(timeout=10)

    assert set(events) == set(event_ids)
    assert {i: e["status"] for i, e in events.items()} == dict.fromkeys(event_ids, "done")
    # no real failure happened: none may be recorded; each kill is a lease expiry
    assert {i: e["attempts"] for i, e in events.items()} == dict.fromkeys(event_ids, 0)
    assert all(e["lease_expiries"] >= 1 for e in events.values())
    applied = {tid: [d for d in log if d["outcome"] == "applied"] for tid, log in logs.items()}
    assert {tid: len(a) for tid, a in applied.items()} == dict.fromkeys(logs, 1)
    for tid, [decision] in applied.items():
        [write] = decision["writes"]
        assert write["ticket_id"] == tid and write["recovered"]
        assert "group_id" in write["body"]["ticket"]  # the ping-pong guard counts this
    for ticket in tickets:
        assert (len(sandbox.notes(ticket["id"])), sandbox.marker_writes(ticket["id"])) == (1, 1)
