"""The service in-process (FastAPI TestClient, lifespan on) against a real sandbox Zendesk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.api.app import create_app
from app.core.settings import Settings
from app.sandbox import SandboxServer
from tests.integration.admin.admin_helpers import ADMIN, ZD_AUTH, TestClient, admin_settings


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """Reset; the service user is an admin here, so time ranges use the incremental
    export (the agent's Search API fallback has its own tests)."""
    sandbox_server.state.reset()
    sandbox_server.state.service_user_role = "admin"
    return sandbox_server


@pytest.fixture
def zd(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=ZD_AUTH, timeout=10) as client:
        yield client


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    built: Settings = admin_settings(sandbox.url, tmp_path / "triage.db")
    return built


@pytest.fixture
def client_factory(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Started TestClients with the admin token (worker off unless asked: queued events
    stay visible); each is stopped at the end unless the test stopped it."""
    started: list[TestClient] = []

    def start(*, run_worker: bool = False) -> TestClient:
        client = TestClient(create_app(settings, run_worker=run_worker))
        client.__enter__()
        client.headers["authorization"] = f"Bearer {ADMIN}"
        started.append(client)
        return client

    yield start
    for client in reversed(started):
        if client.portal is not None:  # still running
            client.__exit__(None, None, None)


@pytest.fixture
def client(client_factory: Callable[..., TestClient]) -> TestClient:
    return client_factory()
