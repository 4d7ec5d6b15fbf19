"""Replay one ticket: the dry run (decision and exact writes, none made) or an event
queued at replay priority. Shared by the admin API and the console."""

from __future__ import annotations

import uuid
from typing import Any

from app.runtime.container import Services
from app.store import NewEvent, Priority
from app.worker.pipeline import pipeline_for


async def dry_run_replay(services: Services, ticket_id: int) -> dict[str, Any]:
    """The decision and the exact writes, fresh from Zendesk; nothing written."""
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
    }


async def enqueue_replay(services: Services, ticket_id: int, who: str) -> int:
    """Queue the ticket at replay priority; the event id."""
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
    return result.event_id
