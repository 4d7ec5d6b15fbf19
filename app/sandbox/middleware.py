"""What happens to every request before a handler sees it, in this order:

1. due jobs run (`state.jobs.tick()`);
2. `/_sandbox/*` control requests go straight through;
3. the request is logged (method, path as received, then the answer's status);
4. an injected fault may delay, hold or answer it;
5. Zendesk paths are counted for the rate limits (headers on every answer;
   429 + Retry-After beyond a limit) and `/api/v2` needs credentials (401),
   admin-only endpoints an admin (403, see `auth.py`);
6. `.json` is stripped from `/api/v2` paths, so each route serves both forms.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.auth import FORBIDDEN, UNAUTHORIZED, admin_only, authenticated
from app.sandbox.context import Json
from app.sandbox.faults import answer
from app.sandbox.limits import (
    is_ticket_update,
    per_ticket_headers,
    request_headers,
    single_ticket_write,
    too_many,
    update_headers,
)
from app.sandbox.state import SandboxState

CONTROL_PREFIX = "/_sandbox"
API_PREFIX = "/api/v2"


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.state.jobs.tick()
        raw_path: str = scope["path"]
        if raw_path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        path = raw_path.removesuffix(".json") if raw_path.startswith(API_PREFIX) else raw_path
        entry = self.state.requests.open(scope["method"], raw_path)
        status = 500  # unless an answer starts: an exception becomes a 500 further out

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._handle({**scope, "path": path}, receive, recording_send, raw_path)
        finally:
            self.state.requests.close(entry, status)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, raw_path: str) -> None:
        state, method, path = self.state, scope["method"], scope["path"]
        rule = state.faults.fire(method, raw_path, path)
        if rule is not None:
            if rule.delay_ms:
                await asyncio.sleep(rule.delay_ms / 1000)
            if rule.timeout:
                await state.faults.hold(rule.hold_seconds)
            fault = answer(rule)
            if fault is not None:
                await _respond(scope, receive, send, fault.status, fault.body, fault.headers)
                return
        headers: dict[str, str] = {}
        if path.startswith((API_PREFIX, "/oauth/")):
            verdict = state.limits.hit_request()
            headers.update(request_headers(verdict))
            if not verdict.allowed:
                status, body, extra = too_many(verdict, "API requests")
                await _respond(scope, receive, send, status, body, headers | extra)
                return
        if path.startswith(API_PREFIX) and state.require_auth:
            if not authenticated(Headers(scope=scope).get("authorization")):
                await _respond(scope, receive, send, 401, UNAUTHORIZED, headers)
                return
        if state.service_user_role != "admin" and admin_only(method, path):
            await _respond(scope, receive, send, 403, FORBIDDEN, headers)
            return
        if is_ticket_update(method, path):
            verdict = state.limits.hit_update()
            headers.update(update_headers(verdict))
            if not verdict.allowed:
                status, body, extra = too_many(verdict, "ticket updates")
                await _respond(scope, receive, send, status, body, headers | extra)
                return
        if (ticket_id := single_ticket_write(method, path)) is not None:
            verdict = state.limits.hit_ticket(ticket_id)
            headers.update(per_ticket_headers(verdict))
            if not verdict.allowed:
                status, body, extra = too_many(verdict, "updates of this ticket", "10 minutes")
                await _respond(scope, receive, send, status, body, headers | extra)
                return
        await self.app(scope, receive, _adding_headers(send, headers))


async def _respond(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    body: Json,
    headers: dict[str, str],
) -> None:
    await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


def _adding_headers(send: Send, headers: dict[str, str]) -> Send:
    if not headers:
        return send
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped
