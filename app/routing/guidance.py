"""What to tell the user on each path: short lines from the policy's `guidance` templates."""

from __future__ import annotations

import datetime as dt

from .context import Context
from .facts import Role


def lines(ctx: Context, key: str, **values: object) -> list[str]:
    return ctx.policy.guidance_lines(key, dict(values))


def mediation_contact(ctx: Context) -> dict[str, object]:
    """'Mediation will email both parties within 2-3 business days' (policy timeframes)."""
    low, high = ctx.policy.timeframes.mediation_contact_business_days
    return {
        "contact_min": low,
        "contact_max": high,
        "contact_by": ctx.policy.business_calendar.add_business_days(ctx.now, high),
        "duration_days": ctx.policy.windows.mediation_duration,
        "dispute_center_url": ctx.policy.links.dispute_center,
    }


def dispute_center(ctx: Context) -> dict[str, object]:
    return {"dispute_center_url": ctx.policy.links.dispute_center}


def escalated(ctx: Context) -> list[str]:
    return lines(ctx, "mediation_escalated", **mediation_contact(ctx))


def other_options(ctx: Context) -> list[str]:
    """The 'Other Options' of Agent-Initiated Mediation Support, by who wrote in."""
    if ctx.role == Role.FREELANCER:
        return lines(ctx, "other_options_freelancer")
    if ctx.role == Role.CLIENT:
        return lines(ctx, "other_options_client")
    return []


def ask(ctx: Context) -> list[str]:
    """'please ask for 1) the name of the freelancer and 2) the assignment number'."""
    if ctx.role == Role.CLIENT:
        return lines(ctx, "ask_client")
    if ctx.role == Role.FREELANCER:
        return lines(ctx, "ask_freelancer")
    return lines(ctx, "ask_requester")


def refund_pending(ctx: Context, lapse_date: dt.date) -> list[str]:
    """'The freelancer has 7 calendar days to accept/reject that request.'"""
    key = "refund_pending_freelancer" if ctx.role == Role.FREELANCER else "refund_pending_client"
    days = ctx.policy.windows.refund_response
    return lines(ctx, key, lapse_date=lapse_date, response_days=days)
