"""Outside failures reach a CLI user as one line naming the host and the cause, exit 1;
`-v` adds the traceback. Real unreachable hosts: a closed loopback port, a name under the
reserved `.invalid` top-level domain (RFC 6761: never resolves)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.cli.errors import one_line
from app.core.serving import ThreadedServer
from app.marketplace.client import MarketplaceClient
from app.sandbox import create_sandbox_app
from app.zendesk import ApiTokenAuth, RetrySettings, ZendeskClient

ROOT = Path(__file__).resolve().parents[3]
CLEARED = ("ZENDESK_", "WEBHOOK_SECRETS", "ADMIN_TOKENS", "MARKETPLACE_URL", "DATABASE_URL")
NOWHERE = "https://zendesk.invalid"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: every connect is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ThreadedServer]:
    with ThreadedServer(create_sandbox_app()) as server:
        yield server


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def zendesk_failure(url: str, token: str = "x") -> BaseException:
    async def call() -> BaseException:
        auth = ApiTokenAuth("triage@example.com", token)
        async with ZendeskClient(url, auth, retry=RetrySettings(max_attempts=1)) as client:
            try:
                await client.get_me()
            except Exception as exc:
                return exc
        raise AssertionError("the call succeeded")

    return asyncio.run(call())


def marketplace_failure(url: str) -> BaseException:
    async def call() -> BaseException:
        async with httpx.AsyncClient(base_url=url, timeout=5) as http:
            try:
                await MarketplaceClient(http).get_contract("C-1")
            except Exception as exc:
                return exc
        raise AssertionError("the call succeeded")

    return asyncio.run(call())


def test_zendesk_on_a_closed_port_is_connection_refused(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    assert one_line(zendesk_failure(url)) == f"cannot reach {url}: connection refused"


def test_zendesk_under_an_unresolvable_name_is_name_not_resolved() -> None:
    assert one_line(zendesk_failure(NOWHERE)) == f"cannot reach {NOWHERE}: name not resolved"


def test_a_wrong_zendesk_token_names_the_refusal(
    sandbox: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_BASE_URL", sandbox.url)
    monkeypatch.setenv("ZENDESK_EMAIL", "triage@example.com")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "x")
    line = one_line(zendesk_failure(sandbox.url, token=""))  # the sandbox refuses only empty
    assert line is not None
    assert line.startswith(f"{sandbox.url} refused the credentials: 401 Unauthorized")


def test_the_directory_on_a_closed_port_is_named_with_its_cause(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/marketplace"
    line = one_line(marketplace_failure(url))
    assert line == f"cannot reach the marketplace directory {url}: connection refused"


def test_a_wrong_directory_path_is_an_error_not_an_unknown_contract(
    sandbox: ThreadedServer,
) -> None:
    url = f"{sandbox.url}/not-the-directory"
    line = one_line(marketplace_failure(url))
    assert line is not None and line.startswith(f"the marketplace directory {url} failed")
    assert "is MARKETPLACE_URL right?" in line


def test_check_config_against_a_closed_port_prints_one_line(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    done = run_cli("check-config", ZENDESK_BASE_URL=url, ZENDESK_EMAIL="a@b", ZENDESK_API_TOKEN="t")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: cannot reach {url}: connection refused\n"


def test_verbose_adds_the_traceback_and_the_retries() -> None:
    done = run_cli(
        "-v",
        "install-zendesk",
        "--service-url",
        "https://triage.example.com",
        ZENDESK_BASE_URL=NOWHERE,
        ZENDESK_EMAIL="a@b",
        ZENDESK_API_TOKEN="t",
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "retry 1" in done.stderr
    assert done.stderr.splitlines()[-1] == f"error: cannot reach {NOWHERE}: name not resolved"


def test_settings_errors_list_every_missing_variable_at_once() -> None:
    done = run_cli("serve", WORKER_CONCURRENCY="0")
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    for variable in (
        "WORKER_CONCURRENCY",
        "ZENDESK_SUBDOMAIN",
        "ZENDESK_API_TOKEN",
        "WEBHOOK_SECRETS",
        "MARKETPLACE_URL",
    ):
        assert variable in line, line
