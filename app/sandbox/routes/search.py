"""Search (offset pagination, at most 1000 results) and search export (cursor)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.context import Json
from app.sandbox.errors import ZendeskError, bad_request
from app.sandbox.http import StateDep, ok
from app.sandbox.model import PRIORITIES, STATUSES, Ticket
from app.sandbox.pagination import cursor_page, int_param, with_params
from app.sandbox.search import matcher, parse_query, searches_tickets
from app.sandbox.state import SandboxState

router = APIRouter()

MAX_RESULTS = 1000
_SORTS: dict[str, Callable[[Ticket], Any]] = {
    "created_at": lambda t: t.created_at,
    "updated_at": lambda t: t.updated_at,
    "status": lambda t: STATUSES.index(t.status),
    "priority": lambda t: PRIORITIES[::-1].index(t.priority) if t.priority else -1,
    "ticket_type": lambda t: t.type or "",
}


@router.get("/search")
async def search(request: Request, state: StateDep) -> JSONResponse:
    if any(name.startswith("page[") for name in request.query_params):
        raise bad_request("Search does not support cursor pagination; use /search/export")
    results = _results(request, state)
    sort_by = request.query_params.get("sort_by")
    if sort_by in _SORTS:
        descending = request.query_params.get("sort_order", "desc") == "desc"
        results.sort(key=_SORTS[sort_by], reverse=descending)
    per_page = int_param(request, "per_page", 100, 1, 100)
    page = int_param(request, "page", 1, 1, 10_000)
    start = (page - 1) * per_page
    if start >= MAX_RESULTS:
        raise ZendeskError(
            422,
            {
                "error": "InvalidPaginationParameter",
                "description": f"Search is limited to {MAX_RESULTS} results",
            },
        )
    end = start + per_page
    return ok(
        {
            "results": [_result(state, ticket) for ticket in results[start:end]],
            "facets": None,
            "next_page": with_params(request, page=page + 1)
            if end < min(len(results), MAX_RESULTS)
            else None,
            "previous_page": with_params(request, page=page - 1) if page > 1 else None,
            "count": len(results),
        }
    )


@router.get("/search/count")
async def count(request: Request, state: StateDep) -> JSONResponse:
    return ok({"count": len(_results(request, state))})


@router.get("/search/export")
async def export(request: Request, state: StateDep) -> JSONResponse:
    if request.query_params.get("filter[type]") is None:
        raise bad_request("filter[type] is required")
    results = _results(request, state)
    if request.query_params.get("filter[type]") != "ticket":
        results = []
    return ok(
        cursor_page(request, "results", results, _ticket_id, lambda ticket: _result(state, ticket))
    )


def _ticket_id(ticket: Ticket) -> int:
    return ticket.id


def _result(state: SandboxState, ticket: Ticket) -> Json:
    return {**state.tickets.render(ticket), "result_type": "ticket"}


def _results(request: Request, state: SandboxState) -> list[Ticket]:
    query = request.query_params.get("query") or ""
    if not query.strip():
        raise bad_request("query is required")
    terms = parse_query(query)
    if not searches_tickets(terms):
        return []
    groups = {g["name"].lower(): g["id"] for g in state.directory.records("groups")}
    keep = matcher(terms, groups, state.ctx.stamps.now())
    return state.tickets.records(keep)
