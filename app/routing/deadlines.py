"""Deadlines attach to a decision through one function: `track(ctx, kind, start)`.

A rule whose answer changes when a clock runs out calls `track` with the
clock's kind (a key of the policy's `deadlines:` block) and the day the clock
started; it gets the due day back and the decision lists the deadline (what,
due when, what happens then), the note says it in plain words, and the worker
keeps a durable timer that decides the ticket again when it is over. A rule
that tracks a clock it does not end up depending on costs one re-decision that
writes nothing.
"""

from __future__ import annotations

import datetime as dt

from . import calendar
from .context import Context
from .deadline_specs import calendar_of, days_of, length_of
from .decision import Deadline
from .policy import Policy


def track(ctx: Context, kind: str, start: dt.date, due: dt.date | None = None) -> dt.date:
    """Attach the `kind` clock started on `start` to the decision; return its due day.
    `due`: a rule that counts its clock in its own way (to a weekday) gives its due day."""
    deadline = make(ctx.policy, kind, start, ctx.now, due)
    ctx.clocks[kind] = deadline
    state = "over" if deadline.over else "running"
    ctx.trace.add("deadline", state, f"{kind}: {deadline.plain}")
    return deadline.due


def is_over(ctx: Context, kind: str) -> bool:
    """True when a tracked clock of this decision has run out."""
    deadline = ctx.clocks.get(kind)
    return deadline is not None and deadline.over


def make(
    policy: Policy, kind: str, start: dt.date, today: dt.date, due: dt.date | None = None
) -> Deadline:
    """The deadline of a clock started on `start`, as seen on `today` (pure)."""
    spec = policy.deadlines[kind]
    length, days = length_of(policy, spec), days_of(policy, spec)
    business = calendar_of(policy, spec)
    due = due or calendar.due_day(business, start, length, days)
    over = calendar.is_over(due, today)
    values: dict[str, object] = {
        "due": calendar.plain_day(due),
        "start": calendar.plain_day(start),
        "length": length,
        "days": days,
        "then": spec.then,
        "calendar": business.label,
    }
    return Deadline(
        kind=kind,
        what=spec.what,
        start=start,
        due=due,
        over_at=calendar.over_at(due),
        length=length,
        days=days,
        calendar=business.label if days == "business" else None,
        over=over,
        then=spec.then,
        plain=policy.render(("deadlines", kind, "over" if over else "running"), values),
        timer=spec.timer,
        tag=spec.tag,
    )


def listed(ctx: Context) -> list[Deadline]:
    """The decision's deadlines, soonest first."""
    return sorted(ctx.clocks.values(), key=lambda d: (d.due, d.kind))


def note(ctx: Context) -> str | None:
    """The note's clock lines (the `notes.deadlines` template), or None without clocks."""
    if not ctx.clocks or "deadlines" not in ctx.policy.notes:
        return None
    lines = [deadline.plain for deadline in listed(ctx)]
    return ctx.policy.render(("notes", "deadlines"), {"deadlines": lines})


def tags(ctx: Context) -> list[str]:
    """A tag per running clock whose policy asks for one (tags never carry dates)."""
    return [d.tag for d in listed(ctx) if d.tag and not d.over]
