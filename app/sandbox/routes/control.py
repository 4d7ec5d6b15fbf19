"""`/_sandbox/*`: control endpoints for tests, demos and benchmarks (not Zendesk paths).

These requests are neither logged, authenticated, rate limited nor faulted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.sandbox.context import Json
from app.sandbox.errors import bad_request
from app.sandbox.faults import FaultRule
from app.sandbox.http import StateDep, no_content, ok, read_json_value

router = APIRouter(prefix="/_sandbox")


class FaultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[FaultRule]
    seed: int | None = None  # restart the probability RNG from this seed


class LimitsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_updates_per_minute: int | None = Field(default=None, ge=1)
    requests_per_minute: int | None = Field(default=None, ge=1)


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_auth: bool | None = None
    export_exclude_recent_seconds: int | None = Field(default=None, ge=0)
    jobs_paused: bool | None = None
    job_delay_seconds: float | None = Field(default=None, ge=0)
    oauth_expires_in: int | None = Field(default=None, ge=1)
    bulk_safe_update: Literal["enforce", "ignore"] | None = None
    batch_tag_deltas: bool | None = None
    service_user_role: Literal["admin", "agent"] | None = None


@router.get("/health")
async def health() -> JSONResponse:
    return ok({"status": "ok"})


@router.get("/requests")
async def requests(state: StateDep) -> JSONResponse:
    return JSONResponse(state.request_log())


@router.delete("/requests")
async def clear_requests(state: StateDep) -> Response:
    state.requests.clear()
    return no_content()


@router.post("/reset")
async def reset(state: StateDep) -> JSONResponse:
    state.reset()
    return ok({"status": "reset"})


@router.get("/faults")
async def faults(state: StateDep) -> JSONResponse:
    return ok({"rules": state.faults.rules()})


@router.post("/faults")
async def add_faults(body: FaultsBody, state: StateDep) -> JSONResponse:
    """Append rules (they are tried in order); DELETE clears them all."""
    return ok({"rules": state.faults.add(body.rules, body.seed)}, 201)


@router.delete("/faults")
async def clear_faults(state: StateDep) -> Response:
    state.faults.clear()
    return no_content()


@router.get("/limits")
async def limits(state: StateDep) -> JSONResponse:
    return ok(state.limits.settings())


@router.post("/limits")
async def set_limits(body: LimitsBody, state: StateDep) -> JSONResponse:
    """Only the keys sent change; null means unlimited."""
    return ok(state.limits.configure(**body.model_dump(include=body.model_fields_set)))


@router.get("/settings")
async def settings(state: StateDep) -> JSONResponse:
    return ok(state.settings())


@router.post("/settings")
async def set_settings(body: SettingsBody, state: StateDep) -> JSONResponse:
    for key, value in body.model_dump(exclude_none=True).items():
        setattr(state, key, value)
    return ok(state.settings())


@router.get("/tickets/{ticket_id}")
async def raw_ticket(ticket_id: int, state: StateDep) -> JSONResponse:
    return ok({"ticket": state.ticket(ticket_id)})


@router.post("/marketplace/contracts")
async def add_contracts(request: Request, state: StateDep) -> JSONResponse:
    """One contract object, or a list of them."""
    added = _add_each(await read_json_value(request), state.marketplace.add_contract)
    return JSONResponse(added, status_code=201)


@router.post("/marketplace/users")
async def add_users(request: Request, state: StateDep) -> JSONResponse:
    """One user object, or a list of them."""
    added = _add_each(await read_json_value(request), state.marketplace.add_user)
    return JSONResponse(added, status_code=201)


def _add_each(payload: Any, add: Callable[[Mapping[str, Any]], Json]) -> Json | list[Json]:
    records = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(record, dict) for record in records):
        raise bad_request("Send a JSON object or a list of objects")
    try:
        added = [add(record) for record in records]
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return added if isinstance(payload, list) else added[0]
