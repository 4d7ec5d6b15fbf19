"""409 storms: the ticket changes between the service's read and its safe update.

A 409 means "the ticket is not what you decided on": the service must read it
again and decide again, never replay the stale write, and apply the decision
once when the storm is over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from app.core.serving import ThreadedServer
from app.sandbox.model import TicketChanges
from tests.e2e.conftest import admin_client, send, wait_for
from tests.faults.harness import FaultSandbox, new_ticket, settle, trigger

pytestmark = pytest.mark.e2e


def test_pipeline_409_storm_rereads_and_applies_once(
    sandbox: FaultSandbox, zd: httpx.Client, service_factory: Callable[..., ThreadedServer]
) -> None:
    """Five 409s in a row (more than the 3 re-decides of one attempt): every 409 is
    followed by a fresh read, and the decision lands once."""
    service = service_factory(poll_interval_seconds=0.1)
    ticket = new_ticket(zd)
    tid = ticket["id"]
    path = f"/api/v2/tickets/{tid}"
    sandbox.log.clear()
    sandbox.inject({"method": "PUT", "path_prefix": path, "status": 409, "times": 5})
    with admin_client(service.url) as api:
        event_id = send(api, trigger(ticket)).json()["event_id"]
        settle(api, [event_id], timeout=30)
        decisions = api.get(f"/admin/tickets/{tid}/decisions").json()["decisions"]
    own = [r for r in sandbox.requests() if r.path.removesuffix(".json") == path]
    sequence = [(r.method, r.status) for r in own]
    assert sequence.count(("PUT", 409)) == 5
    assert sequence.count(("PUT", 200)) == 1
    for i, step in enumerate(sequence):
        if step == ("PUT", 409):
            assert sequence[i + 1] == ("GET", 200), f"a fresh read follows every 409: {sequence}"
    assert len(sandbox.notes(tid)) == 1
    assert sandbox.marker_writes(tid) == 1
    assert [d["outcome"] for d in decisions] == ["applied"]


def test_pipeline_agent_editing_concurrently_decision_remade_on_fresh_ticket(
    sandbox: FaultSandbox, zd: httpx.Client, service_factory: Callable[..., ThreadedServer]
) -> None:
    """An agent keeps adding tags to the ticket while the service decides. Every
    write of the service is a safe update, so each agent edit in between turns it
    into a 409; once the agent stops, the decision is made on the ticket as the
    agent left it (all the agent's tags kept) and applied once."""
    service = service_factory(poll_interval_seconds=0.1)
    ticket = new_ticket(zd)
    tid = ticket["id"]
    path = f"/api/v2/tickets/{tid}"
    # The service's writes reach the ticket 150 ms after they are sent: the agent
    # (every 20 ms) always gets in between while editing.
    sandbox.inject({"method": "PUT", "path_prefix": path, "delay_ms": 150})
    sandbox.log.clear()
    stop = threading.Event()
    agent_tags: list[str] = []
    failures: list[BaseException] = []

    def agent() -> None:
        try:
            n = 0
            while not stop.is_set() and n < 500:
                tag = f"agent_edit_{n}"
                sandbox.state.tickets.update(
                    tid, TicketChanges(add_tags=[tag]), author_id=sandbox.state.service_user_id
                )
                agent_tags.append(tag)
                n += 1
                time.sleep(0.02)
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    def conflicts() -> int:
        return sum(1 for r in sandbox.requests("PUT") if r.path == path and r.status == 409)

    editor = threading.Thread(target=agent, daemon=True)
    editor.start()
    try:
        with admin_client(service.url) as api:
            event_id = send(api, trigger(ticket)).json()["event_id"]
            wait_for(lambda: conflicts() >= 4, timeout=30, what="a storm of 409s")
            stop.set()
            editor.join(timeout=5)
            settle(api, [event_id], timeout=30)
            decisions = api.get(f"/admin/tickets/{tid}/decisions").json()["decisions"]
    finally:
        stop.set()
        editor.join(timeout=5)
    assert failures == []
    final = sandbox.ticket(tid)
    assert sandbox.marker_writes(tid) == 1
    assert len(sandbox.notes(tid)) == 1
    missing = [tag for tag in agent_tags if tag not in final["tags"]]
    assert missing == [], "no agent edit was overwritten by a stale write"
    applied = [d for d in decisions if d["outcome"] == "applied"]
    assert len(applied) == 1
    # Decided on the fresh ticket: the write that landed carried the stamp of the
    # ticket's state right before it, so its decision saw every edit made so far.
    audits = final["audits"]
    landed = next(
        i
        for i, audit in enumerate(audits)
        if any(
            e.get("field_name") == "tags"
            and any(t.startswith("triage_d_") for t in e.get("value") or [])
            for e in audit["events"]
        )
    )
    stamp = applied[0]["writes"][0]["body"]["ticket"]["updated_stamp"]
    assert stamp == audits[landed - 1]["created_at"]
