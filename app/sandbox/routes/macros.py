"""Macros: list (all or active), show, and the two read-only apply endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.http import StateDep, ok
from app.sandbox.macros import changes_result, full_result, macro_changes
from app.sandbox.pagination import offset_page, paginate

router = APIRouter()


@router.get("/macros")
async def list_macros(request: Request, state: StateDep) -> JSONResponse:
    active = request.query_params.get("active")
    wanted = None if active is None else active.lower() == "true"
    return ok(paginate(request, "macros", state.macros.records(wanted)))


@router.get("/macros/active")
async def active_macros(request: Request, state: StateDep) -> JSONResponse:
    return ok(paginate(request, "macros", state.macros.records(True)))


@router.get("/macros/search")
async def search_macros(request: Request, state: StateDep) -> JSONResponse:
    """`?query=` matched in titles, case-insensitive (offset pagination only)."""
    query = (request.query_params.get("query") or "").lower()
    found = [m for m in state.macros.records() if query in m["title"].lower()]
    return ok(offset_page(request, "macros", found))


@router.get("/macros/{macro_id}")
async def show_macro(macro_id: int, state: StateDep) -> JSONResponse:
    return ok({"macro": state.macros.get(macro_id)})


@router.get("/macros/{macro_id}/apply")
async def apply_macro(macro_id: int, state: StateDep) -> JSONResponse:
    return ok(changes_result(macro_changes(state.macros.get(macro_id))))


@router.get("/tickets/{ticket_id}/macros/{macro_id}/apply")
async def apply_macro_to_ticket(ticket_id: int, macro_id: int, state: StateDep) -> JSONResponse:
    changes = macro_changes(state.macros.get(macro_id))
    return ok(full_result(state.tickets.preview(ticket_id, changes), changes))
