"""Bulk writes that are safe whatever Zendesk does with `safe_update` in `update_many`
items, tag-only macros without an `apply` read, and echoes without a Zendesk call.

The sandbox runs in-process here (its state is at hand) so that an agent can edit a
ticket exactly between the service's `show_many` snapshot and its `update_many` job:
the job is held queued (`jobs_paused`) until the edit is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.app import create_app
from app.core.serving import ThreadedServer
from app.sandbox import SandboxState, create_sandbox_app
from app.sandbox.model import parse_changes
from app.sandbox.seed import MACROS
from app.worker.plan import MARKER_PREFIX
from tests.e2e.conftest import (
    ZD_AUTH,
    admin_client,
    create_case,
    e2e_settings,
    queue_backlog,
    send,
    wait_for,
)
from tests.e2e.test_webhook_to_zendesk import hourly_case

BACKLOG = 30
AGENT_TAG = "vip_watch"


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(require_auth=False)


@pytest.fixture
def sandbox_server(state: SandboxState) -> Iterator[ThreadedServer]:
    with ThreadedServer(create_sandbox_app(state)) as server:
        state.base_url = server.url
        yield server


@pytest.fixture
def zd(sandbox_server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_server.url, auth=ZD_AUTH, timeout=10) as client:
        yield client


def _all_done(api: httpx.Client, ids: list[int]) -> bool:
    events = api.get("/admin/events", params={"limit": 500}).json()["events"]
    status = {int(e["id"]): e["status"] for e in events}
    return all(status.get(i) == "done" for i in ids)


def _zendesk(requests: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in requests if r["path"].startswith("/api/v2/")]


def _decisions(api: httpx.Client, ticket_id: int) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = api.get(f"/admin/tickets/{ticket_id}/decisions").json()[
        "decisions"
    ]
    return answer


def _agent(state: SandboxState) -> int:
    user = state.directory.create_user(
        {"name": "Agent Smith", "email": "agent.smith@example.com", "role": "agent"}
    )
    return int(user["id"])


def test_agent_edit_between_snapshot_and_job_survives(
    state: SandboxState, sandbox_server: ThreadedServer, zd: httpx.Client, tmp_path: Path
) -> None:
    state.bulk_safe_update = "ignore"  # as Zendesk may: the item overwrites whatever changed
    agent = _agent(state)
    tickets = [create_case(zd, hourly_case()) for _ in range(BACKLOG)]
    edited = int(tickets[7]["id"])
    ids = queue_backlog(e2e_settings(sandbox_server.url, tmp_path / "triage.db"), tickets)
    state.jobs_paused = True
    settings = e2e_settings(sandbox_server.url, tmp_path / "triage.db")
    with (
        ThreadedServer(create_app(settings)) as worker,
        admin_client(worker.url) as api,
    ):
        wait_for(
            lambda: any("update_many" in r["path"] for r in state.request_log()),
            timeout=60,
            what="the update_many job queued",
        )
        # The agent's edit, after the service's snapshot and before its job runs.
        edit = {"additional_tags": [AGENT_TAG], "priority": "urgent", "assignee_id": agent}
        state.tickets.update(edited, parse_changes(edit, tag_deltas=True), author_id=agent)
        state.jobs_paused = False
        wait_for(lambda: _all_done(api, ids), timeout=90, what="backlog drained")
        history = _decisions(api, edited)
        others = [_decisions(api, int(t["id"])) for t in tickets if int(t["id"]) != edited]
    after = state.ticket(edited)
    assert AGENT_TAG in after["tags"], after["tags"]
    assert after["priority"] == "urgent"
    assert after["assignee_id"] == agent
    assert any(t.startswith(MARKER_PREFIX) for t in after["tags"])
    # The job applied the item over the agent's edit (safe_update ignored) ...
    bulk = [d for d in history if d["writes"] and d["writes"][0]["path"].endswith("update_many")]
    assert len(bulk) == 1 and bulk[0]["writes"][0]["verified"] is False
    # ... and the read-back saw someone else's change: decided again on the one-ticket path.
    log = _zendesk(state.request_log())
    assert ("GET", f"/api/v2/tickets/{edited}") in log
    assert len(history) == 2
    # The other tickets were verified clean and not read again one by one.
    assert all(len(h) == 1 and h[0]["writes"][0]["verified"] is True for h in others)
    singles = {p for m, p in log if m == "GET" and p.rsplit("/", 1)[-1].isdigit()}
    assert singles == {f"/api/v2/tickets/{edited}"}


def test_clean_backlog_costs_no_read_per_ticket(
    state: SandboxState, sandbox_server: ThreadedServer, zd: httpx.Client, tmp_path: Path
) -> None:
    """Tag-only macros come from the catalog's definitions (no `apply`), and the batch
    is read back once; then the echoes of the service's own updates cost nothing."""
    tickets = [create_case(zd, hourly_case()) for _ in range(BACKLOG)]
    ids = queue_backlog(e2e_settings(sandbox_server.url, tmp_path / "triage.db"), tickets)
    settings = e2e_settings(sandbox_server.url, tmp_path / "triage.db")
    with (
        ThreadedServer(create_app(settings)) as worker,
        admin_client(worker.url) as api,
    ):
        wait_for(lambda: _all_done(api, ids), timeout=90, what="backlog drained")
        log = _zendesk(state.request_log())
        state.requests.clear()
        echoes = []
        for ticket in tickets:
            now = state.tickets.get(int(ticket["id"]))
            payload = {
                "ticket_id": str(now["id"]),
                "updated_at": now["updated_at"],
                "tags": " ".join(now["tags"]),
            }
            echoes.append(int(send(api, payload).json()["event_id"]))
        wait_for(lambda: _all_done(api, echoes), timeout=60, what="echoes processed")
        echo_calls = _zendesk(state.request_log())
    assert not [p for _, p in log if "/macros/" in p], "no macro apply read"
    assert not [p for _, p in log if p.endswith("/comments")], "comment_count says: one"
    assert not [p for m, p in log if m == "GET" and p.rsplit("/", 1)[-1].isdigit()]
    assert [p for m, p in log if m == "PUT"] == ["/api/v2/tickets/update_many"]
    assert len([p for _, p in log if p == "/api/v2/tickets/show_many"]) == 2  # read, read back
    macro_tags = [set(tags.split()) for _, tags in MACROS]
    for ticket in tickets:
        tags = set(state.tickets.get(int(ticket["id"]))["tags"])
        assert any(wanted <= tags for wanted in macro_tags), "the tag-only macro's tags"
    assert echo_calls == [], echo_calls


