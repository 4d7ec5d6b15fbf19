"""Real HTTP on loopback: the sandbox Zendesk and the service, each under uvicorn."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.app import create_app
from app.cli.demo import SandboxSeeder, demo_settings, signed_post
from app.cli.demo_cases import DemoCase
from app.core.serving import ThreadedServer
from app.core.settings import Settings
from app.sandbox import create_sandbox_app

SECRET = "e2e-secret"
ADMIN = "e2e-admin"
ZD_AUTH = ("triage@example.com/token", "demo-token")


@pytest.fixture
def sandbox() -> Iterator[ThreadedServer]:
    with ThreadedServer(create_sandbox_app()) as server:
        yield server


@pytest.fixture
def zd(sandbox: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=ZD_AUTH, timeout=10) as client:
        yield client


def e2e_settings(sandbox_url: str, db: Path, **overrides: Any) -> Settings:
    overrides = {"zendesk_subdomain": "acme"} | overrides  # agent links in notes; base URL wins
    return demo_settings(sandbox_url, f"sqlite:///{db}", secret=SECRET, admin=ADMIN, **overrides)


@pytest.fixture
def service_factory(
    sandbox: ThreadedServer, tmp_path: Path
) -> Iterator[Callable[..., ThreadedServer]]:
    started: list[ThreadedServer] = []

    def start(**overrides: Any) -> ThreadedServer:
        settings = e2e_settings(sandbox.url, tmp_path / "triage.db", **overrides)
        server = ThreadedServer(create_app(settings)).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def service(service_factory: Callable[..., ThreadedServer]) -> ThreadedServer:
    return service_factory()


@pytest.fixture
def api(service: ThreadedServer) -> Iterator[httpx.Client]:
    with admin_client(service.url) as client:
        yield client


def admin_client(url: str, timeout: float = 10) -> httpx.Client:
    """A client of the service's admin API (use it in a `with`)."""
    return httpx.Client(base_url=url, timeout=timeout, headers={"authorization": f"Bearer {ADMIN}"})


def send(client: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
    return signed_post(client, "/webhooks/zendesk", payload, SECRET)


def trigger_of(ticket: dict[str, Any]) -> dict[str, Any]:
    """The README's trigger body for a ticket as it is now."""
    return {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}


def queue_backlog(settings: Settings, tickets: list[dict[str, Any]]) -> list[int]:
    """Webhooks accepted by an intake without a worker: a backlog for the next
    service on the same database. Returns the event ids, in ticket order."""
    with (
        ThreadedServer(create_app(settings, run_worker=False)) as intake,
        httpx.Client(base_url=intake.url, timeout=10) as client,
    ):
        return [int(send(client, trigger_of(t)).json()["event_id"]) for t in tickets]


def create_case(zd: httpx.Client, case: DemoCase) -> dict[str, Any]:
    return SandboxSeeder(zd).create(case)


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def event_status(api: httpx.Client, event_id: int) -> str | None:
    events = api.get("/admin/events", params={"limit": 500}).json()["events"]
    return next((e["status"] for e in events if e["id"] == event_id), None)


def ticket_writes(zd: httpx.Client, ticket_id: int) -> int:
    requests = zd.get("/_sandbox/requests").json()
    path = f"/api/v2/tickets/{ticket_id}"
    return sum(
        1 for r in requests if r["method"] == "PUT" and r["path"].removesuffix(".json") == path
    )
