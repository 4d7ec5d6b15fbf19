"""The sandbox Zendesk over real HTTP (one server per module, reset per test), the
async client the installer uses, and a clean environment for the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import httpx
import pytest

from app.core.serving import ThreadedServer
from app.sandbox import create_sandbox_app
from app.zendesk import ApiTokenAuth, ZendeskClient
from tests.integration.setup.install_helpers import CLEARED_ENV, EMAIL, TOKEN, Run, Sandbox

T = TypeVar("T")


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    app = create_sandbox_app()
    with ThreadedServer(app) as server:
        yield Sandbox(app, server)


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """Reset, with the credentials of an admin: creating webhooks and triggers needs one."""
    sandbox_server.state.reset()
    sandbox_server.state.service_user_role = "admin"
    return sandbox_server


@pytest.fixture
def zd(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """Plain HTTP to the sandbox, for arranging and asserting."""
    with httpx.Client(base_url=sandbox.url, auth=(f"{EMAIL}/token", TOKEN), timeout=10) as c:
        yield c


@pytest.fixture
def run(sandbox: Sandbox) -> Run:
    """`run(lambda client, auth: coro)`: one ZendeskClient per call, on a fresh event loop."""

    def runner(make: Callable[[ZendeskClient, ApiTokenAuth], Awaitable[T]]) -> T:
        async def go() -> T:
            auth = ApiTokenAuth(EMAIL, TOKEN)
            async with ZendeskClient(sandbox.url, auth) as client:
                return await make(client, auth)

        return asyncio.run(go())

    return runner


@pytest.fixture
def cli_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a CLI run against the sandbox, nothing inherited."""
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    return {"ZENDESK_BASE_URL": sandbox.url, "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN}
