"""Loop guards: our own updates echo back, and triggers can bounce a ticket.

Every update the service makes fires Zendesk triggers (and ticket events)
again. Three layers keep that from turning into more writes:

1. The decision marker (`plan.py`): a decision already applied writes nothing.
2. Echo stamps (here): after each write the service keeps the ticket's new
   `updated_at` and the write's marker (store kv `echo:<ticket id>`). An event
   for a ticket whose `updated_at` is still that stamp was caused by our own
   update and nothing changed since, so it writes nothing, even where no marker
   applies (a note the service put on a Mediation ticket it never routed
   itself). When the webhook's payload itself shows that state (its
   `updated_at` is the stamp and its tags carry the marker), the event costs
   no Zendesk call at all (`is_payload_echo`).
3. Ping-pong (here): a Zendesk trigger that moves a ticket back (and drops our
   tags) while the service keeps moving it forward would loop forever. The
   service counts its own group changes of the ticket in the decision history
   (`store.decisions_for_ticket`) within a window; past `max_group_writes` it
   stops: no group write, one internal note for a human and the tag
   `triage_pingpong`. That decision stays on hold for the ticket (kv
   `pingpong:<ticket id>`); a different decision (new facts) is weighed afresh.

The counting and the planning are pure; `LoopGuard` does the store reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.store import DecisionRecord, EventStore
from app.worker.plan import TicketWrite, recorded_decision_marker

PINGPONG_TAG = "triage_pingpong"
PINGPONG_SUMMARY = "ping-pong: group change withheld"
ECHO_KEY = "echo:{ticket_id}"
PINGPONG_KEY = "pingpong:{ticket_id}"


@dataclass(frozen=True, slots=True)
class PingPongLimits:
    max_group_writes: int = 3  # the service's own group changes of one ticket ...
    window: timedelta = timedelta(hours=1)  # ... within this long, before it stops


@dataclass(frozen=True, slots=True)
class Verdict:
    write: TicketWrite | None  # what to write on the ticket instead (None: nothing)
    hold: str | None = None  # why the planned write was withheld or changed


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def own_group_write(write: dict[str, Any], ticket_id: int) -> bool:
    body = (write.get("body") or {}).get("ticket") or {}
    return int(write.get("ticket_id") or 0) == ticket_id and "group_id" in body


def is_pingpong_write(write: dict[str, Any]) -> bool:
    return PINGPONG_SUMMARY in (write.get("summary") or [])


def group_writes(
    records: Sequence[DecisionRecord], ticket_id: int, now: datetime, window: timedelta
) -> list[DecisionRecord]:
    """The applied decisions that changed this ticket's group within the window."""
    since = _aware(now) - window
    return [
        r
        for r in records
        if r.outcome == "applied"
        and r.decided_at is not None
        and _aware(r.decided_at) >= since
        and any(own_group_write(w, ticket_id) for w in r.writes)
    ]


def pingpong_note(queue: str | None, count: int, window: timedelta, group_now: str | None) -> str:
    hours = window.total_seconds() / 3600
    span = f"{hours:g} hour" + ("" if hours == 1 else "s")
    back = f" to {group_now}" if group_now else ""
    return (
        f"Triage stopped routing this ticket: it moved it to {queue or 'its queue'} {count} "
        f"times in the last {span}, and each time it was moved back{back} (a Zendesk trigger "
        "or automation, or a person). Triage will not move it again. Please check the "
        "triggers on this ticket's groups and tags, then route it by hand."
    )


def plan_pingpong(
    write: TicketWrite,
    ticket: dict[str, Any],
    queue: str | None,
    count: int,
    limits: PingPongLimits,
    group_now: str | None,
) -> TicketWrite:
    """Instead of the group change: one internal note and the `triage_pingpong` tag."""
    tags = sorted(set(ticket.get("tags") or []) | {PINGPONG_TAG})
    changes = {
        "comment": {
            "body": pingpong_note(queue, count, limits.window, group_now),
            "public": False,
        },
        "tags": tags,
    }
    added = () if PINGPONG_TAG in (ticket.get("tags") or []) else (PINGPONG_TAG,)
    summary = [PINGPONG_SUMMARY, f"tags +[{PINGPONG_TAG}]"]
    return replace(write, changes=changes, summary=summary, add_tags=added, remove_tags=())


