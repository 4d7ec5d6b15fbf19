"""One error body for every HTTP answer that is not a success:
`{"error": "<snake_case code>", "message": "<one line>", ...}`.

FastAPI's own errors (`HTTPException`, request validation) and Zendesk's answers
reaching ops callers are mapped here, so a client reads one shape everywhere;
validation errors keep FastAPI's list of problems under `detail`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.zendesk import NotFound, ZendeskError, ZendeskTransientError, ZendeskTransportError

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    502: "bad_gateway",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    """Every error answer. Some carry more keys (e.g. `detail`, `missing`, `job_id`)."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"error": code, "message": message, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting error statuses with the one error body."""
    return {
        status: {"model": ErrorBody, "description": descriptions.get(f"s{status}", "Error")}
        for status in statuses
    }


def _first_problem(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "the request is not valid"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'body'}: {first.get('msg', 'invalid')}{more}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = jsonable_encoder(exc.errors())
        return error_response(422, "invalid_request", _first_problem(exc), detail=detail)

    @app.exception_handler(ZendeskError)
    async def zendesk_error(_: Request, exc: ZendeskError) -> JSONResponse:
        """Zendesk's answers reach ops callers as 404 / 502 / 503 with Zendesk's reason."""
        status = 502
        if isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, ZendeskTransientError | ZendeskTransportError):
            status = 503
        return error_response(status, "zendesk", str(exc))
