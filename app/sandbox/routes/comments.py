"""A ticket's comments and audits (read-only lists, paginated)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.context import Json
from app.sandbox.http import StateDep, ok
from app.sandbox.pagination import paginate

router = APIRouter()


@router.get("/tickets/{ticket_id}/comments")
async def list_comments(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    comments = state.tickets.comments(ticket_id)
    if request.query_params.get("sort_order") == "desc":
        return ok(paginate(request, "comments", comments[::-1], _descending))
    return ok(paginate(request, "comments", comments))


@router.get("/tickets/{ticket_id}/audits")
async def list_audits(ticket_id: int, request: Request, state: StateDep) -> JSONResponse:
    return ok(paginate(request, "audits", state.tickets.audits(ticket_id)))


def _descending(record: Json) -> int:
    return -int(record["id"])
