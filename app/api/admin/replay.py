"""Replay one ticket: dry run (decision + the exact writes, none made) or enqueue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from app.api.admin.examples import ok
from app.api.admin.schemas import ReplayDryRun, ReplayQueued
from app.api.auth import ADMIN_RESPONSES, ZENDESK_ERRORS, AdminDep
from app.core.ids import IdPath
from app.replays.ticket import dry_run as replay_ticket_dry_run
from app.replays.ticket import enqueue as enqueue_ticket_replay
from app.runtime.deps import ServicesDep

router = APIRouter(
    prefix="/admin/tickets", tags=["admin"], responses=ADMIN_RESPONSES | ZENDESK_ERRORS
)


@router.post(
    "/{ticket_id}/replay",
    summary="Decide a ticket again, fresh from Zendesk",
    response_model=ReplayDryRun | ReplayQueued,
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
        return await replay_ticket_dry_run(services, ticket_id)
    result = await enqueue_ticket_replay(services, ticket_id, requested_by=who, via="admin")
    return {
        "ticket_id": ticket_id,
        "dry_run": False,
        "event_id": result.event_id,
        "status": "queued",
    }