def judge(
    write: TicketWrite | None,
    ticket: dict[str, Any],
    *,
    queue: str | None,
    history: Sequence[DecisionRecord],
    on_hold_marker: str | None,
    now: datetime,
    limits: PingPongLimits,
    group_now: str | None = None,
) -> Verdict:
    """Pure: what to do with the planned write of the decided ticket."""
    if write is None:
        return Verdict(None)
    if on_hold_marker is not None and on_hold_marker == write.marker:
        return Verdict(None, "this decision is on hold after a ping-pong (see the note)")
    if "group_id" not in write.changes:
        return Verdict(write)
    ticket_id = int(ticket["id"])
    reported = [
        r
        for r in history
        if _recent(r, now, limits) and any(is_pingpong_write(w) for w in r.writes)
    ]
    count = len(group_writes(history, ticket_id, now, limits.window))
    if any(recorded_decision_marker(r.decision) == write.marker for r in reported):
        return Verdict(None, "this decision is on hold after a ping-pong (see the note)")
    if reported:
        changes = {k: v for k, v in write.changes.items() if k not in ("group_id", "assignee_id")}
        why = "ping-pong already reported: the group is left as it is"
        return Verdict(replace(write, changes=changes), why) if changes else Verdict(None, why)
    if count >= limits.max_group_writes:
        why = f"the service changed this ticket's group {count} times within {limits.window}"
        return Verdict(plan_pingpong(write, ticket, queue, count, limits, group_now), why)
    return Verdict(write)


def payload_state(payload: dict[str, Any]) -> tuple[datetime, set[str]] | None:
    """The ticket's `updated_at` and tags as a webhook payload reports them (trigger
    body or event-subscription `detail`), or None when it does not say both."""
    detail = payload.get("detail")
    source = detail if isinstance(detail, dict) else payload
    stamp = _moment(source.get("updated_at"))
    raw = source.get("tags")
    if isinstance(raw, str):
        tags = set(raw.split())
    elif isinstance(raw, list):
        tags = {str(t) for t in raw}
    else:
        return None
    return (stamp, tags) if stamp is not None else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _aware(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def _echo_record(raw: str | None) -> tuple[str, str | None] | None:
    """(stamp, marker) from the kv value; older values hold the stamp alone."""
    if not raw:
        return None
    if raw.startswith("{"):
        try:
            value = json.loads(raw)
            return str(value["stamp"]), (str(value["marker"]) if value.get("marker") else None)
        except (ValueError, KeyError, TypeError):
            return None
    return raw, None


def _recent(record: DecisionRecord, now: datetime, limits: PingPongLimits) -> bool:
    return record.decided_at is not None and _aware(record.decided_at) >= _aware(now) - (
        limits.window
    )


@dataclass
class LoopGuard:
    """The store side of the loop guards (echo stamps, ping-pong hold)."""

    store: EventStore
    limits: PingPongLimits = PingPongLimits()

    async def is_echo(self, ticket: dict[str, Any]) -> bool:
        """True when the ticket is exactly as our last write left it."""
        echo = _echo_record(await self.store.get_kv(ECHO_KEY.format(ticket_id=int(ticket["id"]))))
        return echo is not None and echo[0] == str(ticket.get("updated_at") or "")

    async def is_payload_echo(self, ticket_id: int, payload: dict[str, Any]) -> bool:
        """True when the webhook's payload shows the ticket as our last write left it:
        its `updated_at` is that write's stamp and its tags carry that write's marker."""
        state = payload_state(payload)
        if state is None:
            return False
        echo = _echo_record(await self.store.get_kv(ECHO_KEY.format(ticket_id=int(ticket_id))))
        if echo is None or echo[1] is None or echo[1] not in state[1]:
            return False
        return _moment(echo[0]) == state[0]

    async def remember_write(
        self, ticket_id: int, updated_at: str | None, marker: str | None = None
    ) -> None:
        if updated_at:
            value = json.dumps({"stamp": str(updated_at), "marker": marker})
            await self.store.set_kv(ECHO_KEY.format(ticket_id=int(ticket_id)), value)

    async def on_hold_marker(self, ticket_id: int) -> str | None:
        raw = await self.store.get_kv(PINGPONG_KEY.format(ticket_id=int(ticket_id)))
        if not raw:
            return None
        try:
            marker = json.loads(raw).get("marker")
        except (ValueError, AttributeError):
            return None
        return str(marker) if marker else None

    async def hold(self, ticket_id: int, marker: str, at: datetime, queue: str | None) -> None:
        value = {"marker": marker, "at": _aware(at).isoformat(), "queue": queue}
        await self.store.set_kv(PINGPONG_KEY.format(ticket_id=int(ticket_id)), json.dumps(value))

    async def judge(
        self,
        write: TicketWrite | None,
        ticket: dict[str, Any],
        queue: str | None,
        now: datetime,
        group_now: str | None = None,
    ) -> Verdict:
        if write is None:
            return Verdict(None)
        on_hold = await self.on_hold_marker(int(ticket["id"]))
        history: list[DecisionRecord] = []
        if "group_id" in write.changes:
            history = await self.store.decisions_for_ticket(int(ticket["id"]), limit=100)
        return judge(
            write,
            ticket,
            queue=queue,
            history=history,
            on_hold_marker=on_hold,
            now=now,
            limits=self.limits,
            group_now=group_now,
        )
