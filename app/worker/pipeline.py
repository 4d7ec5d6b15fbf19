"""One event through claim -> facts -> decide -> plan -> apply -> record.

A 409 from Zendesk means the ticket changed under us: read it again and decide
again (never replay the stale write). Everything else is raised to the runner,
which decides between retry and dead letter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.marketplace import MarketplaceClient
from app.routing import Policy, decide
from app.services import CatalogHolder
from app.store import DecisionRecord, EventStore, StoredEvent
from app.worker.facts import gather
from app.worker.plan import (
    TicketWrite,
    decision_marker,
    linked_ticket_ids,
    plan_linked_note,
    plan_ticket_write,
)
from app.zendesk import Conflict, ZendeskClient

log = logging.getLogger("app.worker")
MAX_REDECIDES = 3


class ConflictStorm(Exception):
    """The ticket kept changing while we decided; try again later."""


@dataclass(frozen=True, slots=True)
class Result:
    outcome: str  # applied | noop | skipped
    decision_id: int | None = None
    queue: str | None = None
    eligibility: str | None = None


@dataclass
class Pipeline:
    store: EventStore
    zendesk: ZendeskClient
    catalog: CatalogHolder
    marketplace: MarketplaceClient
    policy: Policy

    async def handle(self, event: StoredEvent, today: Any) -> Result:
        if event.ticket_id is None:
            return Result("skipped")
        for _ in range(MAX_REDECIDES):
            try:
                return await self._decide_and_apply(event, today)
            except Conflict:
                log.info("409 from Zendesk: re-reading ticket and deciding again",
                         extra={"event_id": event.id, "ticket_id": event.ticket_id})
        raise ConflictStorm(f"ticket {event.ticket_id} changed {MAX_REDECIDES} times while deciding")

    async def _decide_and_apply(self, event: StoredEvent, today: Any) -> Result:
        assert event.ticket_id is not None
        bundle = await self.zendesk.get_ticket(event.ticket_id, include=("users", "organizations"))
        ticket: dict[str, Any] = bundle["ticket"]
        if str(ticket.get("status", "")).lower() == "closed":
            return Result("skipped")
        catalog = await self.catalog.get()
        facts = await gather(ticket, self.policy, catalog, self.marketplace)
        decision = decide(facts, self.policy, today).model_dump(mode="json")
        writes = await self._apply(decision, ticket)
        outcome = "applied" if writes else "noop"
        decision_id = await self.store.record_decision(
            DecisionRecord(
                ticket_id=event.ticket_id,
                event_id=event.id,
                policy_version=self.policy.version,
                facts=facts.model_dump(mode="json", exclude_none=True),
                decision=decision,
                writes=writes,
                outcome=outcome,
            )
        )
        return Result(
            outcome,
            decision_id,
            decision.get("queue"),
            (decision.get("eligibility") or {}).get("code"),
        )

    async def _apply(self, decision: dict[str, Any], ticket: dict[str, Any]) -> list[dict[str, Any]]:
        """Linked tickets first: a crash after them leaves their markers, so the
        retry writes only what is still missing."""
        own_id = int(ticket["id"])
        writes: list[dict[str, Any]] = []
        for linked_id in linked_ticket_ids(decision, own_id):
            linked = (await self.zendesk.get_ticket(linked_id))["ticket"]
            write = plan_linked_note(decision, linked)
            if write:
                writes.append(await self._put(write, linked["updated_at"]))
        macro = await self._macro_changes(decision, ticket)
        write = plan_ticket_write(decision, ticket, self.policy, await self.catalog.get(), macro)
        if write:
            writes.append(await self._put(write, ticket["updated_at"]))
        return writes

    async def _macro_changes(
        self, decision: dict[str, Any], ticket: dict[str, Any]
    ) -> dict[str, Any] | None:
        title = decision.get("macro")
        if not title or decision_marker(decision) in (ticket.get("tags") or []):
            return None
        catalog = await self.catalog.get()
        changes: dict[str, Any] = await self.zendesk.apply_macro(
            int(ticket["id"]), catalog.macro_id(title)
        )
        return changes

    async def _put(self, write: TicketWrite, stamp: str) -> dict[str, Any]:
        await self.zendesk.update_ticket(write.ticket_id, write.changes, updated_stamp=stamp)
        return {"ticket_id": write.ticket_id, "changes": write.changes,
                "summary": write.summary, "result": "ok"}
