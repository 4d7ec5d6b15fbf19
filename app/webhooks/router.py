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

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import Route

from app.runtime.deps import services_of
from app.store import NewEvent, StoreUnavailable
from app.webhooks import envelope, signature

log = logging.getLogger("app.webhooks")
WEBHOOK_PATH = "/webhooks/zendesk"
WEBHOOK_NAME = "receive_zendesk_webhook"


class BodyTooLarge(Exception):
    pass


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
    401: {"description": "Signature check failed; `error` names the check"},
    413: {"description": "Body larger than WEBHOOK_MAX_BODY_BYTES"},
    415: {"description": "Content type is not application/json"},
    422: {"description": "JSON without a ticket id or event id"},
    503: {"description": "Store unavailable; Zendesk will retry"},
}


async def receive_zendesk_webhook(request: Request) -> JSONResponse:
    services = services_of(request)
    settings = services.settings
    limit = settings.webhook_max_body_bytes
    try:
        body = await _read_body(request, limit)
    except BodyTooLarge:
        services.metrics.webhook_rejected("too_large")
        return _error(413, "too_large", f"body exceeds {limit} bytes")
    headers = request.headers
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
