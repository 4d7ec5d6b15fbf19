"""Dead letters: list, retry after a fix, or discard (kept in the log as discarded)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from app.api.admin.examples import EVENT, ok
from app.api.admin.history import event_json
from app.api.admin.schemas import DeadLettersPage, EventStatusOut
from app.api.auth import ADMIN_RESPONSES, NOT_FOUND, AdminDep
from app.core.ids import BeforeIdQuery, IdPath, OptionalIdQuery
from app.runtime.deps import ServicesDep
from app.store import EventStatus

router = APIRouter(
    prefix="/admin/dead-letters", tags=["admin"], responses=ADMIN_RESPONSES | NOT_FOUND
)


@router.get(
    "",
    summary="Events the worker gave up on, newest first, with the reason",
    response_model=DeadLettersPage,
    responses=ok({"dead_letters": [EVENT], "next_before_id": None}),
)
async def list_dead_letters(
    services: ServicesDep,
    _: AdminDep,
    ticket_id: OptionalIdQuery = None,
    limit: int = Query(default=50, ge=1, le=500),
    before_id: BeforeIdQuery = None,
) -> dict[str, Any]:
    events = await services.store.list_events(
        status=EventStatus.DEAD, ticket_id=ticket_id, limit=limit, before_id=before_id
    )
    next_before = events[-1].id if len(events) == limit else None
    return {"dead_letters": [event_json(e) for e in events], "next_before_id": next_before}


@router.post(
    "/{event_id}/retry",
    summary="Queue a dead letter again (attempts reset)",
    response_model=EventStatusOut,
    responses=ok({"event_id": 42, "status": "pending"}),
)
async def retry_dead_letter(event_id: IdPath, services: ServicesDep, _: AdminDep) -> dict[str, Any]:
    if not await services.store.retry_dead(event_id, now=services.clock()):
        raise HTTPException(404, f"event {event_id} is not a dead letter")
    return {"event_id": event_id, "status": EventStatus.PENDING.value}


@router.delete(
    "/{event_id}",
    summary="Discard a dead letter; it stays in the log as discarded",
    response_model=EventStatusOut,
    responses=ok({"event_id": 42, "status": "discarded"}),
)
async def discard_dead_letter(
    event_id: IdPath,
    services: ServicesDep,
    who: AdminDep,
    reason: str = Query(default="discarded by operator", max_length=500),
) -> dict[str, Any]:
    if not await services.store.discard_dead(event_id, reason=f"{reason} ({who})"):
        raise HTTPException(404, f"event {event_id} is not a dead letter")
    return {"event_id": event_id, "status": EventStatus.DISCARDED.value}
