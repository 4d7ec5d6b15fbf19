"""The service under attack, driven in-process, plus signing and clock helpers.

`InProcessService` runs `create_app(settings)` with its lifespan (store, Zendesk
client, worker) on an event loop in a background thread and talks to it through
`httpx.ASGITransport`: no socket, so the tests can send what a real HTTP client
would refuse to (declared lengths that lie, arbitrary header bytes), and every
response is recorded for the secret-leak grep. Application exceptions become
500 responses (`raise_app_exceptions=False`), exactly what a caller would see.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from app.api.app import create_app
from app.cli.demo import demo_settings
from app.core.settings import Settings
from app.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

# Distinctive values, so that finding one of them in a log line or a body cannot be a coincidence.
SECRET = "whsec-current-7f3a9c1e5b"
PREVIOUS_SECRET = "whsec-previous-2d8e4a6f0c"
ADMIN = "admtok-primary-91c4e7a2f8"
ADMIN_2 = "admtok-second-5b0d3f6e1a"
API_TOKEN = "zdtok-api-4e2a8c6b0d"
OAUTH_CLIENT_ID = "triage-oauth-client"
OAUTH_SECRET = "zdoauth-secret-8f1b3d5a7c"
ZD_EMAIL = "triage@example.com"
WRONG_TOKEN = "admtok-wrong-000000000000"


def security_settings(
    sandbox_url: str, database_url: str, *, oauth: bool = False, **overrides: Any
) -> Settings:
    """Demo settings with two webhook secrets (rotation), two admin tokens and
    either an API token or an OAuth client as the Zendesk credential."""
    values: dict[str, Any] = {
        "webhook_secrets": [SECRET, PREVIOUS_SECRET],
        "admin_tokens": [ADMIN, ADMIN_2],
        "zendesk_api_token": API_TOKEN,
        "poll_interval_seconds": 0.05,
    }
    if oauth:
        values |= {
            "zendesk_api_token": None,
            "zendesk_oauth_client_id": OAUTH_CLIENT_ID,
            "zendesk_oauth_client_secret": OAUTH_SECRET,
        }
    return demo_settings(sandbox_url, database_url, **(values | overrides))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def independent_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Zendesk's scheme computed here, not with app code: base64(HMAC-SHA256(ts + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(
    body: bytes,
    *,
    secret: str = SECRET,
    at: datetime | None = None,
    content_type: str | None = "application/json",
    **extra: str,
) -> dict[str, str]:
    timestamp = stamp(at or datetime.now(UTC))
    headers = {
        SIGNATURE_HEADER: independent_signature(secret, timestamp, body),
        TIMESTAMP_HEADER: timestamp,
    }
    if content_type is not None:
        headers["content-type"] = content_type
    return headers | extra


def as_json(payload: object) -> bytes:
    """JSON as Zendesk would send it: ASCII-escaped, so surrogates travel as `\\uXXXX`."""
    return json.dumps(payload).encode()


@dataclass
class FakeClock:
    """The service's clock, moved by the test (`create_app(settings, clock=...)`)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class InProcessService:
    """`with InProcessService(app) as svc: svc.post(...)`; lifespan on while inside."""

    base_url = "http://service.test"

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.responses: list[httpx.Response] = []
        self._stack = contextlib.ExitStack()
        self._portal: BlockingPortal | None = None
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        run_worker: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> InProcessService:
        kwargs: dict[str, Any] = {"run_worker": run_worker}
        if clock is not None:
            kwargs["clock"] = clock
        return cls(create_app(settings, **kwargs))

    def __enter__(self) -> InProcessService:
        try:
            self._portal = self._stack.enter_context(start_blocking_portal(backend="asyncio"))
            lifespan = self.app.router.lifespan_context(self.app)
            self._stack.enter_context(self._portal.wrap_async_context_manager(lifespan))
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            self._client = httpx.AsyncClient(
                transport=transport, base_url=self.base_url, timeout=30
            )
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._client is not None and self._portal is not None:
                self._portal.call(self._client.aclose)
        finally:
            self._client = None
            self._stack.close()
            self._portal = None

    @property
    def portal(self) -> BlockingPortal:
        if self._portal is None:
            raise RuntimeError("service not started")
        return self._portal

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._client is None:
            raise RuntimeError("service not started")
        call = functools.partial(self._client.request, method, url, **kwargs)
        response = self.portal.call(call)
        self.responses.append(response)
        return response

    def raw(
        self,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        chunks: Iterable[bytes] = (),
    ) -> httpx.Response:
        """One ASGI request with exactly these header bytes and body chunks (no client
        normalisation); the chunks are pulled lazily, only as the app asks for them."""
        response = self.portal.call(self._raw, method, path, headers, iter(chunks))
        self.responses.append(response)
        return response

    async def _raw(
        self,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        chunks: Iterator[bytes],
    ) -> httpx.Response:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in headers],
            "client": ("127.0.0.1", 50000),
            "server": ("service.test", 80),
            "state": {},
        }
        status: int | None = None
        response_headers: list[tuple[bytes, bytes]] = []
        body = bytearray()
        done = asyncio.Event()
        exhausted = False

        async def receive() -> dict[str, Any]:
            nonlocal exhausted
            if exhausted:
                await done.wait()
                return {"type": "http.disconnect"}
            chunk = next(chunks, None)
            if chunk is None:
                exhausted = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status, response_headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    done.set()

        try:
            await self.app(scope, receive, send)
        except Exception:  # ServerErrorMiddleware has answered 500 already, or nothing did
            status = status or 500
        done.set()
        return httpx.Response(status or 500, headers=response_headers, content=bytes(body))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def webhook(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.post("/webhooks/zendesk", content=body, headers=headers)

    def send_signed(self, payload: object, **kwargs: Any) -> httpx.Response:
        body = as_json(payload)
        return self.webhook(body, signed_headers(body, **kwargs))

    def admin(self, method: str, url: str, token: str = ADMIN, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} | kwargs.pop("headers", {})
        return self.request(method, url, headers=headers, **kwargs)

    def wait_terminal(self, event_id: int, timeout: float = 30.0) -> str:
        """Wait until the worker is done with an event (done, dead, ignored)."""
        return self.portal.call(self._wait_terminal, event_id, timeout)

    async def _wait_terminal(self, event_id: int, limit: float) -> str:
        services = self.app.state.services
        async with asyncio.timeout(limit):
            while True:
                events = await services.store.list_events(
                    status=None, ticket_id=None, limit=500, before_id=None
                )
                status = next((e.status.value for e in events if e.id == event_id), None)
                if status in ("done", "dead", "ignored", "discarded"):
                    return str(status)
                await asyncio.sleep(0.05)

    def worker_alive(self) -> bool:
        """The worker task is still running (a crash would have ended it)."""
        return self.portal.call(self._worker_alive)

    async def _worker_alive(self) -> bool:
        tasks = [t for t in asyncio.all_tasks() if "Worker.run" in repr(t.get_coro())]
        return bool(tasks) and not any(t.done() for t in tasks)


def xfail_if_known(
    request: pytest.FixtureRequest,
    known: Mapping[tuple[str, str | None], str],
    case: str,
    backend: str,
) -> None:
    """Mark this run strict-xfail when (case, backend) - or (case, None): any backend -
    is a known finding. Applied at run time, so a backend-parametrized module fixture
    is built once per backend rather than once per case."""
    reason = known.get((case, backend)) or known.get((case, None))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
