"""A backlog in bulk: one `show_many` read and one `update_many` job per 100 tickets.

Zendesk limits ticket updates account-wide (100/min on many plans), so a replay
or a backlog drains in batches instead of one PUT per ticket. Anything the bulk
path cannot do safely — a decision that also writes a linked ticket, a ticket
missing from `show_many`, a failed per-ticket result (e.g. a safe-update
conflict), a merge to detect and repair — falls back to the one-ticket
pipeline, which re-reads and decides again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.store import StoredEvent
from app.worker.merge_repair import is_merge_event
from app.worker.pipeline import Evaluation, Pipeline, PlannedWrite, Result, zendesk_priority
from app.worker.timers import is_timer_event
from app.zendesk import UnknownName

log = logging.getLogger("app.worker")

Outcome = Result | BaseException


@dataclass(frozen=True, slots=True)
class _Pending:
    event: StoredEvent
    evaluation: Evaluation
    planned: PlannedWrite


def _closed(ticket: dict[str, Any]) -> bool:
    return str(ticket.get("status", "")).lower() == "closed"


def bulk_update(planned: PlannedWrite) -> dict[str, Any]:
    """One item of a batch `update_many`: always a safe update."""
    return planned.write.changes | {
        "id": planned.write.ticket_id,
        "safe_update": True,
        "updated_stamp": planned.updated_stamp,
    }


@dataclass
class BatchPipeline:
    pipeline: Pipeline

    async def handle_many(self, events: list[StoredEvent], today: date) -> dict[int, Outcome]:
        """Outcome per event id: a Result, or the exception the runner must handle."""
        outcomes: dict[int, Outcome] = {}
        fallback: list[StoredEvent] = []
        with_ticket = [e for e in events if e.ticket_id is not None]
        for event in events:
            if event.ticket_id is None:
                outcomes[event.id] = Result("skipped")
        if not with_ticket:
            return outcomes
        priority = zendesk_priority(max(e.priority for e in with_ticket))
        zendesk = self.pipeline.zendesk
        found = {
            int(t["id"]): t
            for t in await zendesk.show_many(
                [e.ticket_id for e in with_ticket if e.ticket_id], priority=priority
            )
        }
        pending: list[_Pending] = []
        mediation = await self._mediation_group_ids()
        for event in with_ticket:
            ticket = found.get(int(event.ticket_id or 0))
            # Merges (events, or a closed or Mediation ticket whose audits may show
            # one) need the one-ticket path, which detects and repairs them.
            if (
                ticket is None
                or is_merge_event(event)
                or _closed(ticket)
                or ticket.get("group_id") in mediation
            ):
                fallback.append(event)
                continue
            try:
                evaluation = await self.pipeline.reconcile(
                    await self.pipeline.evaluate_ticket(
                        ticket, today, priority, deadline=is_timer_event(event)
                    )
                )
            except Exception as exc:  # one bad ticket must not sink the batch
                outcomes[event.id] = exc
                continue
            own = [w for w in evaluation.writes if w.write.ticket_id == evaluation.ticket_id]
            if evaluation.decision is None:
                outcomes[event.id] = Result("skipped")
            elif not evaluation.writes:
                outcomes[event.id] = await self._record(event, evaluation, [])
            elif len(evaluation.writes) > 1 or not own:
                fallback.append(event)
            else:
                pending.append(_Pending(event, evaluation, own[0]))
        await self._apply(pending, outcomes, fallback, priority)
        for event in fallback:
            outcomes[event.id] = await self._single(event, today)
        return outcomes

    async def _mediation_group_ids(self) -> set[int]:
        catalog = await self.pipeline.catalog.get()
        ids = set()
        for name in self.pipeline.policy.mediation_groups():
            try:
                ids.add(catalog.group_id(name))
            except UnknownName:
                continue
        return ids

    async def _apply(
        self,
        pending: list[_Pending],
        outcomes: dict[int, Outcome],
        fallback: list[StoredEvent],
        priority: Any,
    ) -> None:
        if not pending:
            return
        intents = [await self.pipeline.keep_intent(p.event, p.evaluation) for p in pending]
        try:
            results = await self.pipeline.zendesk.update_many(
                [bulk_update(p.planned) for p in pending], priority=priority
            )
        except Exception as exc:  # the runner retries each; markers make re-runs no-ops
            for item in pending:
                outcomes[item.event.id] = exc
            return
        for item, result, intent in zip(pending, results, intents, strict=True):
            if result.success:
                done = [
                    item.planned.as_json()
                    | {"result": "ok", "job_id": result.job_id, "intent": intent}
                ]
                outcomes[item.event.id] = await self._record(item.event, item.evaluation, done)
            else:
                log.info(
                    "bulk result failed (%s): deciding the ticket again alone",
                    result.error,
                    extra={"event_id": item.event.id, "ticket_id": item.event.ticket_id},
                )
                fallback.append(item.event)

    async def _record(
        self, event: StoredEvent, evaluation: Evaluation, done: list[dict[str, Any]]
    ) -> Outcome:
        try:
            return await self.pipeline.record(event, evaluation, done)
        except Exception as exc:
            return exc

    async def _single(self, event: StoredEvent, today: date) -> Outcome:
        try:
            return await self.pipeline.handle(event, today)
        except Exception as exc:
            return exc
