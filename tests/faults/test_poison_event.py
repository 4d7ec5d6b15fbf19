"""A poison event: the service dies every time it works on it.

The process is killed with SIGKILL whenever it reads one ticket from Zendesk, as
if that ticket crashed it (a runaway body, a native-library fault). Each kill
lets the event's lease run out; the next process takes it again. After
`MAX_LEASE_EXPIRIES` of them the next claim puts it in the dead letters with the
reason instead of working on it, so the service stays up, later events of that
ticket are worked again, and other tickets were never held up. The operator sees
why in `/admin/dead-letters`.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import send, wait_for
from tests.faults.harness import (
    FaultSandbox,
    ForkServer,
    ServiceProcess,
    event_of,
    new_ticket,
    running,
    trigger,
)

pytestmark = pytest.mark.e2e

CAP = 3
HOLD_MS = 5000  # the poison ticket's reads hang until the kill lands


def _reads_of(sandbox: FaultSandbox, ticket_id: int) -> int:
    path = f"/api/v2/tickets/{ticket_id}"
    return sum(
        1
        for r in sandbox.requests("GET", path)
        if r.path.removesuffix(".json") == path or r.path.startswith(path + "/")
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server reads /proc")
def test_event_that_kills_every_worker_is_dead_lettered_after_the_cap(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    poison, healthy = new_ticket(zd), new_ticket(zd)
    sandbox.inject(
        {
            "method": "GET",
            "path_prefix": f"/api/v2/tickets/{poison['id']}",
            "delay_ms": HOLD_MS,
            "probability": 1.0,
        }
    )
    database_url = f"sqlite:///{tmp_path / 'triage.db'}"
    settings: dict[str, Any] = {
        "lease_seconds": 1,
        "log_level": "WARNING",
        "max_lease_expiries": CAP,
    }

    def service() -> ServiceProcess:
        return ServiceProcess(
            sandbox.url, database_url, tmp_path / "service.log", forkserver=forks, **settings
        )

    poisoned: int | None = None
    with ForkServer() as forks:
        # the first life takes it fresh; each later one after a lease expiry
        for life in range(CAP):
            before = _reads_of(sandbox, poison["id"])
            with running(service()) as proc, proc.admin() as api:
                proc.wait_healthy()
                if poisoned is None:
                    poisoned = int(send(api, trigger(poison)).json()["event_id"])
                wait_for(
                    lambda: _reads_of(sandbox, poison["id"]) > before,  # noqa: B023
                    timeout=30,
                    what=f"life {life} reading the poison ticket",
                )
                proc.signal(signal.SIGKILL)
                proc.wait(timeout=10)
        assert poisoned is not None
        reads = _reads_of(sandbox, poison["id"])

        with running(service()) as proc, proc.admin() as api:
            proc.wait_healthy()
            wait_for(
                lambda: event_of(api, poisoned)["status"] == "dead",
                timeout=30,
                what="the poison event dead-lettered",
            )
            assert _reads_of(sandbox, poison["id"]) == reads, "not worked on a fourth time"
            dead = event_of(api, poisoned)
            assert (dead["lease_expiries"], dead["attempts"]) == (CAP, 1)
            assert f"a worker stopped {CAP} times while holding this event" in dead["last_error"]
            listed = api.get("/admin/dead-letters").json()
            assert poisoned in [e["id"] for e in listed["dead_letters"]]

            # the service lives on: another ticket is worked, and so is a new
            # event of the poison ticket once Zendesk answers for it again
            sandbox.clear_faults()
            later = [
                int(send(api, trigger(t, updated_at=stamp)).json()["event_id"])
                for t, stamp in ((healthy, None), (poison, "2030-01-01T00:00:00Z"))
            ]
            wait_for(
                lambda: all(event_of(api, i)["status"] == "done" for i in later),
                timeout=30,
                what="later events done",
            )
            assert proc.pid and proc.proc is not None and proc.proc.poll() is None
    assert len(sandbox.notes(healthy["id"])) == 1
    assert len(sandbox.notes(poison["id"])) == 1
