"""A backlog drains in bulk: one show_many read and one update_many job per batch,
instead of one GET and one PUT per ticket (Zendesk's update limit is account-wide)."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.api.app import create_app
from app.core.serving import ThreadedServer
from tests.e2e.conftest import (
    admin_client,
    create_case,
    e2e_settings,
    event_status,
    queue_backlog,
    wait_for,
)
from tests.e2e.test_webhook_to_zendesk import hourly_case


def test_backlog_drains_with_update_many(
    sandbox: ThreadedServer, zd: httpx.Client, tmp_path: Path
) -> None:
    tickets = [create_case(zd, hourly_case()) for _ in range(30)]
    settings = e2e_settings(sandbox.url, tmp_path / "triage.db", worker_concurrency=2)
    ids = queue_backlog(settings, tickets)
    zd.delete("/_sandbox/requests")
    with (
        ThreadedServer(create_app(settings)) as worker,
        admin_client(worker.url) as api,
    ):
        wait_for(
            lambda: all(event_status(api, i) == "done" for i in ids),
            timeout=60,
            what="backlog drained",
        )
    requests = zd.get("/_sandbox/requests").json()
    bulk = [r for r in requests if r["method"] == "PUT" and "update_many" in r["path"]]
    single_puts = [r for r in requests if r["method"] == "PUT" and "update_many" not in r["path"]]
    assert bulk, (
        f"the backlog went through update_many: {[(r['method'], r['path']) for r in requests][:20]}"
    )
    assert single_puts == []
    groups = {g["id"]: g["name"] for g in zd.get("/api/v2/groups").json()["groups"]}
    for ticket in tickets:
        after = zd.get(f"/api/v2/tickets/{ticket['id']}").json()["ticket"]
        assert groups[after["group_id"]] == "Mediation_Tier_1_CX420"
