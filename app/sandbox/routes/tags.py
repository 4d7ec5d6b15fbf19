"""Ticket tags: GET lists, POST sets (replaces), PUT adds, DELETE removes.

The writes honour `safe_update` + `updated_stamp` (409 on a stale stamp) and
count as ticket updates for the rate limit.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.http import StateDep, ok, read_json
from app.sandbox.model import TicketChanges, normalize_tags
from app.sandbox.state import SandboxState

router = APIRouter()


@router.get("/tickets/{ticket_id}/tags")
async def list_tags(ticket_id: int, state: StateDep) -> JSONResponse:
    return ok({"tags": state.tickets.get(ticket_id)["tags"]})


@router.post("/tickets/{ticket_id}/tags")
async def set_tags(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    return await _write(ticket_id, request, state, "set", 201)


@router.put("/tickets/{ticket_id}/tags")
async def add_tags(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    return await _write(ticket_id, request, state, "add", 200)


@router.delete("/tickets/{ticket_id}/tags")
async def remove_tags(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    return await _write(ticket_id, request, state, "remove", 200)


async def _write(
    ticket_id: int, request: Request, state: SandboxState, mode: str, status: int
) -> JSONResponse:
    body = await read_json(request)
    raw = body.get("tags", request.query_params.get("tags", "").replace(",", " "))
    tags = normalize_tags(raw)
    changes = TicketChanges(
        tags=tags if mode == "set" else None,
        add_tags=tags if mode == "add" else [],
        remove_tags=tags if mode == "remove" else [],
        safe_update="safe_update" in body,
        updated_stamp=None if body.get("updated_stamp") is None else str(body["updated_stamp"]),
    )
    ticket, _ = state.tickets.update(ticket_id, changes, author_id=state.service_user_id)
    return ok({"tags": ticket["tags"]}, status)
