"""`POST /webhooks/zendesk`: authenticate, parse, store, answer. Nothing else.

The event is committed to the store before the 200; a store that cannot write
answers 503 so Zendesk retries, because nothing may be acknowledged unstored.

This is the service's hot path (bench/ack.py). It is served by a plain
Starlette route, first in the app: FastAPI's per-request machinery (dependency
solving, exit stacks, route layers) was a third of the webhook's cost and the
handler needs none of it. FastAPI still documents it in the OpenAPI schema,
from an `APIRoute` built for the schema only (`document`). The per-webhook
"accepted" line is DEBUG, an access log; every processed event gets its INFO
line from the worker, rejections are WARNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import Route

from app.runtime.container import Services
from app.runtime.deps import services_of
from app.store import NewEvent, StoreUnavailable
from app.webhooks import envelope, signature

log = logging.getLogger("app.webhooks")
WEBHOOK_PATH = "/webhooks/zendesk"
WEBHOOK_NAME = "receive_zendesk_webhook"


class BodyTooLarge(Exception):
    pass


class TooManyUnfinished(Exception):
    pass


class UnfinishedBodies:
    """Webhook requests per client address whose body is still arriving.

    A slow client (headers sent, body trickling or never finished) holds a
    connection and a task; past the cap, its next request is refused at once,
    and `WEBHOOK_BODY_TIMEOUT_SECONDS` ends each one. Zendesk sends a body at
    once, so its requests leave this count within milliseconds."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    @contextlib.contextmanager
    def reading(self, client: str, cap: int) -> Iterator[None]:
        count = self._open.get(client, 0)
        if cap and count >= cap:
            raise TooManyUnfinished
        self._open[client] = count + 1
        try:
            yield
        finally:
            left = self._open[client] - 1
            if left:
                self._open[client] = left
            else:
                del self._open[client]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_bounded(request: Request, limit: int, seconds: float, cap: int) -> bytes:
    """The body within `limit` bytes and `seconds`, at most `cap` at a time per
    client address (TimeoutError, BodyTooLarge, TooManyUnfinished otherwise)."""
    unfinished: UnfinishedBodies = request.app.state.webhook_unfinished_bodies
    client = request.client.host if request.client else ""
    with unfinished.reading(client, cap):
        async with asyncio.timeout(seconds):
            return await _read_body(request, limit)


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Stored (or a duplicate of a stored event)",
        "content": {
            "application/json": {
                "example": {
                    "status": "accepted",
                    "event_id": 42,
                    "ticket_id": 5100001,
                    "processed": True,
                }
            }
        },
    },
    400: {"description": "Body is not JSON"},
    408: {"description": "Body not received within WEBHOOK_BODY_TIMEOUT_SECONDS"},
    429: {
        "description": "WEBHOOK_MAX_UNFINISHED_BODIES_PER_CLIENT bodies from this address "
        "are still arriving; retry",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
    401: {"description": "Signature check failed; `error` names the check"},
    413: {"description": "Body larger than WEBHOOK_MAX_BODY_BYTES"},
    415: {"description": "Content type is not application/json"},
    422: {"description": "JSON without a ticket id or event id"},
    503: {"description": "Store unavailable; Zendesk will retry"},
}


async def _body_or_refusal(request: Request, services: Services) -> bytes | JSONResponse:
    """The body, or the answer refusing it (413, 429, 408)."""
    settings = services.settings
    limit = settings.webhook_max_body_bytes
    seconds = settings.webhook_body_timeout_seconds
    try:
        return await _read_bounded(
            request, limit, seconds, settings.webhook_max_unfinished_bodies_per_client
        )
    except BodyTooLarge:
        services.metrics.webhook_rejected("too_large")
        return _error(413, "too_large", f"body exceeds {limit} bytes")
    except TooManyUnfinished:
        services.metrics.webhook_rejected("too_many_unfinished")
        message = "too many requests from this address are still sending their body"
        return _error(429, "too_many_unfinished", message, **{"Retry-After": "5"})
    except TimeoutError:
        services.metrics.webhook_rejected("body_timeout")
        message = f"body not received within {seconds:g} s"
        return _error(408, "body_timeout", message, Connection="close")


async def receive_zendesk_webhook(request: Request) -> JSONResponse:
    services, headers = services_of(request), request.headers
    settings = services.settings
    if isinstance(body := await _body_or_refusal(request, services), JSONResponse):
        return body
    try:
        signature.verify(
            headers,
            body,
            [s.get_secret_value() for s in settings.webhook_secrets],
            now=services.clock(),
            tolerance_seconds=settings.webhook_tolerance_seconds,
        )
    except signature.SignatureError as exc:
        services.metrics.webhook_rejected(exc.check)
        log.warning("webhook rejected: %s", exc.check, extra={"check": exc.check})
        return _error(401, exc.check, exc.message)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        services.metrics.webhook_rejected("content_type")
        return _error(415, "unsupported_media_type", "content type must be application/json")
    try:
        inbound = envelope.parse(body, headers)
    except envelope.PayloadError as exc:
        services.metrics.webhook_rejected("invalid_payload")
        return _error(exc.status, "invalid_payload", exc.message)
    try:
        result = await services.store.accept(
            NewEvent(
                dedupe_key=inbound.dedupe_key,
                source=inbound.source,
                event_type=inbound.event_type,
                ticket_id=inbound.ticket_id,
                payload=inbound.payload,
                received_at=services.clock(),
                processable=inbound.processable,
            )
        )
    except StoreUnavailable as exc:
        services.metrics.webhook_rejected("store_unavailable")
        log.error("webhook not stored, answering 503 so Zendesk retries: %s", exc)
        return _error(
            503, "store_unavailable", "event could not be stored; retry", **{"Retry-After": "5"}
        )
    services.metrics.webhook_accepted(duplicate=result.duplicate)
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "webhook %s",
            "duplicate" if result.duplicate else "accepted",
            extra={"event_id": result.event_id, "ticket_id": inbound.ticket_id},
        )
    return JSONResponse(
        {
            "status": "duplicate" if result.duplicate else "accepted",
            "event_id": result.event_id,
            "ticket_id": inbound.ticket_id,
            "processed": inbound.processable,
        }
    )


def install(app: FastAPI) -> None:
    """Serve the webhook ahead of every FastAPI route, and document it."""
    app.state.webhook_unfinished_bodies = UnfinishedBodies()
    app.router.routes.insert(
        0, Route(WEBHOOK_PATH, receive_zendesk_webhook, methods=["POST"], name=WEBHOOK_NAME)
    )
    document(app)


def document(app: FastAPI) -> None:
    """Add the webhook's operation to the app's OpenAPI schema, generated by
    FastAPI from the same endpoint and responses as if it were an APIRoute."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            route = APIRoute(
                WEBHOOK_PATH,
                receive_zendesk_webhook,
                methods=["POST"],
                name=WEBHOOK_NAME,
                tags=["webhooks"],
                responses=RESPONSES,
            )
            webhook = get_openapi(title=app.title, version=app.version, routes=[route])
            schema["paths"] = {**webhook["paths"], **schema.get("paths", {})}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
