"""Small request helpers shared by the routers (`app.sandbox.routes`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.context import Json
from app.sandbox.errors import bad_request, too_many_values
from app.sandbox.state import SandboxState


def get_state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


StateDep = Annotated[SandboxState, Depends(get_state)]


async def read_json_value(request: Request) -> Any:
    """The JSON body, whatever its type; {} when empty; 400 when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request("Request body is not valid JSON", "InvalidJSON") from exc


async def read_json(request: Request) -> Json:
    """The JSON object body; {} when empty; 400 when it is not a JSON object."""
    body = await read_json_value(request)
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object", "InvalidJSON")
    return body


def member(body: Json, key: str) -> Json:
    """`body[key]` as an object, e.g. the `ticket` of `{"ticket": {...}}`."""
    value = body.get(key)
    if not isinstance(value, dict):
        raise bad_request(f"Request body must contain a `{key}` object", "InvalidValue")
    return value


def parse_ids(raw: str | None, *, limit: int = 100, name: str = "ids") -> list[int]:
    """`1,2,3` -> [1, 2, 3]; 400 when missing, malformed or over the limit."""
    if not raw:
        raise bad_request(f"`{name}` is required")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise bad_request(f"`{name}` must be a comma-separated list of ids") from exc
    if len(ids) > limit:
        raise too_many_values(limit, name)
    return ids


def ok(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)
