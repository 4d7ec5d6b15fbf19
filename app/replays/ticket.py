"""One ticket decided again, fresh from Zendesk: a dry run (the decision and the
exact writes, nothing written) or an event queued at replay priority.

`POST /admin/tickets/{id}/replay` and `python -m app replay ID` both use these,
so the two give the same answer and queue events with the same kind of key.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.runtime.container import Services
from app.store import AcceptResult, NewEvent, Priority
from app.worker.pipeline import pipeline_for
from app.worker.timers import timer_specs


async def dry_run(services: Services, ticket_id: int) -> dict[str, Any]:
    """The decision and the writes it would make, as JSON; nothing is written."""
    evaluation = await pipeline_for(services).evaluate(ticket_id, services.clock().date())
    facts = evaluation.facts
    decision = evaluation.decision
    return {
        "ticket_id": ticket_id,
        "dry_run": True,
        "skipped": evaluation.skipped,
        "facts": facts.model_dump(mode="json", exclude_none=True) if facts else None,
        "decision": decision.model_dump(mode="json") if decision else None,
        "writes": [w.as_json() for w in evaluation.writes],
        "timers": [t.as_json() for t in timer_specs(decision)],  # what recording it would arm
    }


async def enqueue(
    services: Services, ticket_id: int, *, requested_by: str, via: str
) -> AcceptResult:
    """Queue the ticket at replay priority. Each request is new work: the key is
    random (never a date), so a second replay of the same ticket is not a duplicate."""
    return await services.store.accept(
        NewEvent(
            dedupe_key=f"replay:{ticket_id}:{uuid.uuid4().hex}",
            source="replay",
            event_type=f"{via}.replay",
            ticket_id=ticket_id,
            payload={"ticket_id": ticket_id, "requested_by": requested_by},
            received_at=services.clock(),
            priority=Priority.REPLAY,
        )
    )
