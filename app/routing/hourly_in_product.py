"""Hourly contracts: the in-product dispute first, one already open, and the manual dispute.

"Should I check while talking to the client to see if he or she can file a
dispute claim still? Yes, please first check to see if filing an in-product
dispute is possible. If so, please send the client instructions on how to do
so." "CL is then automatically charged the following Monday where they have
until Friday to review the FL's work in the Work Diary" and "There is a
"dispute" button available if they want to dispute any hours during that week".
An open one: "If Hourly - suggest user updates this info in the comments in the
Dispute itself within the Site". The manual dispute: "We should very rarely
offer to do this ... We should only consider a manual dispute when we're
contacted immediately after the dispute period (less than one day/friday).
Occasionally, it will be considered if: All (or majority) of the time is
offline / Very obvious abuse Fraud related > Hacking or identity theft etc."
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import calendar, deadlines, eligibility, guidance
from .asking import ask
from .context import Context
from .eligibility_result import Code, Eligibility
from .facts import ContractStatus, ContractType, InProductStatus, PaymentKind, Role
from .missing import Fact
from .outcome import Outcome, Path
from .policy_schema import WEEKDAYS

NO_REFUSAL = frozenset(
    {
        Path.MANUAL_DISPUTE_CANDIDATE,
        Path.NEEDS_INFO,
        Path.HOURLY_IN_PRODUCT_FIRST,
        Path.IN_PRODUCT_HOURLY_OPEN,
    }
)


@dataclass(frozen=True)
class ReviewWeek:
    """The disputed hours' charge day and the last day the client can dispute them in-product."""

    charged_on: dt.date
    ends_on: dt.date


def review_end(ctx: Context, charged_on: dt.date) -> dt.date:
    """The policy's last review weekday (Friday) on or after the charge day (Monday)."""
    last = WEEKDAYS.index(ctx.policy.hourly_in_product.review_last_weekday)
    return calendar.shift(charged_on, (last - charged_on.weekday()) % 7)


def contacted_on(ctx: Context) -> dt.date:
    """The day the user contacted us: the ticket's creation day, else the day of the decision."""
    return ctx.facts.ticket.created_on or ctx.now


def applies(ctx: Context) -> bool:
    """An hourly contract whose disputed payment is (or may be) hours."""
    if ctx.contract_type != ContractType.HOURLY:
        return False
    return ctx.dispute.disputed_payment_kind in (None, PaymentKind.HOURLY)


def step(ctx: Context) -> Outcome | None:
    """Before Mediation eligibility: an open in-product dispute, then the review window."""
    if not applies(ctx):
        return None
    if ctx.dispute.in_product is not None:
        opened = already_open(ctx)
        if opened is not None:
            return opened
    if ctx.role == Role.FREELANCER:
        return None  # the dispute button is the client's
    week = disputed_week(ctx)
    if week is None:
        return None
    if isinstance(week, Fact):
        return ask(ctx, [week])
    if ctx.role is None:
        return ask(ctx, [Fact.REQUESTER_ROLE])
    status = contract_status(ctx)
    if status is not True:
        return ask(ctx, [status]) if isinstance(status, Fact) else None
    if ctx.now <= week.ends_on:
        return in_product_first(ctx, week)
    return manual_dispute(ctx, week)


def contract_status(ctx: Context) -> bool | Fact:
    """Is the contract's status one the policy's in-product rule applies to?"""
    statuses = ctx.policy.hourly_in_product.contract_statuses
    status = ctx.contract.status
    if status is None:
        return True if set(statuses) == set(ContractStatus) else Fact.CONTRACT_STATUS
    if status in statuses:
        return True
    ctx.trace.add("in_product", "not_chosen", f"the contract is {status.value} (policy)")
    return False


def disputed_week(ctx: Context) -> ReviewWeek | Fact | None:
    """The disputed hours' week: their charge date, or the only or last hourly charge when
    no other charge can matter; asks when the last charge can still be disputed."""
    charged = ctx.dispute.hours_charged_on
    if charged is not None:
        return ReviewWeek(charged, review_end(ctx, charged))
    charges = sorted(
        p.date for p in ctx.contract.payments or [] if p.kind == PaymentKind.HOURLY and p.date
    )
    if not charges:
        return None
    week = ReviewWeek(charges[-1], review_end(ctx, charges[-1]))
    label = f"the last hourly charge {week.charged_on} (review window to {week.ends_on})"
    if not still_matters(ctx, week):
        ctx.trace.add("in_product", "not_chosen", f"{label} has closed: no hours to dispute")
        return None
    if len(charges) == 1:
        ctx.trace.add("in_product", "info", f"{label} is the only hourly charge: the disputed one")
        return week
    ctx.trace.add("in_product", "ask", f"{label} is still open: are these the disputed hours?")
    return Fact.HOURS_CHARGED_ON


def still_matters(ctx: Context, week: ReviewWeek) -> bool:
    """The in-product dispute is still possible, or a manual dispute still timely."""
    if ctx.now <= week.ends_on:
        return True
    days = calendar.elapsed_days(week.ends_on, contacted_on(ctx))
    return days <= ctx.policy.manual_dispute.contact_days_after_review


