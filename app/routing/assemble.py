"""Turn a path's outcome into the `Decision` (docs/design.md, "Decision")."""

from __future__ import annotations

from . import deadlines, merge_guard
from .arbitration import report as arbitration_report
from .context import Context
from .decision import (
    Decision,
    EligibilityVerdict,
    FollowUp,
    MergeVerdict,
    Note,
    PolicyStamp,
    TagChanges,
)
from .eligibility_result import not_assessed
from .escalation import dispute_fields, macro_title
from .outcome import HANDS_OFF, Outcome, Path
from .outcome_note import answer_user, outcome_note

MEDIATION_PATHS = frozenset(
    {
        Path.MEDIATION_ESCALATION,
        Path.WITH_MEDIATION_NOTE,
        Path.WITH_MEDIATION_REASSIGN,
        Path.SUSPENDED_ACCOUNT_REVIEW,
    }
)


def assemble(ctx: Context, outcome: Outcome) -> Decision:
    policy = ctx.policy
    result = outcome.eligibility or not_assessed(f"not needed on path {outcome.path.value}")
    follow_up = outcome.follow_up
    sent, draft = answer_user(ctx, outcome)
    note = outcome_note(ctx, outcome, sent, draft)
    return Decision(
        ticket_id=ctx.ticket_id,
        eligible=result.eligible,
        eligibility=EligibilityVerdict(code=result.code, explanation=result.explanation),
        queue=outcome.queue,
        status=outcome.status,
        macro=macro_title(ctx) if outcome.macro else None,
        tags=tag_changes(ctx, outcome),
        fields=dispute_fields(ctx) if outcome.dispute_form else {},
        notes=merged_notes(outcome.notes, lead=note),
        merge=merge_verdict(ctx, outcome),
        reply_guidance=outcome.guidance,
        trace=ctx.trace.steps,
        policy=PolicyStamp(name=policy.name, version=policy.version),
        path=outcome.path.value,
        form=policy.forms["dispute"] if outcome.dispute_form else None,
        brand=policy.brands["help_center"] if outcome.dispute_form else None,
        missing=outcome.missing,
        arbitration=arbitration_report(ctx),
        follow_up=FollowUp(after=follow_up[0], reason=follow_up[1]) if follow_up else None,
        deadlines=[] if outcome.path in HANDS_OFF else deadlines.listed(ctx),
        public_reply=sent,
    )


def tag_changes(ctx: Context, outcome: Outcome) -> TagChanges:
    """Add the routed marker and the path tag; remove service tags of an earlier decision."""
    if outcome.path in HANDS_OFF:
        return TagChanges()
    roles = ctx.policy.tag_roles
    add = [roles.routed, ctx.policy.path_tag(outcome.path.value), *deadlines.tags(ctx)]
    if outcome.path == Path.NEEDS_INFO:
        add.append(roles.needs_info)
    current = ctx.facts.ticket.tags or []
    remove = [tag for tag in dict.fromkeys(current) if ctx.policy.owns_tag(tag) and tag not in add]
    return TagChanges(add=add, remove=remove)


def merged_notes(notes: list[Note], lead: Note | None = None) -> list[Note]:
    """At most one note per ticket (one comment per ticket update), in first-seen order;
    `lead` (the outcome note) opens its ticket's note."""
    bodies: dict[int, list[str]] = {}
    kinds: dict[int, list[str]] = {}
    for note in [*notes, lead] if lead is not None else notes:
        bodies.setdefault(note.ticket_id, []).append(note.body)
        kinds.setdefault(note.ticket_id, []).append(note.kind)
    if lead is not None:  # appended last: move it to the front of its ticket's note
        tid = lead.ticket_id
        bodies[tid] = [bodies[tid][-1], *bodies[tid][:-1]]
        kinds[tid] = [kinds[tid][-1], *kinds[tid][:-1]]
    return [
        Note(ticket_id=tid, body="\n\n".join(parts), kind="+".join(k for k in kinds[tid] if k))
        for tid, parts in bodies.items()
    ]


def merge_verdict(ctx: Context, outcome: Outcome) -> MergeVerdict | None:
    """Dispute / Mediation tickets (and tickets of a case with Mediation) must not be merged."""
    if outcome.merge is not None or outcome.path in HANDS_OFF:
        return outcome.merge
    related = (
        outcome.path in MEDIATION_PATHS
        or ctx.policy.is_mediation_queue(outcome.queue)
        or ctx.linked.id is not None
        or merge_guard.dispute_ticket_reason(ctx) is not None
    )
    return "blocked" if related else None
