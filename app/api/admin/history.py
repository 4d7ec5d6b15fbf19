"""Read-only ops views: the event inbox and a ticket's decision history."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query

from app.api.admin.examples import DECISION_RECORD, EVENT, ok
from app.api.admin.schemas import EventsPage, TicketDecisions
from app.api.auth import ADMIN_RESPONSES, AdminDep
from app.core.ids import BeforeIdQuery, IdPath, OptionalIdQuery
from app.runtime.deps import ServicesDep
from app.store import EventStatus, StoredEvent

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_RESPONSES)


def event_json(event: StoredEvent) -> dict[str, Any]:
    data = asdict(event)
    data["status"] = event.status.value
    data["priority"] = int(event.priority)
    return data


@router.get(
    "/events",
    summary="Inbox events, newest first",
    response_model=EventsPage,
    responses=ok({"events": [EVENT], "next_before_id": None}),
)
async def list_events(
    services: ServicesDep,
    _: AdminDep,
    status: EventStatus | None = None,
    ticket_id: OptionalIdQuery = None,
    limit: int = Query(default=50, ge=1, le=500),
    before_id: BeforeIdQuery = None,
) -> dict[str, Any]:
    events = await services.store.list_events(
        status=status, ticket_id=ticket_id, limit=limit, before_id=before_id
    )
    next_before = events[-1].id if len(events) == limit else None
    return {"events": [event_json(e) for e in events], "next_before_id": next_before}


@router.get(
    "/tickets/{ticket_id}/decisions",
    summary="Why a ticket went where it went",
    response_model=TicketDecisions,
    responses=ok({"ticket_id": 5100001, "decisions": [DECISION_RECORD]}),
)
async def ticket_decisions(
    ticket_id: IdPath,
    services: ServicesDep,
    _: AdminDep,
    limit: int = Query(default=20, ge=1, le=200),
) -> dict[str, Any]:
    records = await services.store.decisions_for_ticket(ticket_id, limit=limit)
    return {"ticket_id": ticket_id, "decisions": [asdict(r) for r in records]}