def in_product_first(ctx: Context, week: ReviewWeek) -> Outcome:
    spec = ctx.policy.hourly_in_product
    why = (
        f"the disputed hours were charged {week.charged_on}; the client can dispute them "
        f"in-product until {week.ends_on} ({spec.review_last_weekday}): in-product first"
    )
    ctx.trace.add("in_product", "chosen", why)
    deadlines.track(ctx, "hourly_review", week.charged_on, due=week.ends_on)
    lines = guidance.lines(
        ctx,
        "hourly_in_product_first",
        review_end=week.ends_on,
        review_weekday=spec.review_last_weekday,
        charged_on=week.charged_on,
        review_days=spec.specialist_review_days,
        response_days=spec.freelancer_response_days,
        rejection_days=spec.rejection_review_business_days,
    )
    return Outcome(
        Path.HOURLY_IN_PRODUCT_FIRST,
        eligibility=Eligibility(False, Code.HOURLY_IN_PRODUCT, why),
        guidance=lines,
        follow_up=(week.ends_on, "the hourly review window closes"),
    )


def already_open(ctx: Context) -> Outcome | None:
    """'If an in-product hourly dispute was filed against FL' / the client adds hours."""
    in_product = ctx.dispute.in_product
    if in_product is None:
        return None
    if in_product.status is None:
        return ask(ctx, [Fact.IN_PRODUCT_STATUS])
    if in_product.status == InProductStatus.DECIDED:
        ctx.trace.add("in_product", "not_chosen", "the in-product dispute is decided")
        return None
    filed = f", filed {in_product.filed_on}" if in_product.filed_on else ""
    why = (
        f"an in-product dispute is open ({in_product.status.value}{filed}): "
        "the user is pointed to it and its comments, not escalated"
    )
    ctx.trace.add("in_product", "reply", why)
    return Outcome(
        Path.IN_PRODUCT_HOURLY_OPEN,
        eligibility=Eligibility(False, Code.IN_PRODUCT_OPEN, why),
        guidance=open_dispute_lines(ctx),
    )


def open_dispute_lines(ctx: Context) -> list[str]:
    spec = ctx.policy.hourly_in_product
    in_product = ctx.dispute.in_product
    respond_by = None
    awaiting = in_product is not None and in_product.status == InProductStatus.AWAITING_FREELANCER
    if awaiting and in_product is not None and in_product.filed_on is not None:
        respond_by = deadlines.track(ctx, "freelancer_dispute_response", in_product.filed_on)
    freelancer = guidance.lines(
        ctx,
        "in_product_hourly_open_freelancer",
        response_days=spec.freelancer_response_days,
        respond_by=respond_by,
        rejection_days=spec.rejection_review_business_days,
    )
    client = guidance.lines(
        ctx, "in_product_hourly_open_client", review_days=spec.specialist_review_days
    )
    if ctx.role == Role.FREELANCER:
        return freelancer
    if ctx.role == Role.CLIENT:
        return client
    return client + freelancer


def manual_grounds(ctx: Context) -> tuple[list[str], list[Fact]]:
    """The grounds that hold, and the facts still unknown."""
    grounds = {
        "all or most of the disputed time is offline": (
            ctx.dispute.time_mostly_offline,
            Fact.TIME_MOSTLY_OFFLINE,
        ),
        "very obvious abuse or fraud (hacking, identity theft)": (
            ctx.dispute.obvious_fraud,
            Fact.OBVIOUS_FRAUD,
        ),
    }
    held = [why for why, (value, _) in grounds.items() if value]
    unknown = [fact for value, fact in grounds.values() if value is None]
    return held, unknown


def manual_dispute(ctx: Context, week: ReviewWeek) -> Outcome | None:
    """A candidate is flagged to the agent with the criteria; never entered automatically."""
    spec = ctx.policy.manual_dispute
    contacted = contacted_on(ctx)
    after = calendar.elapsed_days(week.ends_on, contacted)
    timing = f"review window closed {week.ends_on}; contacted {contacted}, {after} day(s) later"
    if after > spec.contact_days_after_review:
        limit = spec.contact_days_after_review
        ctx.trace.add("manual_dispute", "not_chosen", f"{timing}: more than {limit}")
        return None
    held, unknown = manual_grounds(ctx)
    if spec.require_grounds and not held:
        if unknown:
            ctx.trace.add("manual_dispute", "ask", f"{timing}: are there grounds?")
            return ask(ctx, unknown)
        ctx.trace.add("manual_dispute", "not_chosen", f"{timing}; no offline time, no fraud")
        return None
    ctx.trace.add("manual_dispute", "chosen", f"{timing}; " + ("; ".join(held) or "timing only"))
    return candidate(ctx, week, contacted, after, held or ["timing only (require_grounds: false)"])


def candidate(
    ctx: Context, week: ReviewWeek, contacted: dt.date, after: int, grounds: list[str]
) -> Outcome:
    result = eligibility.assess(ctx)
    word = {True: "eligible", False: "not eligible", None: "not yet known"}[result.eligible]
    values: dict[str, object] = {
        "charged_on": week.charged_on,
        "review_end": week.ends_on,
        "contacted_on": contacted,
        "days_after": after,
        "grounds": grounds,
        "mediation": f"Mediation is {word} ({result.explanation}).",
    }
    body = ctx.policy.render(("notes", "manual_dispute_candidate"), values)
    return Outcome(Path.MANUAL_DISPUTE_CANDIDATE, eligibility=result, notes=[ctx.note(body)])


def refusal(ctx: Context, path: Path) -> list[str]:
    """'outside those criteria the answer is no', however upset the client is."""
    asked = ctx.dispute.manual_dispute_requested
    if not asked or ctx.role != Role.CLIENT or not applies(ctx) or path in NO_REFUSAL:
        return []
    ctx.trace.add("manual_dispute", "reply", "a manual dispute was asked for: the criteria fail")
    return guidance.lines(
        ctx,
        "manual_dispute_refused",
        contact_days=ctx.policy.manual_dispute.contact_days_after_review,
        review_weekday=ctx.policy.hourly_in_product.review_last_weekday,
    )
