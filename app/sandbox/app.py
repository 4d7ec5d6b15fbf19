"""`create_sandbox_app()`: the fake Zendesk (and marketplace directory) as one ASGI app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.sandbox.errors import ZendeskError
from app.sandbox.marketplace import create_marketplace_app
from app.sandbox.middleware import SandboxMiddleware
from app.sandbox.routes import (
    admin,
    comments,
    control,
    export,
    jobs,
    lookups,
    macros,
    oauth,
    search,
    tags,
    tickets,
)
from app.sandbox.state import SandboxState

ZENDESK_ROUTERS = (
    tickets.router,
    tags.router,
    comments.router,
    macros.router,
    jobs.router,
    lookups.router,
    search.router,
    export.router,
    admin.router,
)


def create_sandbox_app(state: SandboxState | None = None) -> FastAPI:
    """A new sandbox app over `state` (a fresh, seeded `SandboxState()` by default)."""
    state = state if state is not None else SandboxState()
    app = FastAPI(title="Zendesk sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = state
    for router in ZENDESK_ROUTERS:
        app.include_router(router, prefix="/api/v2")
    app.include_router(oauth.router)
    app.include_router(control.router)
    app.mount("/marketplace", create_marketplace_app(state.marketplace))
    app.add_exception_handler(ZendeskError, _zendesk_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_middleware(SandboxMiddleware, state=state)
    return app


async def _zendesk_error(_: Request, exc: ZendeskError) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        body = {"error": "InvalidEndpoint", "description": "Not found"}
    else:
        body = {"error": str(exc.detail), "description": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    body = {
        "error": "InvalidValue",
        "description": "Invalid request",
        "details": jsonable_encoder(exc.errors()),
    }
    return JSONResponse(body, status_code=400)
