"""Constants and helpers shared by the install-zendesk and check-config tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import httpx
from fastapi import FastAPI

from app.core.serving import ThreadedServer
from app.sandbox import SandboxState
from app.zendesk import ApiTokenAuth, ZendeskClient

T = TypeVar("T")

EMAIL, TOKEN = "triage@example.com", "setup-token"
SERVICE_USER_ID = 361000001  # app/sandbox/seed.py: the first user, "Triage Service"
INQUIRY_FIELD_ID = 900000008  # the seeded "Inquiry Type" field
WRITES = ("POST", "PUT", "PATCH", "DELETE")
CLEARED_ENV = (
    "ZENDESK_SUBDOMAIN",
    "ZENDESK_BASE_URL",
    "ZENDESK_EMAIL",
    "ZENDESK_API_TOKEN",
    "ZENDESK_OAUTH_CLIENT_ID",
    "ZENDESK_OAUTH_CLIENT_SECRET",
    "WEBHOOK_SECRETS",
    "ADMIN_TOKENS",
    "POLICY_FILE",
    "MARKETPLACE_URL",
    "DATABASE_URL",
)


class Sandbox:
    def __init__(self, app: FastAPI, server: ThreadedServer) -> None:
        self.app = app
        self.server = server
        self.url = server.url

    @property
    def state(self) -> SandboxState:
        state: SandboxState = self.app.state.sandbox
        return state


class Run(Protocol):
    """The `run` fixture: `run(lambda client, auth: coro)` on a fresh event loop."""

    def __call__(self, make: Callable[[ZendeskClient, ApiTokenAuth], Awaitable[T]], /) -> T: ...


def writes(zd: httpx.Client) -> list[tuple[str, str]]:
    """(method, path) of every write the sandbox received since its log was cleared."""
    log: list[dict[str, Any]] = zd.get("/_sandbox/requests").json()
    return [(r["method"], r["path"]) for r in log if r["method"] in WRITES]


def clear_requests(zd: httpx.Client) -> None:
    assert zd.delete("/_sandbox/requests").status_code == 204
