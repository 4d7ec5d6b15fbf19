"""Incremental ticket export, cursor-based, ordered by `updated_at`.

Tickets updated in the last `state.export_exclude_recent_seconds` are left out
(Zendesk: the last minute; the sandbox default is 0 so tests see every change).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.errors import bad_request
from app.sandbox.http import StateDep, ok
from app.sandbox.pagination import decode_cursor, encode_cursor, int_param, with_params

router = APIRouter()

MAX_PER_PAGE = 1000
_BEYOND_ANY_ID = 2**62


@router.get("/incremental/tickets/cursor")
async def export_tickets(request: Request, state: StateDep) -> JSONResponse:
    per_page = int_param(request, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
    after = _start_key(request)
    recent = state.export_exclude_recent_seconds
    until = state.ctx.stamps.now() - recent * 1_000_000 if recent > 0 else None
    rows = state.tickets.changed_since(after, until)
    page = rows[:per_page]
    cursor = encode_cursor([page[-1].updated_at, page[-1].id] if page else after)
    return ok(
        {
            "tickets": [state.tickets.render(ticket) for ticket in page],
            "after_cursor": cursor,
            "after_url": with_params(request, ("start_time",), cursor=cursor),
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": len(rows) <= per_page,
        }
    )


def _start_key(request: Request) -> list[int]:
    """The `[updated_at_us, id]` every exported ticket's key must exceed."""
    cursor = request.query_params.get("cursor")
    if cursor:
        key = decode_cursor(cursor)
        if not (isinstance(key, list) and len(key) == 2 and all(isinstance(k, int) for k in key)):
            raise bad_request("Invalid cursor")
        return key
    raw = request.query_params.get("start_time")
    if raw is None or not raw.isdigit():
        raise bad_request("start_time (Unix seconds) or cursor is required")
    return [int(raw) * 1_000_000 - 1, _BEYOND_ANY_ID]
