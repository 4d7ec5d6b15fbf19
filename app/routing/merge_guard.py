"""'Please avoid merging into ANY Dispute / Mediation tickets at all times, use the
appropriate Tag-only macro instead.' A merge cannot be undone, so when in doubt: blocked."""

from __future__ import annotations

from . import guidance, notes
from .context import Context
from .escalation import macro_title
from .facts import Inquiry, MergeRequest
from .missing import Fact
from .outcome import Outcome, Path


def dispute_ticket_reason(ctx: Context) -> str | None:
    """Why this ticket is a Dispute / Mediation ticket, or None."""
    ticket, policy = ctx.facts.ticket, ctx.policy
    if ticket.group is not None and ticket.group in policy.mediation_groups():
        return f"this ticket is in the Mediation group {ticket.group!r}"
    if ticket.form is not None and ticket.form == policy.forms["dispute"]:
        return f"this ticket uses the form {ticket.form!r}"
    tagged = sorted(set(ticket.tags or []) & set(policy.merge_guard.dispute_ticket_tags))
    if tagged:
        return f"this ticket carries the Mediation tag(s) {', '.join(tagged)}"
    return None


def merge_reason(ctx: Context, merge: MergeRequest) -> str | None:
    own = dispute_ticket_reason(ctx)
    if own is not None:
        return own
    linked = ctx.linked.id
    involved = {*(merge.source_ids or []), *([merge.target_id] if merge.target_id else [])}
    if linked is not None and linked in involved:
        return f"ticket #{linked} is the Mediation ticket of this case"
    if merge.target_id is None:
        return "the merge target is unknown, and a merge cannot be undone"
    return None


def step(ctx: Context) -> Outcome | None:
    if ctx.inquiry != Inquiry.MERGE_REQUESTED:
        return None
    merge = ctx.facts.merge or MergeRequest()
    reason = merge_reason(ctx, merge)
    if reason is None:
        ctx.trace.add("merge_guard", "allowed", "no Dispute / Mediation ticket is involved")
        return Outcome(path=Path.MERGE_ALLOWED, merge="allowed")
    ctx.trace.add("merge_guard", "blocked", reason)
    macro = macro_title(ctx)
    return Outcome(
        path=Path.MERGE_BLOCKED,
        macro=True,
        merge="blocked",
        notes=[ctx.note(notes.merge_blocked(ctx, reason, macro), "merge_blocked")],
        guidance=guidance.lines(ctx, "merge_blocked", macro=macro),
        missing=[Fact.MERGE_TARGET.value] if merge.target_id is None else [],
    )
