"""One event through facts -> decide -> plan -> apply -> record.

`evaluate` only reads (it is also the admin dry run); `handle` applies what it
planned. A 409 from Zendesk means the ticket changed under us: read it again
and decide again (never replay the stale write). Other errors are raised to
the runner, which chooses between retry and dead letter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.marketplace import MarketplaceClient
from app.routing import Policy, TicketFacts, decide
from app.services import CatalogHolder, Services
from app.store import DecisionRecord, EventStore, StoredEvent
from app.store import Priority as EventPriority
from app.worker.facts import gather
from app.worker.plan import (
    TicketWrite,
    decision_marker,
    linked_ticket_ids,
    plan_linked_note,
    plan_ticket_write,
)
from app.zendesk import Conflict, Priority, ZendeskClient

log = logging.getLogger("app.worker")
MAX_REDECIDES = 3


class ConflictStorm(Exception):
    """The ticket kept changing while we decided; try again later."""


def zendesk_priority(priority: EventPriority) -> Priority:
    """Live webhooks go before replays and backfills in the shared Zendesk budget."""
    if priority <= EventPriority.LIVE:
        return Priority.LIVE
    return Priority.REPLAY if priority <= EventPriority.REPLAY else Priority.BACKFILL


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    write: TicketWrite
    updated_stamp: str

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_id": self.write.ticket_id,
            "method": "PUT",
            "path": f"/api/v2/tickets/{self.write.ticket_id}",
            "body": {
                "ticket": self.write.changes
                | {"safe_update": True, "updated_stamp": self.updated_stamp}
            },
            "summary": self.write.summary,
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    ticket_id: int
    facts: TicketFacts | None
    decision: dict[str, Any] | None
    writes: list[PlannedWrite] = field(default_factory=list)
    skipped: str | None = None  # why nothing was decided (e.g. closed ticket)


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

    async def evaluate(
        self, ticket_id: int, today: date, priority: Priority = Priority.LIVE
    ) -> Evaluation:
        """Read the ticket fresh, decide, and plan the writes; writes nothing."""
        bundle = await self.zendesk.get_ticket(
            ticket_id, include=("users", "organizations"), priority=priority
        )
        return await self.evaluate_ticket(bundle["ticket"], today, priority)

    async def evaluate_ticket(
        self, ticket: dict[str, Any], today: date, priority: Priority = Priority.LIVE
    ) -> Evaluation:
        """Decide on a ticket already read (alone or in a `show_many` batch)."""
        ticket_id = int(ticket["id"])
        if str(ticket.get("status", "")).lower() == "closed":
            return Evaluation(ticket_id, None, None, skipped="ticket is closed")
        catalog = await self.catalog.get()
        facts = await gather(ticket, self.policy, catalog, self.marketplace)
        decision = decide(facts, self.policy, today).model_dump(mode="json")
        writes = []
        for linked_id in linked_ticket_ids(decision, ticket_id):
            linked = (await self.zendesk.get_ticket(linked_id, priority=priority))["ticket"]
            note = plan_linked_note(decision, linked)
            if note:
                writes.append(PlannedWrite(note, linked["updated_at"]))
        macro = await self._macro_changes(decision, ticket, priority)
        own = plan_ticket_write(decision, ticket, self.policy, catalog, macro)
        if own:
            writes.append(PlannedWrite(own, ticket["updated_at"]))
        return Evaluation(ticket_id, facts, decision, writes)

    async def record(
        self, event: StoredEvent, evaluation: Evaluation, done: list[dict[str, Any]]
    ) -> Result:
        """Store the decision with the writes made; the explain history."""
        decision = evaluation.decision or {}
        outcome = "applied" if done else "noop"
        facts = (
            evaluation.facts.model_dump(mode="json", exclude_none=True) if evaluation.facts else {}
        )
        decision_id = await self.store.record_decision(
            DecisionRecord(
                ticket_id=evaluation.ticket_id,
                event_id=event.id,
                policy_version=self.policy.version,
                facts=facts,
                decision=decision,
                writes=done,
                outcome=outcome,
            )
        )
        eligibility = (decision.get("eligibility") or {}).get("code")
        return Result(outcome, decision_id, decision.get("queue"), eligibility)

    async def handle(self, event: StoredEvent, today: date) -> Result:
        if event.ticket_id is None:
            return Result("skipped")
        for _ in range(MAX_REDECIDES):
            try:
                return await self._decide_and_apply(event, event.ticket_id, today)
            except Conflict:
                log.info(
                    "409 from Zendesk: re-reading ticket and deciding again",
                    extra={"event_id": event.id, "ticket_id": event.ticket_id},
                )
        raise ConflictStorm(
            f"ticket {event.ticket_id} changed {MAX_REDECIDES} times while deciding"
        )

    async def _decide_and_apply(self, event: StoredEvent, ticket_id: int, today: date) -> Result:
        priority = zendesk_priority(event.priority)
        evaluation = await self.evaluate(ticket_id, today, priority)
        if evaluation.decision is None:
            return Result("skipped")
        # Linked tickets come first in the plan: after a crash between writes their
        # markers are already there, so the retry writes only what is missing.
        done = []
        for planned in evaluation.writes:
            await self.zendesk.update_ticket(
                planned.write.ticket_id,
                planned.write.changes,
                updated_stamp=planned.updated_stamp,
                priority=priority,
            )
            done.append(planned.as_json() | {"result": "ok"})
        return await self.record(event, evaluation, done)

    async def _macro_changes(
        self, decision: dict[str, Any], ticket: dict[str, Any], priority: Priority
    ) -> dict[str, Any] | None:
        title = decision.get("macro")
        if not title or decision_marker(decision) in (ticket.get("tags") or []):
            return None
        catalog = await self.catalog.get()
        changes: dict[str, Any] = await self.zendesk.apply_macro(
            int(ticket["id"]), catalog.macro_id(title), current=ticket, priority=priority
        )
        return changes


def pipeline_for(services: Services) -> Pipeline:
    return Pipeline(
        store=services.store,
        zendesk=services.zendesk,
        catalog=services.catalog,
        marketplace=services.marketplace,
        policy=services.policy,
    )
