"""One event through facts -> decide -> plan -> apply -> record.

`evaluate` only reads (it is also the admin dry run); `handle` applies what it
planned. A 409 from Zendesk means the ticket changed under us: read it again
and decide again (never replay the stale write). Other errors are raised to
the runner, which chooses between retry and dead letter.

Cases that span tickets (docs/cross-ticket.md): facts include the case's
Mediation ticket (`facts.gather_case`, found by search); the follow-up flow
writes the Mediation ticket first and the agent's ticket last, each write
carrying the decision's marker, so a retry after a crash in between writes
only what is missing. Merge events and merge signs on a ticket go to
`merge_repair.py`. Loop guards (`pingpong.py`): an event for a ticket exactly
as our last write left it writes nothing, and a ticket bounced between groups
is left alone after a few round trips, with a note for a human.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from app.marketplace.client import MarketplaceClient
from app.merges.kinds import group_name
from app.merges.log import merge_log
from app.merges.metrics import MergeMetrics, merge_metrics
from app.routing import Decision, Policy, TicketFacts, decide
from app.routing.decision import TraceStep
from app.runtime.container import CatalogHolder, Services, utc_now
from app.store import DecisionRecord, EventStore, StoredEvent
from app.store import Priority as EventPriority
from app.worker.facts import gather_case
from app.worker.followup import LinkSearch, annotate
from app.worker.intents import IntentLog, WriteIntent
from app.worker.merge_repair import MergeRepair, RepairOutcome, is_merge_event
from app.worker.ownership import Verdict, judge, last_hand_off
from app.worker.pingpong import LoopGuard, PingPongLimits, is_pingpong_write
from app.worker.plan import (
    MacroEffect,
    TicketWrite,
    decision_marker,
    facts_key,
    linked_ticket_ids,
    macro_from_apply,
    macro_from_definition,
    plan_linked_note,
    plan_reply,
    plan_ticket_write,
    recorded_decision_marker,
)
from app.worker.timers import annotate_timer, is_timer_event, timer_specs
from app.zendesk import Conflict, Priority, ZendeskClient

log = logging.getLogger("app.worker")
MAX_REDECIDES = 3
# Notes that quote the user's words (description, latest public comment): read the comments.
QUOTING_NOTES = ("forwarding", "client_retention", "mediation_update")
HISTORY_LIMIT = 20


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
    decision: Decision | None
    writes: list[PlannedWrite] = field(default_factory=list)
    skipped: str | None = None  # why nothing was decided (e.g. closed ticket)
    link: LinkSearch | None = None  # the search for the case's Mediation ticket
    held: str | None = None  # why a planned write was withheld (echo, ping-pong)
    seen: dict[int, list[str]] = field(default_factory=dict)  # tags of each ticket read
    recovered: tuple[dict[str, Any], ...] = ()  # writes a crashed attempt made (intents.py)


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
    clock: Callable[[], datetime] = utc_now
    merge_metrics: MergeMetrics | None = None
    pingpong: PingPongLimits = field(default_factory=PingPongLimits)
    zendesk_subdomain: str | None = None  # for the agent links in notes

    @property
    def loops(self) -> LoopGuard:
        return LoopGuard(self.store, self.pingpong)

    @property
    def intents(self) -> IntentLog:
        return IntentLog(self.store)

    @property
    def repairs(self) -> MergeRepair:
        return MergeRepair(
            zendesk=self.zendesk,
            catalog=self.catalog,
            marketplace=self.marketplace,
            policy=self.policy,
            store=self.store,
            log=merge_log(self.store, self.clock),
            loops=self.loops,
            metrics=self.merge_metrics,
            link=self._ticket_url,
            zendesk_subdomain=self.zendesk_subdomain,
        )

    def _ticket_url(self, ticket_id: int) -> str:
        return self.policy.render(("links", "ticket"), {"ticket_id": ticket_id})

    async def evaluate(
        self, ticket_id: int, today: date, priority: Priority = Priority.LIVE
    ) -> Evaluation:
        """Read the ticket fresh, decide, and plan the writes; writes nothing."""
        bundle = await self.zendesk.get_ticket(
            ticket_id, include=("users", "organizations", "comment_count"), priority=priority
        )
        return await self.evaluate_ticket(bundle["ticket"], today, priority)

    async def evaluate_ticket(
        self,
        ticket: dict[str, Any],
        today: date,
        priority: Priority = Priority.LIVE,
        *,
        deadline: bool = False,
    ) -> Evaluation:
        """Decide on a ticket already read (alone or in a `show_many` batch).
        `deadline`: a timer fired, so an unchanged ticket is no echo (app/worker/timers.py)."""
        ticket_id = int(ticket["id"])
        if str(ticket.get("status", "")).lower() == "closed":
            return Evaluation(ticket_id, None, None, skipped="ticket is closed")
        catalog = await self.catalog.get()
        facts, link = await gather_case(
            ticket, self.policy, catalog, self.marketplace, self.zendesk, priority
        )
        facts = facts.model_copy(update={"zendesk_subdomain": self.zendesk_subdomain})
        facts, decided = await self._decide(ticket, facts, today, priority)
        decision = annotate(decided, link, ticket_id)
        loops = self.loops
        seen = {ticket_id: list(ticket.get("tags") or [])}
        if not deadline and await loops.is_echo(ticket):
            why = "the ticket is as the service's own last update left it (an echo)"
            decision = _traced(decision, "loop_guard", "hold", why)
            return Evaluation(ticket_id, facts, decision, [], link=link, held=why, seen=seen)
        owner = await self._ownership(ticket, decision, today, group_name(ticket, catalog))
        if owner.hold:
            decision = _traced(decision, "ownership", "hold", owner.hold)
            held = {"held": owner.hold, "owned_since": owner.owned_since}
            decision = decision.model_copy(update={"ownership": held})
            return Evaluation(ticket_id, facts, decision, [], link=link, held=owner.hold, seen=seen)
        writes = []
        for linked_id in linked_ticket_ids(decision, ticket_id):
            linked = (await self.zendesk.get_ticket(linked_id, priority=priority))["ticket"]
            seen[linked_id] = list(linked.get("tags") or [])
            note = plan_linked_note(decision, linked)
            if note:
                writes.append(PlannedWrite(note, linked["updated_at"]))
        reply = plan_reply(decision, ticket)
        if reply:
            writes.append(PlannedWrite(reply, ticket["updated_at"]))
        macro = await self._macro_effect(decision, ticket, priority)
        own = plan_ticket_write(
            decision, ticket, self.policy, catalog, macro, keep_place=owner.keep_place
        )
        verdict = await loops.judge(
            own, ticket, decision.queue, self.clock(), group_name(ticket, catalog)
        )
        if verdict.hold:
            decision = _traced(decision, "loop_guard", "hold", verdict.hold)
        if verdict.write:
            writes.append(PlannedWrite(verdict.write, ticket["updated_at"]))
        return Evaluation(
            ticket_id, facts, decision, writes, link=link, held=verdict.hold, seen=seen
        )

    async def _decide(
        self, ticket: dict[str, Any], facts: TicketFacts, today: date, priority: Priority
    ) -> tuple[TicketFacts, Decision]:
        """Decide; when a note quotes the user, read the latest public comment and decide
        again with it (pure both times; the comment is not a case fact, so not in the key)."""
        decision = self._decision(facts, today)
        kinds = "+".join(note.kind for note in decision.notes)
        if any(kind in kinds for kind in QUOTING_NOTES):
            latest = await self._latest_public_comment(ticket, priority)
            if latest:
                part = facts.ticket.model_copy(update={"latest_public_comment": latest})
                facts = facts.model_copy(update={"ticket": part})
                decision = self._decision(facts, today)
        return facts, decision

    def _decision(self, facts: TicketFacts, today: date) -> Decision:
        key = facts_key(facts.model_dump(mode="json", exclude_none=True))
        return decide(facts, self.policy, today).model_copy(update={"facts_key": key})

    async def _latest_public_comment(self, ticket: dict[str, Any], priority: Priority) -> str:
        """The requester's latest public comment after the description (not our replies)."""
        if isinstance(ticket.get("comment_count"), int) and ticket["comment_count"] <= 1:
            return ""  # the description alone (`comment_count` sideload): no read
        comments = await self.zendesk.list_comments(int(ticket["id"]), priority=priority)
        requester = ticket.get("requester_id")
        public = [
            c
            for c in comments
            if c.get("public") and (requester is None or c.get("author_id") == requester)
        ]
        return str(public[-1].get("body") or "") if len(public) > 1 else ""

    async def _ownership(
        self, ticket: dict[str, Any], decision: Decision, today: date, group: str | None
    ) -> Verdict:
        """Whether the service may act on a ticket it handed to a queue (ownership.py)."""
        history = await self.store.decisions_for_ticket(int(ticket["id"]), limit=HISTORY_LIMIT)
        hand_off = last_hand_off(history)
        return judge(hand_off, decision.facts_key, ticket, group, self.policy, today)

    async def record(
        self, event: StoredEvent, evaluation: Evaluation, done: list[dict[str, Any]]
    ) -> Result:
        """Store the decision with the writes made; the explain history; the
        ticket's timers (app/worker/timers.py).

        The one place a decision becomes JSON: the record is what the history shows.
        Writes a crashed attempt made but never recorded join them (`intents.py`)."""
        decision = evaluation.decision
        done = [*evaluation.recovered, *done]
        outcome = "applied" if done else "noop"
        facts = _facts_json(evaluation)
        decision_id = await self.store.record_decision(
            DecisionRecord(
                ticket_id=evaluation.ticket_id,
                event_id=event.id,
                policy_version=self.policy.version,
                facts=facts,
                decision=annotate_timer(decision.model_dump(mode="json"), event)
                if decision
                else {},
                writes=done,
                outcome=outcome,
            )
        )
        await self._after_writes(evaluation, done)
        if decision is None:
            return Result(outcome, decision_id)
        await self.store.set_timers(
            evaluation.ticket_id,
            timer_specs(decision),
            policy_version=self.policy.version,
            decision_id=decision_id,
        )
        return Result(outcome, decision_id, decision.queue, decision.eligibility.code)

    async def _after_writes(self, evaluation: Evaluation, done: list[dict[str, Any]]) -> None:
        """The ping-pong hold, once the ping-pong note was written (single or bulk path)."""
        loops = self.loops
        for write in done:
            if is_pingpong_write(write) and evaluation.decision is not None:
                marker = decision_marker(evaluation.decision)
                await loops.hold(
                    evaluation.ticket_id, marker, self.clock(), evaluation.decision.queue
                )
                if self.merge_metrics is not None:
                    self.merge_metrics.pingpong.inc()

    async def handle(self, event: StoredEvent, today: date) -> Result:
        if event.ticket_id is None:
            return Result("skipped")
        if is_merge_event(event):
            return await self._repair_merge(event, today)
        if await self.loops.is_payload_echo(event.ticket_id, event.payload):
            log.info(
                "echo of the service's own update: no Zendesk call",
                extra={"event_id": event.id, "ticket_id": event.ticket_id},
            )
            return Result("noop")
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

    async def _repair_merge(self, event: StoredEvent, today: date) -> Result:
        """`zen:event-type:ticket.merged`: detect and repair (merge_repair.py)."""
        try:
            repaired = await self.repairs.on_event(event, today, zendesk_priority(event.priority))
        except Conflict as exc:
            raise ConflictStorm(f"merge repair for ticket {event.ticket_id}: {exc}") from exc
        return Result("applied" if repaired.wrote else "noop")

    async def _decide_and_apply(self, event: StoredEvent, ticket_id: int, today: date) -> Result:
        priority = zendesk_priority(event.priority)
        bundle = await self.zendesk.get_ticket(
            ticket_id, include=("users", "organizations", "comment_count"), priority=priority
        )
        ticket = bundle["ticket"]
        repaired = await self._merge_signs(ticket, today, priority)
        if repaired.wrote and int(ticket_id) in {int(w["ticket_id"]) for w in repaired.writes}:
            ticket = (await self.zendesk.get_ticket(ticket_id, priority=priority))["ticket"]
        evaluation = await self.reconcile(
            await self.evaluate_ticket(ticket, today, priority, deadline=is_timer_event(event))
        )
        if evaluation.decision is None:
            return Result("applied" if repaired.wrote else "skipped")
        # Linked tickets come first in the plan: after a crash between writes their
        # markers are already there, so the retry writes only what is missing.
        done = []
        intent = await self.keep_intent(event, evaluation)
        stamps: dict[int, str] = {}  # a second update of one ticket (reply, then decision)
        for planned in evaluation.writes:
            answer = await self.zendesk.update_ticket(
                planned.write.ticket_id,
                planned.write.changes,
                updated_stamp=stamps.get(planned.write.ticket_id, planned.updated_stamp),
                priority=priority,
            )
            stamp = (answer.get("ticket") or {}).get("updated_at")
            if stamp:
                stamps[planned.write.ticket_id] = str(stamp)
            done.append(planned.as_json() | {"result": "ok", "updated_at": stamp, "intent": intent})
            # Remember at once: the echo of this write may arrive before the record.
            await self.loops.remember_write(planned.write.ticket_id, stamp, planned.write.marker)
        return await self.record(event, evaluation, done)

    async def reconcile(self, evaluation: Evaluation) -> Evaluation:
        """Before anything is written: record what a crashed attempt wrote to these
        tickets but never recorded (`intents.py`)."""
        decision = evaluation.decision
        recovery = await self.intents.recover(
            evaluation.ticket_id,
            evaluation.seen,
            decision.model_dump(mode="json") if decision is not None else None,
        )
        if recovery.record is not None:
            await self.store.record_decision(recovery.record)
            if any(is_pingpong_write(w) for w in recovery.record.writes):
                marker = recorded_decision_marker(recovery.record.decision)
                queue = recovery.record.decision.get("queue")
                await self.loops.hold(evaluation.ticket_id, marker, self.clock(), queue)
            log.warning(
                "recorded the decision a crashed attempt applied",
                extra={"event_id": recovery.record.event_id, "ticket_id": evaluation.ticket_id},
            )
        return replace(evaluation, recovered=recovery.writes)

    async def keep_intent(self, event: StoredEvent, evaluation: Evaluation) -> str | None:
        """Before the first write: what is about to be written, for crash recovery;
        returns the id every write made under it carries in the log."""
        if not evaluation.writes or evaluation.decision is None:
            return None
        intent = WriteIntent(
            id=self.intents.new_id(),
            ticket_id=evaluation.ticket_id,
            event_id=event.id,
            marker=decision_marker(evaluation.decision),
            policy_version=self.policy.version,
            facts=_facts_json(evaluation),
            decision=evaluation.decision.model_dump(mode="json"),
            writes=tuple(planned.as_json() for planned in evaluation.writes),
        )
        await self.intents.keep(intent)
        return intent.id

    async def _merge_signs(
        self, ticket: dict[str, Any], today: date, priority: Priority
    ) -> RepairOutcome:
        try:
            return await self.repairs.check_ticket(ticket, today, priority)
        except Conflict as exc:
            raise ConflictStorm(f"merge repair around ticket {ticket.get('id')}: {exc}") from exc

    async def _macro_effect(
        self, decision: Decision, ticket: dict[str, Any], priority: Priority
    ) -> MacroEffect | None:
        """A tag-only macro's effect comes from its definition (loaded with the
        catalog): no read. Any other macro is asked of Zendesk (one `apply` read)."""
        title = decision.macro
        if not title or decision_marker(decision) in (ticket.get("tags") or []):
            return None
        info = (await self.catalog.get()).macro(title)
        if info.tag_only:
            return macro_from_definition(info)
        changes: dict[str, Any] = await self.zendesk.apply_macro(
            int(ticket["id"]),
            info.id,
            current=ticket,
            public_comments=self.policy.settings.macro_comments == "as_macro",
            priority=priority,
        )
        return macro_from_apply(changes, ticket)


def _facts_json(evaluation: Evaluation) -> dict[str, Any]:
    facts = evaluation.facts.model_dump(mode="json", exclude_none=True) if evaluation.facts else {}
    if evaluation.link is not None:
        facts["linked_mediation_search"] = evaluation.link.as_json()
    return facts


def _traced(decision: Decision, step: str, outcome: str, why: str) -> Decision:
    trace = [*decision.trace, TraceStep(step=step, outcome=outcome, why=why)]
    return decision.model_copy(update={"trace": trace})


def pipeline_for(services: Services) -> Pipeline:
    return Pipeline(
        store=services.store,
        zendesk=services.zendesk,
        catalog=services.catalog,
        marketplace=services.marketplace,
        policy=services.policy,
        clock=services.clock,
        merge_metrics=merge_metrics(services.metrics),
        zendesk_subdomain=services.settings.zendesk_subdomain,
    )