def test_batch_that_ignores_tag_deltas_is_caught_and_redone(
    state: SandboxState, sandbox_server: ThreadedServer, zd: httpx.Client, tmp_path: Path
) -> None:
    """An older version of Zendesk's docs said `additional_tags` does not work in batch
    items: then the marker is missing on read-back and the one-ticket path writes it."""
    state.batch_tag_deltas = False
    tickets = [create_case(zd, hourly_case()) for _ in range(12)]
    ids = queue_backlog(e2e_settings(sandbox_server.url, tmp_path / "triage.db"), tickets)
    settings = e2e_settings(sandbox_server.url, tmp_path / "triage.db")
    with (
        ThreadedServer(create_app(settings)) as worker,
        admin_client(worker.url) as api,
    ):
        wait_for(lambda: _all_done(api, ids), timeout=90, what="backlog drained")
    singles = [p for m, p in _zendesk(state.request_log()) if m == "PUT" and "many" not in p]
    assert len(singles) == len(tickets)  # each marker written by a safe one-ticket PUT
    for ticket in tickets:
        after = state.tickets.get(int(ticket["id"]))
        assert any(t.startswith(MARKER_PREFIX) for t in after["tags"])
        assert len(state.tickets.comments(int(ticket["id"]))) == 2  # the request, one note


def test_echo_of_a_single_update_costs_no_zendesk_call(
    state: SandboxState, sandbox_server: ThreadedServer, zd: httpx.Client, tmp_path: Path
) -> None:
    ticket = create_case(zd, hourly_case())
    settings = e2e_settings(sandbox_server.url, tmp_path / "triage.db")
    with (
        ThreadedServer(create_app(settings)) as service,
        admin_client(service.url) as api,
    ):
        payload = {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}
        first = int(send(api, payload).json()["event_id"])
        wait_for(lambda: _all_done(api, [first]), what="the webhook processed")
        assert ("PUT", f"/api/v2/tickets/{ticket['id']}") in _zendesk(state.request_log())
        now = state.tickets.get(int(ticket["id"]))
        state.requests.clear()
        echo = {
            "ticket_id": str(now["id"]),
            "updated_at": now["updated_at"],
            "tags": " ".join(now["tags"]),
        }
        second = int(send(api, echo).json()["event_id"])
        wait_for(lambda: _all_done(api, [second]), what="the echo processed")
        assert _zendesk(state.request_log()) == []
        # Without the tags the payload does not show the marker: the ticket is read.
        third = int(send(api, {"ticket_id": str(now["id"])}).json()["event_id"])
        wait_for(lambda: _all_done(api, [third]), what="the bare webhook processed")
    assert ("GET", f"/api/v2/tickets/{ticket['id']}") in _zendesk(state.request_log())
