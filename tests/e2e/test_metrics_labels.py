"""`/metrics` stays bounded: after a batch drain (update_many jobs) and a merge (a
merge job), no label holds a raw job id, whatever shape Zendesk gives them."""

from __future__ import annotations

import re
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
from tests.e2e.test_followup_flow import Desk
from tests.e2e.test_webhook_to_zendesk import hourly_case

_LABEL = re.compile(r'="([^"]*)"')
_ID_LIKE = re.compile(r"(^|/)(V\d+-[0-9A-Za-z]+|[0-9a-fA-F]{16,}|\d{3,})(/|$)")


def job_ids(zd: httpx.Client) -> set[str]:
    paths = [entry["path"] for entry in zd.get("/_sandbox/requests").json()]
    return {
        p.removesuffix(".json").rsplit("/", 1)[-1]
        for p in paths
        if p.startswith("/api/v2/job_statuses/") and "show_many" not in p
    }


def test_no_job_id_in_any_metric_label_after_a_batch_drain_and_a_merge(
    sandbox: ThreadedServer, zd: httpx.Client, tmp_path: Path
) -> None:
    tickets = [create_case(zd, hourly_case()) for _ in range(12)]
    settings = e2e_settings(sandbox.url, tmp_path / "triage.db", worker_concurrency=2)
    ids = queue_backlog(settings, tickets)
    with (
        ThreadedServer(create_app(settings)) as service,
        admin_client(service.url) as api,
    ):
        wait_for(
            lambda: all(event_status(api, i) == "done" for i in ids),
            timeout=60,
            what="backlog drained",
        )
        desk = Desk(zd)
        target, source = desk.create("Login problem", {}), desk.create("Login again", {})
        merged = api.post("/merges", json={"target_id": target["id"], "source_ids": [source["id"]]})
        assert merged.status_code == 200, merged.text
        metrics = api.get("/metrics").text
    polled = job_ids(zd)
    assert polled, "the drain and the merge polled jobs"
    labels = {value for line in metrics.splitlines() for value in _LABEL.findall(line)}
    assert not {label for label in labels for job in polled if job in label}
    assert not [label for label in labels if label.startswith("/") and _ID_LIKE.search(label)]
    assert "/api/v2/job_statuses/{id}" in labels
