"""Who owns a ticket the service has handed to a queue (pure).

Once the service has handed a ticket to a queue, it acts on that ticket again
only on new facts (an agent-field change, a new contract state, a follow-up
inquiry: the case-facts key differs) or a deadline (the hand-off's follow-up
day has come), never because a day passed or the user wrote again. Even then it
never moves a ticket an agent has since moved (`keep_place`). A hold is written
into the decision's trace, "held: owned by agent since ...", so the history
says why nothing happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.routing import Policy
from app.store import DecisionRecord


@dataclass(frozen=True, slots=True)
class HandOff:
    """The service's latest applied decision that put the ticket in a queue."""

    queue: str
    facts_key: str | None
    follow_up_after: dt.date | None
    decided_at: dt.datetime | None
    owned_since: str | None = None  # when a hold first saw the agent's move


@dataclass(frozen=True, slots=True)
class Verdict:
    hold: str | None = None  # why nothing is written
    keep_place: bool = False  # act, but leave group and status as the agent left them
    owned_since: str | None = None


def last_hand_off(history: list[DecisionRecord]) -> HandOff | None:
    """From the newest-first history: the latest applied decision, if it set a queue."""
    since = None
    for record in history:
        decision = record.decision or {}
        ownership = decision.get("ownership") or {}
        since = since or ownership.get("owned_since")
        if not record.writes:
            continue
        queue = decision.get("queue")
        if not queue:
            return None
        follow = (decision.get("follow_up") or {}).get("after")
        return HandOff(
            queue=str(queue),
            facts_key=decision.get("facts_key"),
            follow_up_after=dt.date.fromisoformat(follow) if follow else None,
            decided_at=record.decided_at,
            owned_since=since,
        )
    return None


def moved_by_agent(hand_off: HandOff, group_now: str | None, policy: Policy) -> bool:
    spec = policy.queues.get(hand_off.queue)
    return spec is not None and group_now != spec.group


def judge(
    hand_off: HandOff | None,
    facts_key: str | None,
    ticket: dict[str, Any],
    group_now: str | None,
    policy: Policy,
    today: dt.date,
) -> Verdict:
    if hand_off is None:
        return Verdict()
    moved = moved_by_agent(hand_off, group_now, policy)
    new_facts = facts_key != hand_off.facts_key
    deadline = hand_off.follow_up_after is not None and today >= hand_off.follow_up_after
    if new_facts or deadline:
        return Verdict(keep_place=moved)
    if moved:
        since = hand_off.owned_since or str(ticket.get("updated_at") or "")
        return Verdict(hold=f"held: owned by agent since {since}", owned_since=since)
    day = hand_off.decided_at.date().isoformat() if hand_off.decided_at else "earlier"
    return Verdict(
        hold=f"held: handed to {hand_off.queue} on {day}; nothing new is known since "
        "(same case facts, no deadline due)"
    )
