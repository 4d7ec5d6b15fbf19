"""'Accounting Entity Still Suspended & Dispute Now Closed'.

"DO NOT resume an AE if suspended by Mediation. First, find out the segment of
user in OBO For VSB+, Small Business, Mid-Market, Large Business, or TR
Freelancer, assign ticket to HV Mediation and save as "open" for review. For
VSB and regular freelancers, assign ticket to Mediation - Tier I and save as
"open" for review."
"""

from __future__ import annotations

from . import guidance, notes, segments
from .asking import ask
from .context import Context
from .facts import Inquiry, Role
from .missing import Fact
from .outcome import Outcome, Path


def step(ctx: Context) -> Outcome | None:
    if ctx.inquiry != Inquiry.ACCOUNT_SUSPENDED:
        return None
    suspended = ctx.account.suspended_by_mediation
    if suspended is None:
        return ask(ctx, [Fact.SUSPENDED_BY_MEDIATION])
    if not suspended:
        ctx.trace.add(
            "suspended_account", "skip", "the accounting entity was not suspended by Mediation"
        )
        return Outcome(
            Path.SUSPENDED_ACCOUNT_NOT_MEDIATION,
            guidance=guidance.lines(ctx, "suspended_account_not_mediation"),
        )
    closed = ctx.dispute.closed
    if closed is None:
        return ask(ctx, [Fact.DISPUTE_CLOSED])
    if not closed:
        return dispute_open(ctx)
    return review(ctx)


def dispute_open(ctx: Context) -> Outcome:
    ctx.trace.add(
        "suspended_account", "hold", "suspended by Mediation and the dispute is still open"
    )
    return Outcome(
        Path.SUSPENDED_ACCOUNT_DISPUTE_OPEN,
        notes=[ctx.note(notes.do_not_resume(ctx, None, ""), "do_not_resume")],
        guidance=guidance.lines(ctx, "suspended_account_dispute_open"),
    )


def review(ctx: Context) -> Outcome:
    verdict = segments.requester_high_value(ctx)
    if verdict.value is None:
        return ask(ctx, list(verdict.missing))
    queue = review_queue(ctx, bool(verdict.value))
    if queue == ctx.policy.routes.enterprise:
        verdict = segments.enterprise(ctx)  # say why Enterprise, not why not HV
    ctx.trace.add("suspended_account", "chosen", f"{queue}: {verdict.why}; never resume the AE")
    return Outcome(
        Path.SUSPENDED_ACCOUNT_REVIEW,
        queue=queue,
        status=ctx.policy.settings.suspended_account_status,
        macro=True,
        notes=[ctx.note(notes.do_not_resume(ctx, queue, verdict.why), "do_not_resume")],
        guidance=guidance.lines(ctx, "suspended_account_review"),
    )


def review_queue(ctx: Context, high_value: bool) -> str:
    """HV Mediation for high-value users, Mediation Tier I otherwise; Enterprise to its queue."""
    routes = ctx.policy.routes
    enterprise = ctx.role == Role.CLIENT and segments.enterprise(ctx).value
    if enterprise:
        return routes.enterprise
    return routes.high_value if high_value else routes.mediation
