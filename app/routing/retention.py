"""Client Retention ("Customer Experience Specialist"): past the window, UIR, NDF, follow-ups.

"If the last payment is 31-60 days ago (31-90, if HV CL or FL)" and "UIR
related inquiries" -> Client Retention Tier 2; "Freelancer/Client following up
with Hourly In Product Dispute" -> Client Retention Tier 2; "NDF (Freelancer's
who have been determined as NDF by RM)" -> Client Retention - NDF Daily.
"""

from __future__ import annotations

import datetime as dt

from . import deadlines, eligibility, fixed_price, guidance, segments
from .asking import ask
from .context import Context
from .eligibility_result import Code, Eligibility
from .facts import ContractType, InProductDispute, InProductStatus, Inquiry
from .handoff import handoff
from .missing import Fact
from .outcome import Outcome, Path

NDF_INQUIRIES = frozenset({Inquiry.DISPUTE, Inquiry.ABUSE_REPORT, Inquiry.UIR, Inquiry.FOLLOW_UP})


def ndf_step(ctx: Context) -> Outcome | None:
    if not ctx.freelancer.ndf or ctx.inquiry not in NDF_INQUIRIES:
        return None
    within = eligibility.assess(ctx)
    if within.eligible and ctx.policy.settings.ndf_within_mediation_window == "mediation":
        ctx.trace.skip("ndf", "freelancer is NDF but the case is eligible for Mediation (policy)")
        return None
    ctx.trace.add("ndf", "chosen", "the freelancer was determined as NDF by RM")
    return handoff(ctx, Path.NDF, "ndf", within)


def uir_step(ctx: Context) -> Outcome | None:
    if ctx.inquiry != Inquiry.UIR:
        return None
    ctx.trace.add("uir", "chosen", "UIR related inquiries go to Client Retention Tier 2")
    return handoff(ctx, Path.UIR, "client_retention")


def past_window(ctx: Context, result: Eligibility) -> Outcome | None:
    """31-60 days after the last payment (31-90 for high-value users) -> Client Retention Tier 2."""
    days, windows = result.days_since, ctx.policy.windows
    if not result.past_window or days is None or ctx.contract_type == ContractType.DIRECT_CONTRACT:
        return None
    if days <= windows.retention:
        ctx.trace.add(
            "retention",
            "chosen",
            f"last payment {days} days ago: {windows.mediation + 1}-{windows.retention}",
        )
        return handoff(ctx, Path.RETENTION_PAST_WINDOW, "client_retention", result)
    if days > windows.retention_high_value:
        ctx.trace.add(
            "retention",
            "not_chosen",
            f"last payment {days} days ago: past {windows.retention_high_value} days",
        )
        return None
    return high_value_past_window(ctx, result, days)


def high_value_past_window(ctx: Context, result: Eligibility, days: int) -> Outcome | None:
    windows = ctx.policy.windows
    verdict = segments.high_value_for_retention(ctx)
    span = f"{windows.retention + 1}-{windows.retention_high_value}"
    if verdict.value is None:
        return ask(ctx, list(verdict.missing), result)
    if not verdict.value:
        ctx.trace.add(
            "retention",
            "not_chosen",
            f"last payment {days} days ago ({span}) and not HV: {verdict.why}",
        )
        return None
    ctx.trace.add(
        "retention", "chosen", f"last payment {days} days ago ({span}) and HV: {verdict.why}"
    )
    return handoff(ctx, Path.RETENTION_PAST_WINDOW, "client_retention", result)


def in_product_follow_up(ctx: Context) -> Outcome | None:
    """'Request for Updates on In-product Dispute': reply, or Client Retention Tier 2 (hourly)."""
    if ctx.inquiry != Inquiry.FOLLOW_UP:
        return None
    in_product = ctx.dispute.in_product
    if in_product is None:
        ctx.trace.add("follow_up", "ask", "no Mediation ticket and no in-product dispute is known")
        return ask(ctx, [Fact.MEDIATION_TICKET])
    if ctx.contract_type is None:
        return ask(ctx, [Fact.CONTRACT_TYPE])
    if ctx.contract_type != ContractType.HOURLY:
        return fixed_price_update(ctx)
    return hourly_update(ctx, in_product)


def hourly_update(ctx: Context, in_product: InProductDispute) -> Outcome:
    if ctx.policy.settings.in_product_follow_up == "always":
        ctx.trace.add(
            "follow_up", "chosen", "hourly in-product follow-ups go to Client Retention (policy)"
        )
        return handoff(ctx, Path.IN_PRODUCT_RETENTION, "client_retention")
    if in_product.status == InProductStatus.DECIDED:
        ctx.trace.add(
            "follow_up", "chosen", "the in-product dispute is decided and the user follows up"
        )
        return handoff(ctx, Path.IN_PRODUCT_RETENTION, "client_retention")
    if in_product.filed_on is None:
        return ask(ctx, [Fact.IN_PRODUCT_FILED_ON])
    return review_window(ctx, in_product.filed_on)


def review_window(ctx: Context, filed_on: dt.date) -> Outcome:
    days = ctx.policy.windows.in_product_review
    kind = ctx.policy.timeframes.in_product_review_day_kind
    review_by = deadlines.track(ctx, "in_product_review", filed_on)
    if ctx.now > review_by:
        why = f"filed {filed_on}; the {days} {kind}-day review ended {review_by}"
        ctx.trace.add("follow_up", "chosen", why)
        return handoff(ctx, Path.IN_PRODUCT_RETENTION, "client_retention")
    ctx.trace.add(
        "follow_up",
        "reply",
        f"filed {filed_on}; still within the {days} {kind}-day review (to {review_by})",
    )
    return Outcome(
        Path.IN_PRODUCT_UPDATE,
        guidance=guidance.lines(
            ctx, "in_product_hourly_update", review_days=days, day_kind=kind, review_by=review_by
        ),
        follow_up=(review_by, "the in-product review window ends"),
    )


def fixed_price_update(ctx: Context) -> Outcome:
    ctx.trace.add("follow_up", "reply", "fixed-price in-product disputes are updated on the Site")
    lines = guidance.lines(ctx, "in_product_fp_update", **guidance.dispute_center(ctx))
    pending = fixed_price.refund_request(ctx) if ctx.is_fixed_price() else None
    follow_up = None
    if pending is not None and pending.code == Code.REFUND_PENDING and pending.wait_until:
        lines = guidance.refund_pending(ctx, pending.wait_until) + lines
        follow_up = (
            pending.wait_until,
            "the freelancer's time to answer the refund request lapses",
        )
    return Outcome(Path.IN_PRODUCT_UPDATE, eligibility=pending, guidance=lines, follow_up=follow_up)
