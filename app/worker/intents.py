"""Crash-safe recording: the writes a decision is about to make, kept before it makes them.

The Zendesk write and the decision record are two systems; a crash between
them (kill -9, OOM, a lost host) leaves the ticket changed and the decision log
without the change. Before its first write the worker stores a write intent
(store kv `intent:<ticket id>`: an id, the decision's marker, the event and the
planned writes). On the next attempt the decision is made again; when a ticket
it reads already carries that decision's marker (`plan.carries_marker`, the one
test of "the marker on the ticket is the marker of the decision we record"),
the intent names the writes that put it there, and unless a recorded decision
already holds this intent's writes, they are recorded with the decision as
`applied` (each write marked `recovered`) instead of a `noop`.

The recovery is pure (`recovered_writes`); `IntentLog` does the store I/O.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.store import DecisionRecord, EventStore
from app.worker.plan import MARKER_PREFIX, carries_marker

INTENT_KEY = "intent:{ticket_id}"
RECOVERED = "made before a crash; recorded by the next attempt"

Tags = Mapping[int, Sequence[str]]


@dataclass(frozen=True, slots=True)
class WriteIntent:
    """What an attempt is about to write, and the record it will make of it."""

    id: str
    ticket_id: int  # the decided ticket (the decision is recorded under it)
    event_id: int
    marker: str  # the decision's marker, as the writes put it on the tickets
    policy_version: str
    facts: dict[str, Any]
    decision: dict[str, Any]
    writes: tuple[dict[str, Any], ...]  # `PlannedWrite.as_json()` of each write, in order

    def as_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "ticket_id": self.ticket_id,
                "event_id": self.event_id,
                "marker": self.marker,
                "policy_version": self.policy_version,
                "facts": self.facts,
                "decision": self.decision,
                "writes": list(self.writes),
            }
        )

    @classmethod
    def parse(cls, raw: str | None) -> WriteIntent | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(
                str(data["id"]),
                int(data["ticket_id"]),
                int(data["event_id"]),
                str(data["marker"]),
                str(data["policy_version"]),
                dict(data["facts"]),
                dict(data["decision"]),
                tuple(dict(w) for w in data["writes"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def recovered(self, tickets: Collection[int]) -> list[dict[str, Any]]:
        """The intent's writes to `tickets`, as the log shows writes made before a crash."""
        return [
            w | {"result": "ok", "intent": self.id, "recovered": RECOVERED}
            for w in self.writes
            if int(w["ticket_id"]) in tickets
        ]

    def as_record(self) -> DecisionRecord:
        """The record the crashed attempt would have made: applied, with its writes."""
        every = {int(w["ticket_id"]) for w in self.writes}
        return DecisionRecord(
            ticket_id=self.ticket_id,
            event_id=self.event_id,
            policy_version=self.policy_version,
            facts=self.facts,
            decision=self.decision,
            writes=self.recovered(every),
            outcome="applied",
        )


@dataclass(frozen=True, slots=True)
class Recovery:
    record: DecisionRecord | None = None  # the crashed attempt's whole decision, to record
    writes: tuple[dict[str, Any], ...] = ()  # its writes to add to the decision being made


def recorded(intent: WriteIntent, history: Sequence[DecisionRecord]) -> bool:
    """True when a decision in the log already holds this intent's writes."""
    return any(w.get("intent") == intent.id for r in history for w in r.writes)


def recover(
    intent: WriteIntent | None,
    seen: Tags,
    decision: dict[str, Any] | None,
    history: Sequence[DecisionRecord],
) -> Recovery:
    """What of an unrecorded intent reached Zendesk (pure).

    `seen`: the tags of each ticket read for the decision now being made. The
    decided ticket is written last: when it carries the intent's marker, every
    write was made and the intent's own decision is recorded as applied (the
    decision made now, on the changed ticket, is recorded as usual). When only
    linked tickets carry it and the decision now is the same, the linked writes
    join the writes this attempt makes."""
    if intent is None or recorded(intent, history):
        return Recovery()
    if carries_marker(seen.get(intent.ticket_id) or (), intent.decision):
        return Recovery(record=intent.as_record())
    if decision is None or not carries_marker([intent.marker], decision):
        return Recovery()
    linked = {t for t, tags in seen.items() if carries_marker(tags, intent.decision)}
    return Recovery(writes=tuple(intent.recovered(linked - {intent.ticket_id})))


@dataclass
class IntentLog:
    """The store side: keep an intent before writing, find it after a crash."""

    store: EventStore

    async def keep(self, intent: WriteIntent) -> None:
        """Store the intent, replacing the decided ticket's previous one (recovered
        first, see `Pipeline.reconcile`)."""
        await self.store.set_kv(INTENT_KEY.format(ticket_id=intent.ticket_id), intent.as_json())

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    async def recover(
        self, ticket_id: int, seen: Tags, decision: dict[str, Any] | None
    ) -> Recovery:
        """`recover` with the intent and the ticket's decision log read; no store
        read at all when no ticket read carries a decision marker."""
        if not any(tag.startswith(MARKER_PREFIX) for tags in seen.values() for tag in tags):
            return Recovery()
        intent = WriteIntent.parse(await self.store.get_kv(INTENT_KEY.format(ticket_id=ticket_id)))
        if intent is None:
            return Recovery()
        history = await self.store.decisions_for_ticket(ticket_id, limit=100)
        return recover(intent, seen, decision, history)
