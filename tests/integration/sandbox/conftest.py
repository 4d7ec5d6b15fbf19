"""One sandbox server per test module, reset before each test; httpx over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.sandbox import SandboxServer
from tests.integration.sandbox.sandbox_helpers import AUTH


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture
def sandbox(server: SandboxServer) -> SandboxServer:
    server.state.reset()
    return server


@pytest.fixture
def zd(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=AUTH, timeout=5) as client:
        yield client


@pytest.fixture
def admin_zd(sandbox: SandboxServer, zd: httpx.Client) -> httpx.Client:
    """`zd` with the service user made an admin (the sandbox's default is an agent)."""
    sandbox.state.service_user_role = "admin"
    return zd
