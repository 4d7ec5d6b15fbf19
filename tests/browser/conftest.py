"""The service and the sandbox Zendesk on loopback, and console sessions over HTTP.

The `sandbox` and `zd` fixtures are the e2e ones, imported by name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.api.app import create_app
from app.core.serving import ThreadedServer
from tests.e2e import conftest as e2e
from tests.e2e.conftest import admin_client, e2e_settings

sandbox, zd = e2e.sandbox, e2e.zd  # the e2e fixtures, registered here by name

VIEWER = "console-viewer-token"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


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
    with admin_client(service.url) as client:
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
