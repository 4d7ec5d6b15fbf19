"""/readyz is 503 until every dependency of a decision answers, and names the failing
ones; a directory that answers wrongly turns an event into a dead letter with the reason,
never a silent `needs_info`."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from app.cli.demo_cases import hourly_case
from app.core.serving import ThreadedServer
from tests.e2e.conftest import ADMIN, create_case, event_status, send, ticket_writes, wait_for

TODAY = datetime.now(UTC).date()


def readyz(service: ThreadedServer) -> httpx.Response:
    return httpx.get(f"{service.url}/readyz", timeout=30)


def test_ready_when_every_check_passes(service: ThreadedServer) -> None:
    answer = readyz(service)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ready"] is True and body["failing"] == []
    assert body["checks"]["policy"].startswith("sha256:")
    assert {k: body["checks"][k] for k in ("database", "zendesk", "marketplace")} == {
        "database": "ok",
        "zendesk": "ok",
        "marketplace": "ok",
    }


def test_503_with_the_sandbox_stopped(sandbox: ThreadedServer, service: ThreadedServer) -> None:
    assert readyz(service).status_code == 200
    sandbox.stop()
    answer = readyz(service)
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["ready"] is False and "marketplace" in body["failing"]
    assert body["checks"]["marketplace"] == "unavailable: connection refused"


def test_503_while_zendesk_names_are_not_resolved(
    service_factory: Callable[..., ThreadedServer],
) -> None:
    with socket.socket() as closed:  # bound, not listening: connections refused
        closed.bind(("127.0.0.1", 0))
        service = service_factory(zendesk_base_url=f"http://127.0.0.1:{closed.getsockname()[1]}")
        answer = readyz(service)
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["failing"] == ["zendesk"]
    assert body["checks"]["zendesk"].startswith("names not resolved: ")


def test_a_wrong_directory_path_is_not_ready_and_dead_letters_with_the_reason(
    sandbox: ThreadedServer, zd: httpx.Client, service_factory: Callable[..., ThreadedServer]
) -> None:
    service = service_factory(marketplace_url=f"{sandbox.url}/not-the-directory", max_attempts=2)
    answer = readyz(service)
    assert answer.status_code == 503 and answer.json()["failing"] == ["marketplace"]
    assert "is MARKETPLACE_URL right?" in answer.json()["checks"]["marketplace"]

    ticket = create_case(zd, hourly_case(TODAY))
    headers = {"authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=service.url, timeout=10, headers=headers) as api:
        accepted = send(api, {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]})
        event_id = accepted.json()["event_id"]
        wait_for(lambda: event_status(api, event_id) == "dead", timeout=60, what="dead letter")
        (dead,) = api.get("/admin/dead-letters").json()["dead_letters"]
        decisions = api.get(f"/admin/tickets/{ticket['id']}/decisions").json()["decisions"]
    assert dead["last_error"].startswith("gave up after 2 attempts: MarketplaceError:")
    assert "is MARKETPLACE_URL right?" in dead["last_error"]
    assert decisions == []  # no needs_info decided on a directory error
    assert ticket_writes(zd, ticket["id"]) == 0
