"""A worker killed with SIGKILL mid-event loses nothing: the lease expires and
another process finishes the event, with exactly one write to Zendesk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from app.core.serving import ThreadedServer, free_port
from tests.e2e.conftest import (
    ADMIN,
    SECRET,
    admin_client,
    create_case,
    event_status,
    send,
    ticket_writes,
    wait_for,
)
from tests.e2e.test_webhook_to_zendesk import hourly_case


def start_service_process(sandbox: ThreadedServer, db: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "ZENDESK_BASE_URL": sandbox.url,
        "ZENDESK_EMAIL": "triage@example.com",
        "ZENDESK_API_TOKEN": "demo-token",
        "WEBHOOK_SECRETS": SECRET,
        "ADMIN_TOKENS": ADMIN,
        "DATABASE_URL": f"sqlite:///{db}",
        "MARKETPLACE_URL": f"{sandbox.url}/marketplace",
        "LEASE_SECONDS": "2",
        "POLL_INTERVAL_SECONDS": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_worker_killed_mid_event_is_recovered(
    sandbox: ThreadedServer,
    zd: httpx.Client,
    service_factory: Callable[..., ThreadedServer],
    tmp_path: Path,
) -> None:
    ticket = create_case(zd, hourly_case())
    tid = ticket["id"]
    # The worker's first read of the ticket hangs, so the kill lands mid-event.
    zd.post(
        "/_sandbox/faults",
        json={
            "rules": [
                {
                    "method": "GET",
                    "path_prefix": f"/api/v2/tickets/{tid}",
                    "delay_ms": 4000,
                    "times": 1,
                }
            ]
        },
    ).raise_for_status()
    zd.delete("/_sandbox/requests")
    port = free_port()
    proc = start_service_process(sandbox, tmp_path / "triage.db", port)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=5,
            headers={"authorization": f"Bearer {ADMIN}"},
        ) as first:
            wait_for(lambda: _healthy(first), timeout=30, what="service process up")
            answer = send(first, {"ticket_id": str(tid), "updated_at": ticket["updated_at"]})
            assert answer.status_code == 200
            event_id = answer.json()["event_id"]
            wait_for(lambda: event_status(first, event_id) == "leased", what="worker mid-event")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert ticket_writes(zd, tid) == 0
    survivor = service_factory(lease_seconds=2.0, poll_interval_seconds=0.1)
    with admin_client(survivor.url) as api:
        wait_for(lambda: event_status(api, event_id) == "done", timeout=30, what="recovered")
    assert ticket_writes(zd, tid) == 1


def _healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False
