"""Replay one ticket: dry run (decision + the exact writes, none made) or enqueue."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query

from app.api.admin.examples import ok
from app.api.auth import ADMIN_RESPONSES, ZENDESK_ERRORS, AdminDep
from app.core.ids import IdPath
from app.runtime.deps import ServicesDep
from app.store import NewEvent, Priority
from app.worker.pipeline import pipeline_for
from app.worker.timers import timer_specs

router = APIRouter(
    prefix="/admin/tickets", tags=["admin"], responses=ADMIN_RESPONSES | ZENDESK_ERRORS
)


@router.post(
    "/{ticket_id}/replay",
    summary="Decide a ticket again, fresh from Zendesk",
    responses=ok(
        {
            "ticket_id": 5100001,
            "dry_run": True,
            "skipped": None,
            "facts": {"ticket": {"id": 5100001}},
            "decision": {"queue": "Mediation_Tier_1_CX420", "status": "open"},
            "writes": [
                {
                    "ticket_id": 5100001,
                    "method": "PUT",
                    "path": "/api/v2/tickets/5100001",
                    "body": {
                        "ticket": {
                            "group_id": 360000002,
                            "safe_update": True,
                            "updated_stamp": "2024-06-12T10:00:00Z",
                        }
                    },
                    "summary": ["group -> Mediation_Tier_1_CX420"],
                }
            ],
            "timers": [],
        }
    ),
)
async def replay_ticket(
    ticket_id: IdPath,
    services: ServicesDep,
    who: AdminDep,
    dry_run: bool = Query(
        default=True, description="Return the decision and writes; write nothing"
    ),
) -> dict[str, Any]:
    if dry_run:
        evaluation = await pipeline_for(services).evaluate(ticket_id, services.clock().date())
        return {
            "ticket_id": ticket_id,
            "dry_run": True,
            "skipped": evaluation.skipped,
            "facts": evaluation.facts.model_dump(mode="json", exclude_none=True)
            if evaluation.facts
            else None,
            "decision": evaluation.decision,
            "writes": [w.as_json() for w in evaluation.writes],
            "timers": [t.as_json() for t in timer_specs(evaluation.decision or {})],
        }
    result = await services.store.accept(
        NewEvent(
            dedupe_key=f"replay:{ticket_id}:{uuid.uuid4().hex}",
            source="replay",
            event_type="admin.replay",
            ticket_id=ticket_id,
            payload={"ticket_id": ticket_id, "requested_by": who},
            received_at=services.clock(),
            priority=Priority.REPLAY,
        )
    )
    return {
        "ticket_id": ticket_id,
        "dry_run": False,
        "event_id": result.event_id,
        "status": "queued",
    }
