"""`python -m app replay --since`: a time range queued from the shell, with progress."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.core.serving import ThreadedServer
from app.store import EventStatus, Priority, open_store
from tests.e2e.conftest import ADMIN, SECRET, create_case
from tests.e2e.test_webhook_to_zendesk import hourly_case


@pytest.mark.parametrize(("role", "source"), [("agent", "search"), ("admin", "export")])
def test_replay_since_queues_every_ticket_at_replay_priority(
    sandbox: ThreadedServer, zd: httpx.Client, tmp_path: Path, role: str, source: str
) -> None:
    """An admin reads the incremental export; an agent, which Zendesk answers 403
    there, the Search API: same progress display, same events."""
    zd.post("/_sandbox/settings", json={"service_user_role": role}).raise_for_status()
    tickets = [create_case(zd, hourly_case()) for _ in range(3)]
    db = tmp_path / "triage.db"
    env = os.environ | {
        "ZENDESK_BASE_URL": sandbox.url,
        "ZENDESK_EMAIL": "triage@example.com",
        "ZENDESK_API_TOKEN": "demo-token",
        "WEBHOOK_SECRETS": SECRET,
        "ADMIN_TOKENS": ADMIN,
        "DATABASE_URL": f"sqlite:///{db}",
        "MARKETPLACE_URL": f"{sandbox.url}/marketplace",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "replay", "--since", "2020-01-01T00:00:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "queued 3" in done.stderr and f"(via {source})" in done.stderr
    paths = [entry["path"] for entry in zd.get("/_sandbox/requests").json()]
    assert any(p.startswith("/api/v2/search") for p in paths) == (source == "search")
    assert any(p.startswith("/api/v2/incremental") for p in paths) == (source == "export")

    async def queued() -> list[tuple[int | None, Priority]]:
        store = await open_store(f"sqlite:///{db}")
        try:
            events = await store.list_events(status=EventStatus.PENDING, limit=50)
            return sorted((e.ticket_id, e.priority) for e in events)
        finally:
            await store.close()

    assert asyncio.run(queued()) == sorted((t["id"], Priority.REPLAY) for t in tickets)


def test_replay_without_ticket_or_since_explains(tmp_path: Path, sandbox: ThreadedServer) -> None:
    env = os.environ | {
        "ZENDESK_BASE_URL": sandbox.url,
        "ZENDESK_EMAIL": "a@b",
        "ZENDESK_API_TOKEN": "t",
        "MARKETPLACE_URL": sandbox.url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "replay"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--since" in done.stderr
