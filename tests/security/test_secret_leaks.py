"""No secret or token reaches a log line, a response, or the database file.

One flow per Zendesk credential kind (API token, OAuth client), with every
logger at DEBUG (caplog, plus the production `JsonFormatter` on the root
logger): good and bad webhooks (both secrets, forged, stale, unsigned), admin
calls with right, wrong and malformed tokens, Zendesk failing (401, 403, 429,
500, 503) under the worker and under an admin replay, dead letters listed, and
the public endpoints. Then every value of `settings.secret_values()`, the
Zendesk Authorization header values built from them, and every OAuth access
token the sandbox issued are searched for in all of it.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.cli.demo import SandboxSeeder
from app.cli.demo_cases import hourly_case
from app.core.logging_setup import JsonFormatter
from app.core.settings import Settings
from app.sandbox import SandboxState
from app.webhooks.signature import SIGNATURE_HEADER
from tests.security.harness import (
    ADMIN,
    ADMIN_2,
    API_TOKEN,
    OAUTH_CLIENT_ID,
    OAUTH_SECRET,
    PREVIOUS_SECRET,
    SECRET,
    WRONG_TOKEN,
    ZD_EMAIL,
    InProcessService,
    as_json,
    signed_headers,
)

LOGGERS = ("", "app", "httpx", "httpcore", "sqlalchemy", "uvicorn", "asyncio", "alembic")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The production formatter on the root logger, at DEBUG, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


def needles(settings: Settings, state: SandboxState) -> dict[str, str]:
    """What must never be written: each secret, and the credentials derived from them."""
    found = {f"secret_values()[{i}]": v for i, v in enumerate(settings.secret_values())}
    found |= {"api token": API_TOKEN, "oauth client secret": OAUTH_SECRET}
    basic = base64.b64encode(f"{ZD_EMAIL}/token:{API_TOKEN}".encode()).decode()
    client = base64.b64encode(f"{OAUTH_CLIENT_ID}:{OAUTH_SECRET}".encode()).decode()
    found |= {"api token Basic header": basic, "oauth client Basic header": client}
    found |= {f"oauth access token {i}": t for i, t in enumerate(state.issued_tokens)}
    for name in (SECRET, PREVIOUS_SECRET, ADMIN, ADMIN_2):
        assert name in settings.secret_values(), "secret_values() lists every secret"
    return found


def fault(zd: httpx.Client, status: int, *, times: int = 50, **extra: object) -> None:
    zd.delete("/_sandbox/faults").raise_for_status()
    rule = {"path_prefix": "/api/v2/tickets", "status": status, "times": times} | extra
    zd.post("/_sandbox/faults", json={"rules": [rule]}).raise_for_status()


def exercise(service: InProcessService, zd: httpx.Client) -> None:
    """Everything a caller (or Zendesk) can make the service do, good and bad."""
    now = datetime.now(UTC)
    ticket = SandboxSeeder(zd).create(hourly_case(now.date()))["id"]

    # webhooks: good with both secrets, then every refusal
    for i, secret in enumerate((SECRET, PREVIOUS_SECRET)):
        answer = service.send_signed(
            {"ticket_id": str(ticket), "updated_at": f"leak-{i}"}, secret=secret
        )
        assert answer.status_code == 200, answer.text
        service.wait_terminal(answer.json()["event_id"])
    body = as_json({"ticket_id": str(ticket), "updated_at": "leak-bad"})
    for headers in (
        signed_headers(body, secret=WRONG_TOKEN),
        signed_headers(body, at=now - timedelta(hours=1)),
        signed_headers(body) | {SIGNATURE_HEADER: SECRET},  # the secret itself as "signature"
        {"content-type": "application/json"},
        signed_headers(body, content_type="text/plain"),
    ):
        assert service.webhook(body, headers).status_code in (401, 415)
    assert service.webhook(b"{not json", signed_headers(b"{not json")).status_code == 400
    assert service.webhook(b"[]", signed_headers(b"[]")).status_code == 422

    # admin: right tokens, wrong and malformed ones
    for token in (ADMIN, ADMIN_2):
        assert service.admin("GET", "/admin/events", token=token).status_code == 200
    for header in (f"Bearer {WRONG_TOKEN}", f"Bearer {SECRET}", f"Basic {ADMIN}", ADMIN, ""):
        answer = service.get("/admin/events", headers={"authorization": header})
        assert answer.status_code in (401, 403)
    service.admin("POST", "/admin/simulate", json={"facts": {"ticket": {"id": 1}}})
    service.admin("POST", f"/admin/tickets/{ticket}/replay")  # dry run: reads Zendesk

    # Zendesk failing, under an admin replay and under the worker
    for status, extra in (
        (401, {}),
        (403, {}),
        (429, {"retry_after": 0}),
        (500, {}),
        (503, {"retry_after": 0}),
    ):
        fault(zd, status, **extra)
        answer = service.admin("POST", f"/admin/tickets/{ticket}/replay")
        assert answer.status_code >= 400, answer.text
        sent = service.send_signed({"ticket_id": str(ticket), "updated_at": f"leak-zd-{status}"})
        if status in (401, 403):  # permanent: a dead letter with Zendesk's reason
            service.wait_terminal(sent.json()["event_id"])
    zd.delete("/_sandbox/faults").raise_for_status()
    service.admin("POST", f"/admin/tickets/{ticket}/replay", params={"dry_run": "false"})

    # everything an operator or a scraper can read back
    for path in ("/admin/events", "/admin/dead-letters", f"/admin/tickets/{ticket}/decisions"):
        assert service.admin("GET", path, params={"limit": 200}).status_code == 200
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        service.get(path)


@pytest.mark.parametrize("oauth", [False, True], ids=["api-token", "oauth-client"])
def test_no_secret_in_logs_responses_or_database(
    service_factory: Callable[..., InProcessService],
    sandbox_state: SandboxState,
    zd: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    json_log: io.StringIO,
    tmp_path: Path,
    oauth: bool,
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    service = service_factory(oauth=oauth)  # start-up logs are captured too
    settings: Settings = service.app.state.services.settings
    exercise(service, zd)
    canary = "leak-canary-" + OAUTH_CLIENT_ID  # proves a leak would be seen in every log sink
    logging.getLogger("app.worker").debug("canary %s", canary, extra={"path": canary})
    service.__exit__(None, None, None)  # shutdown logs too (the factory's second exit is a no-op)

    records = caplog.records
    assert any(r.levelno == logging.DEBUG for r in records), "DEBUG capture is on"
    assert any(r.name.startswith("app") for r in records), "the service's own logs are captured"
    haystacks = {
        "caplog messages": "\n".join(r.getMessage() for r in records),
        "caplog records": "\n".join(repr(vars(r)) for r in records),
        "caplog exceptions": "\n".join(
            logging.Formatter().formatException(r.exc_info) for r in records if r.exc_info
        ),
        "JSON log lines": json_log.getvalue(),
        "response bodies and headers": "\n".join(
            f"{r.status_code} {dict(r.headers)}\n{r.text}" for r in service.responses
        ),
        "database file": "\n".join(
            p.read_bytes().decode("latin-1") for p in tmp_path.glob("triage.db*")
        ),
    }
    assert len(service.responses) > 30
    for where in ("caplog messages", "caplog records", "JSON log lines"):
        assert canary in haystacks[where], where
    assert "webhook rejected" in haystacks["JSON log lines"]

    leaks = [
        f"{what} in {where}"
        for what, needle in needles(settings, sandbox_state).items()
        for where, text in haystacks.items()
        if needle in text
    ]
    assert not leaks, leaks
    if oauth:
        assert sandbox_state.issued_tokens, "the OAuth flow really ran"
