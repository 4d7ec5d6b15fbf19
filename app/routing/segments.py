"""High-value users: "Client: VSB +, SB, MM, LB"; "Freelancer: Top Rated/Top Rated Plus".

Each answer is three-valued: True, False, or None when the segment is unknown
(then the agent is asked to "find out the segment of user in OBO").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import calendar, payments
from .context import Context
from .facts import Role
from .missing import Fact


@dataclass(frozen=True)
class Verdict:
    value: bool | None
    why: str
    missing: tuple[Fact, ...] = ()


def _listed(values: list[str]) -> str:
    return ", ".join(values) or "(none)"


def client_high_value(ctx: Context) -> Verdict:
    segment = ctx.client.segment
    allowed = [s.value for s in ctx.policy.segments.high_value_clients]
    if segment is None:
        return Verdict(None, "the client's segment is unknown", (Fact.CLIENT_SEGMENT,))
    found = segment in ctx.policy.segments.high_value_clients
    return Verdict(found, f"client segment {segment.value} is {_is(found)} {_listed(allowed)}")


def freelancer_high_value(ctx: Context) -> Verdict:
    badge = ctx.freelancer.badge
    allowed = [b.value for b in ctx.policy.segments.high_value_freelancers]
    if badge is None:
        return Verdict(None, "the freelancer's badge is unknown", (Fact.FREELANCER_BADGE,))
    found = badge in ctx.policy.segments.high_value_freelancers
    return Verdict(found, f"freelancer badge {badge.value} is {_is(found)} {_listed(allowed)}")


def enterprise(ctx: Context) -> Verdict:
    segment = ctx.client.segment
    allowed = [s.value for s in ctx.policy.segments.enterprise_clients]
    if segment is None:
        return Verdict(None, "the client's segment is unknown", (Fact.CLIENT_SEGMENT,))
    found = segment in ctx.policy.segments.enterprise_clients
    return Verdict(found, f"client segment {segment.value} is {_is(found)} {_listed(allowed)}")


def dispute_value(ctx: Context) -> Verdict:
    """'... or value of dispute': only when the policy sets `hv_dispute_value`."""
    threshold = ctx.policy.settings.hv_dispute_value
    if threshold is None:
        return Verdict(False, "no dispute-value threshold is set")
    since = calendar.shift(ctx.now, -ctx.policy.windows.mediation)
    value = (ctx.contract.funds_in_escrow or Decimal(0)) + payments.amount_in_window(
        ctx.policy, ctx.contract.payments or [], since
    )
    found = value >= threshold
    return Verdict(
        found, f"dispute value {value} is {'at least' if found else 'below'} {threshold}"
    )


def any_of(*verdicts: Verdict) -> Verdict:
    """True if any is True; False if all are False; otherwise unknown."""
    why = "; ".join(v.why for v in verdicts)
    if any(v.value for v in verdicts):
        return Verdict(True, why)
    missing = tuple(fact for v in verdicts for fact in v.missing)
    if missing:
        return Verdict(None, why, missing)
    return Verdict(False, why)


def high_value(ctx: Context) -> Verdict:
    """'route to either Mediation or HV Mediation depending on client status, freelancer status
    or value of dispute'."""
    return any_of(client_high_value(ctx), freelancer_high_value(ctx), dispute_value(ctx))


def high_value_for_retention(ctx: Context) -> Verdict:
    """'31-90, if HV CL or FL' (Enterprise counts when `enterprise_high_value_for_retention`)."""
    if ctx.policy.settings.enterprise_high_value_for_retention:
        return any_of(client_high_value(ctx), freelancer_high_value(ctx), enterprise(ctx))
    return any_of(client_high_value(ctx), freelancer_high_value(ctx))


def requester_high_value(ctx: Context) -> Verdict:
    """'First, find out the segment of user in OBO' (the user who wrote in)."""
    if ctx.role is None:
        return Verdict(None, "who wrote in is unknown", (Fact.REQUESTER_ROLE,))
    if ctx.role == Role.CLIENT:
        return client_high_value(ctx)
    return freelancer_high_value(ctx)


def _is(found: bool) -> str:
    return "in" if found else "not in"
