"""The service and the sandbox Zendesk on loopback, and console sessions over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.api.app import create_app
from app.core.serving import ThreadedServer
from app.sandbox import create_sandbox_app
from tests.e2e.conftest import ADMIN, ZD_AUTH, e2e_settings

VIEWER = "console-viewer-token"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def sandbox() -> Iterator[ThreadedServer]:
    with ThreadedServer(create_sandbox_app()) as server:
        yield server


@pytest.fixture
def zd(sandbox: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=ZD_AUTH, timeout=10) as client:
        yield client


@pytest.fixture
def service(sandbox: ThreadedServer, tmp_path: Path) -> Iterator[ThreadedServer]:
    settings = e2e_settings(
        sandbox.url, tmp_path / "triage.db", console_viewer_tokens=VIEWER, max_attempts=1
    )
    server = ThreadedServer(create_app(settings)).start()
    yield server
    server.stop()


@pytest.fixture
def api(service: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=service.url, timeout=10, headers={"authorization": f"Bearer {ADMIN}"}
    ) as client:
        yield client


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has a CSRF field"
    return found.group(1)


@contextmanager
def login(base_url: str, token: str) -> Iterator[httpx.Client]:
    """A client holding a console session for `token` (as a browser would get it)."""
    with httpx.Client(base_url=base_url, timeout=15, headers={"accept": "text/html"}) as client:
        form = client.get("/console/login")
        answer = client.post(
            "/console/login", data={"token": token, "csrf": csrf_of(form.text), "next": ""}
        )
        assert answer.status_code == 303, answer.text
        assert "console_session" in client.cookies
        yield client
