"""A backlog in bulk: one `show_many` read and one `update_many` job per 100 tickets.

Zendesk limits ticket updates account-wide (100/min on many plans), so a replay
or a backlog drains in batches instead of one PUT per ticket. Anything the bulk
path cannot do safely — a decision that also writes a linked ticket, a ticket
missing from `show_many`, a failed per-ticket result (e.g. a safe-update
conflict), a merge to detect and repair — falls back to the one-ticket
pipeline, which re-reads and decides again.

Safe whatever Zendesk does with `safe_update` in bulk items: each item carries
only what the decision owns (`TicketWrite.bulk_item`: tag deltas, no full tag
list, no assignee unless the policy clears it), and after the job the batch is
read again (`show_many`); a ticket someone else changed between our read and
the job (`verify.unexpected_changes`) is decided again on the one-ticket path.
An event whose payload already shows the service's own last write (the echo)
costs no Zendesk call.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.store import StoredEvent
from app.worker.merge_repair import is_merge_event
from app.worker.pipeline import Evaluation, Pipeline, PlannedWrite, Result, zendesk_priority
from app.worker.plan import TicketWrite
from app.worker.timers import is_timer_event
from app.worker.verify import unexpected_changes
from app.zendesk import JobResult, Priority, UnknownName, ZendeskCatalog

log = logging.getLogger("app.worker")

Outcome = Result | BaseException
# Tickets of one batch decided at once: their marketplace calls overlap.
EVALUATE_AT_ONCE = 8


@dataclass(frozen=True, slots=True)
class _Pending:
    event: StoredEvent
    evaluation: Evaluation
    planned: PlannedWrite
    ticket: dict[str, Any]  # as read for the decision


def _closed(ticket: dict[str, Any]) -> bool:
    return str(ticket.get("status", "")).lower() == "closed"


def bulk_update(planned: PlannedWrite) -> dict[str, Any]:
    """One item of a batch `update_many`: what the decision owns, as a safe update
    (honoured or not by Zendesk: the job is verified afterwards)."""
    return planned.write.bulk_item() | {
        "safe_update": True,
        "updated_stamp": planned.updated_stamp,
    }


def _option_tags(catalog: ZendeskCatalog, write: dict[str, Any]) -> set[str]:
    tags: set[str] = set()
    for item in write.get("custom_fields") or []:
        try:
            tags |= set(catalog.field_by_id(int(item["id"])).options.values())
        except (UnknownName, KeyError, TypeError, ValueError):
            continue
    return tags


@dataclass
class BatchPipeline:
    pipeline: Pipeline

    async def handle_many(self, events: list[StoredEvent], today: date) -> dict[int, Outcome]:
        """Outcome per event id: a Result, or the exception the runner must handle."""
        outcomes: dict[int, Outcome] = {}
        fallback: list[StoredEvent] = []
        with_ticket = []
        for event in events:
            if event.ticket_id is None:
                outcomes[event.id] = Result("skipped")
            elif not is_merge_event(event) and await self.pipeline.loops.is_payload_echo(
                event.ticket_id, event.payload
            ):
                outcomes[event.id] = Result("noop")  # our own update's echo: no call
            else:
                with_ticket.append(event)
        if not with_ticket:
            return outcomes
        priority = zendesk_priority(max(e.priority for e in with_ticket))
        zendesk = self.pipeline.zendesk
        found = {
            int(t["id"]): t
            for t in await zendesk.show_many(
                [e.ticket_id for e in with_ticket if e.ticket_id],
                include=("comment_count",),  # no comments read for a one-comment ticket
                priority=priority,
            )
        }
        mediation = await self._mediation_group_ids()
        gate = asyncio.Semaphore(EVALUATE_AT_ONCE)

        async def evaluate(event: StoredEvent) -> _Pending | None:
            async with gate:
                return await self._evaluate(
                    event,
                    found.get(int(event.ticket_id or 0)),
                    mediation,
                    today,
                    priority,
                    outcomes,
                    fallback,
                )

        planned = await asyncio.gather(*(evaluate(e) for e in with_ticket))
        pending = [p for p in planned if p is not None]
        await self._apply(pending, outcomes, fallback, priority)
        for event in fallback:
            outcomes[event.id] = await self._single(event, today)
        return outcomes

    async def _evaluate(
        self,
        event: StoredEvent,
        ticket: dict[str, Any] | None,
        mediation: set[int],
        today: date,
        priority: Priority,
        outcomes: dict[int, Outcome],
        fallback: list[StoredEvent],
    ) -> _Pending | None:
        """Decide one ticket of the batch: its bulk item, or its outcome / fallback."""
        # Merges (events, or a closed or Mediation ticket whose audits may show
        # one) need the one-ticket path, which detects and repairs them.
        if (
            ticket is None
            or is_merge_event(event)
            or _closed(ticket)
            or ticket.get("group_id") in mediation
        ):
            fallback.append(event)
            return None
        try:
            evaluation = await self.pipeline.reconcile(
                await self.pipeline.evaluate_ticket(
                    ticket, today, priority, deadline=is_timer_event(event)
                )
            )
        except Exception as exc:  # one bad ticket must not sink the batch
            outcomes[event.id] = exc
            return None
        own = [w for w in evaluation.writes if w.write.ticket_id == evaluation.ticket_id]
        if evaluation.decision is None:
            outcomes[event.id] = Result("skipped")
        elif not evaluation.writes:
            outcomes[event.id] = await self._record(event, evaluation, [])
        elif len(evaluation.writes) > 1 or not own:
            fallback.append(event)
        else:
            return _Pending(event, evaluation, own[0], ticket)
        return None

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
        priority: Priority,
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
        written: list[tuple[_Pending, JobResult, str | None]] = []
        for item, result, intent in zip(pending, results, intents, strict=True):
            if result.success:
                written.append((item, result, intent))
            else:
                log.info(
                    "bulk result failed (%s): deciding the ticket again alone",
                    result.error,
                    extra={"event_id": item.event.id, "ticket_id": item.event.ticket_id},
                )
                fallback.append(item.event)
        await self._verify(written, outcomes, fallback, priority)

    async def _verify(
        self,
        written: list[tuple[_Pending, JobResult, str | None]],
        outcomes: dict[int, Outcome],
        fallback: list[StoredEvent],
        priority: Priority,
    ) -> None:
        """Read the written tickets again: each is recorded with what was written; one
        that is not "as read + our write" is decided again on the one-ticket path."""
        if not written:
            return
        try:
            after = {
                int(t["id"]): t
                for t in await self.pipeline.zendesk.show_many(
                    [item.planned.write.ticket_id for item, _, _ in written], priority=priority
                )
            }
        except Exception as exc:  # unverified: the one-ticket path re-reads each
            log.warning("could not read the batch back after the job: %s", exc)
            after = {}
        catalog = await self.pipeline.catalog.get()
        gate = asyncio.Semaphore(EVALUATE_AT_ONCE)

        async def settle(item: _Pending, result: JobResult, intent: str | None) -> None:
            async with gate:
                now = after.get(item.planned.write.ticket_id)
                done, changed = await self._check(item, result, now, catalog, priority)
                for write in done:
                    write["intent"] = intent
                outcomes[item.event.id] = await self._record(item.event, item.evaluation, done)
            if changed:
                log.info(
                    "ticket changed by someone else around the bulk write (%s): "
                    "deciding it again alone",
                    ", ".join(changed),
                    extra={"event_id": item.event.id, "ticket_id": item.event.ticket_id},
                )
                fallback.append(item.event)

        await asyncio.gather(*(settle(*each) for each in written))

    async def _check(
        self,
        item: _Pending,
        result: JobResult,
        now: dict[str, Any] | None,
        catalog: ZendeskCatalog,
        priority: Priority,
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The writes made for this item, and what someone else changed (if anything).

        A tag delta the job did not apply (the marker missing: an older version of
        Zendesk's docs said batch items ignore `additional_tags`) is completed with a
        safe one-ticket PUT of the tags, not decided again (its note is written)."""
        write = item.planned.write
        changed = ["not read back"] if now is None else []
        if now is not None:
            changed = unexpected_changes(
                item.ticket, now, write, _option_tags(catalog, write.changes)
            )
        done = [
            item.planned.as_json()
            | {
                "result": "ok",
                "job_id": result.job_id,
                "path": "/api/v2/tickets/update_many",
                "body": {"ticket": bulk_update(item.planned)},
                "verified": not changed,
            }
        ]
        if (
            now is not None
            and write.marker in write.add_tags
            and write.marker not in (now.get("tags") or [])
        ):
            repaired = await self._complete_tags(write, now, priority)
            if repaired is None:
                return done, changed or ["tags"]
            done.append(repaired)
            now = {**now, "updated_at": repaired["updated_at"]}
            changed = [c for c in changed if c != "tags"]
        if now is not None and not changed:
            done[-1]["updated_at"] = now.get("updated_at")
            await self.pipeline.loops.remember_write(
                write.ticket_id, now.get("updated_at"), write.marker
            )
        return done, changed

    async def _complete_tags(
        self, write: TicketWrite, now: dict[str, Any], priority: Priority
    ) -> dict[str, Any] | None:
        """PUT the ticket's tags with our delta applied (safe update on the stamp just
        read); None when that failed (the one-ticket path takes over)."""
        tags = sorted((set(now.get("tags") or []) | set(write.add_tags)) - set(write.remove_tags))
        try:
            answer = await self.pipeline.zendesk.update_ticket(
                write.ticket_id,
                {"tags": tags},
                updated_stamp=str(now["updated_at"]),
                priority=priority,
            )
        except Exception as exc:  # a 409 or an error: decide again alone
            log.info("completing the tags after the bulk write failed: %s", exc)
            return None
        return {
            "ticket_id": write.ticket_id,
            "method": "PUT",
            "path": f"/api/v2/tickets/{write.ticket_id}",
            "body": {"ticket": {"tags": tags}},
            "summary": ["tags the bulk job did not apply"],
            "result": "ok",
            "updated_at": (answer.get("ticket") or {}).get("updated_at"),
        }

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
