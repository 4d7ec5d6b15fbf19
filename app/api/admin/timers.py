"""`GET /admin/timers`: the case clock for ops, overdue and due soon (docs/playbook.md, "Clocks").

Overdue: due, and its re-decision not finished (no worker fired it yet, or the
event it fired is still queued); the `triage_timers_overdue` gauge counts them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query

from app.api.admin.examples import ok
from app.api.admin.schemas import Out
from app.api.auth import ADMIN_RESPONSES, AdminDep
from app.core.ids import IdPath
from app.runtime.deps import ServicesDep

router = APIRouter(prefix="/admin", tags=["admin"], responses=ADMIN_RESPONSES)


class TimerOut(Out):
    id: int
    ticket_id: int
    kind: str
    due_on: str  # the last day inside the clock
    fire_at: str  # when it is over and the ticket is decided again
    generation: int
    what: str
    then: str
    policy_version: str
    decision_id: int | None
    fired_at: str | None
    event_id: int | None
    event_status: str | None


class TimersPage(Out):
    now: str
    within_hours: int
    overdue_count: int
    overdue: list[TimerOut]
    due_soon: list[TimerOut]


class TicketTimers(Out):
    ticket_id: int
    timers: list[TimerOut]


TIMER: dict[str, Any] = {
    "id": 3,
    "ticket_id": 5100001,
    "kind": "refund_response",
    "due_on": "2024-05-14",
    "fire_at": "2024-05-15T00:00:00+00:00",
    "generation": 1,
    "what": "the freelancer's answer to the client's refund request",
    "then": "the escrow goes back to the client",
    "policy_version": "sha256:3f2a9c...",
    "decision_id": 7,
    "fired_at": None,
    "event_id": None,
    "event_status": None,
}


@router.get(
    "/timers",
    summary="Deadlines overdue and due soon",
    response_model=TimersPage,
    responses=ok(
        {
            "now": "2024-05-14T18:00:00+00:00",
            "within_hours": 24,
            "overdue_count": 0,
            "overdue": [],
            "due_soon": [TIMER],
        }
    ),
)
async def list_timers(
    services: ServicesDep,
    _: AdminDep,
    within_hours: int = Query(default=24, ge=1, le=24 * 366, description="How far is soon"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    store, now = services.store, services.clock()
    overdue = await store.overdue_timers(now, limit=limit)
    soon = await store.upcoming_timers(now, now + timedelta(hours=within_hours), limit=limit)
    return {
        "now": now.isoformat(),
        "within_hours": within_hours,
        "overdue_count": await store.count_overdue_timers(now),
        "overdue": [t.as_json() for t in overdue],
        "due_soon": [t.as_json() for t in soon],
    }


@router.get(
    "/tickets/{ticket_id}/timers",
    summary="A ticket's running deadlines",
    response_model=TicketTimers,
    responses=ok({"ticket_id": 5100001, "timers": [TIMER]}),
)
async def ticket_timers(ticket_id: IdPath, services: ServicesDep, _: AdminDep) -> dict[str, Any]:
    timers = await services.store.timers_for_ticket(ticket_id)
    return {"ticket_id": ticket_id, "timers": [t.as_json() for t in timers]}
