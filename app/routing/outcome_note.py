"""The note every outcome leaves, and the public reply where the playbook answers the user.

Every decision that changes a ticket writes one internal note an agent can act
on: what was decided and why in one plain sentence each (policy `outcomes`),
what could not be read, what is missing and the exact field to fill in, what to
tell the user (the reply guidance), and the path's own note (the playbook's
forwarding / Client Retention / Mediation formats) after it. Where the playbook
solves the agent's ticket, the user gets a public reply (policy `replies`), or,
with `public_replies.enabled: false`, the ticket stays open with the reply
drafted in the note: no ticket is solved without an answer.
"""

from __future__ import annotations

from . import deadlines, guidance, notes
from .context import Context
from .decision import Note
from .missing import Fact
from .outcome import HANDS_OFF, Outcome
from .summary import plain_eligibility

SOLVED = "solved"


def public_reply(ctx: Context, outcome: Outcome) -> str | None:
    """The reply text of the path (policy `replies`), or None."""
    if outcome.reply is None or not ctx.policy.has_template(("replies", outcome.reply)):
        return None
    return ctx.policy.render(("replies", outcome.reply), guidance.mediation_contact(ctx))


def answer_user(ctx: Context, outcome: Outcome) -> tuple[str | None, str | None]:
    """(reply to send, reply to draft). Public replies off, or no reply for a path that
    would solve the ticket: the ticket stays open (a user is never solved unanswered)."""
    reply = public_reply(ctx, outcome)
    if reply is not None and ctx.policy.public_replies.enabled:
        return reply, None
    if outcome.status == SOLVED:
        why = "public replies are off" if reply is not None else "the path has no public reply"
        ctx.trace.add("answer_user", "hold", f"not solved: {why}; the ticket stays open")
        outcome.status = "open"
    return None, reply


def outcome_note(
    ctx: Context, outcome: Outcome, sent: str | None, draft: str | None
) -> Note | None:
    """The note on the decided ticket; None on paths that change nothing (hands off)."""
    if outcome.path in HANDS_OFF:
        return None
    key = outcome.path.value if outcome.path.value in ctx.policy.outcomes else "default"
    values: dict[str, object] = {
        "queue": outcome.queue or "",
        "status": outcome.status or "",
        "eligibility": plain_eligibility(outcome.eligibility),
        "path": outcome.path.value,
    }
    missing = [Fact(code) for code in outcome.missing]
    body: dict[str, object] = {
        "decided": ctx.policy.render(("outcomes", key, "decided"), values),
        "reason": ctx.policy.render(("outcomes", key, "reason"), values),
        "unreadable": list(ctx.facts.unreadable or []),
        "missing": notes.ask_agent(ctx, missing) if missing else "",
        "guidance": outcome.guidance,
        "reply_sent": sent is not None,
        "reply_draft": draft or "",
        "deadline": _deadline(ctx, outcome),
    }
    return ctx.note(ctx.policy.render(("notes", "outcome"), body), "outcome")


def _deadline(ctx: Context, outcome: Outcome) -> str:
    """The slot for deadlines: the decision's clocks in plain words (docs/playbook.md,
    "Clocks"), else the day the situation changes by itself, if any."""
    clocks = deadlines.note(ctx)
    if clocks:
        return clocks
    if outcome.follow_up is None:
        return ""
    day, reason = outcome.follow_up
    return f"{day}: {reason}"


def trace_unreadable(ctx: Context) -> None:
    for problem in ctx.facts.unreadable or []:
        ctx.trace.add("facts", "unreadable", f"could not read {problem}")
