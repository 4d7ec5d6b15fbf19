"""Internal notes in the playbook's formats, rendered from the policy's templates."""

from __future__ import annotations

from .context import Context
from .eligibility_result import Eligibility
from .facts import Channel, Role, text
from .missing import Fact
from .summary import details, issue

NOT_ON_FILE = "(not on file: please add it)"


def team(ctx: Context) -> str:
    """[TEAM]: 'the team the information came to, for example, FL Support, Phone Support'."""
    teams = ctx.policy.teams
    channel = ctx.facts.ticket.channel
    if channel == Channel.PHONE:
        return teams.phone
    if channel == Channel.CHAT:
        return teams.chat
    if ctx.role is not None:
        return teams.client if ctx.role == Role.CLIENT else teams.freelancer
    return teams.default


def obo_profile(ctx: Context) -> str:
    """The requester's OBO profile link (both parties' when the requester is unknown)."""
    client, freelancer = text(ctx.client.profile_url), text(ctx.freelancer.profile_url)
    if ctx.role == Role.CLIENT:
        return client or NOT_ON_FILE
    if ctx.role == Role.FREELANCER:
        return freelancer or NOT_ON_FILE
    known = [f"client {client}" if client else "", f"freelancer {freelancer}" if freelancer else ""]
    return ", ".join(k for k in known if k) or NOT_ON_FILE


def contract_id(ctx: Context) -> str:
    return text(ctx.contract.id) or NOT_ON_FILE


def mediation_update(ctx: Context) -> str:
    """'[TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #]'."""
    values: dict[str, object] = {
        "team": team(ctx),
        "contract_id": contract_id(ctx),
        "details": details(ctx),
        "ticket_url": ctx.ticket_url(ctx.ticket_id),
    }
    return ctx.policy.render(("notes", "mediation_update"), values)


def forwarding(ctx: Context, eligibility: Eligibility | None) -> str:
    """'Quick summary of the issue / OBO profile link / Contract ID number'."""
    values: dict[str, object] = {
        "summary": issue(ctx, eligibility),
        "obo_profile": obo_profile(ctx),
        "contract_id": contract_id(ctx),
    }
    return ctx.policy.render(("notes", "forwarding"), values)


def client_retention(ctx: Context, eligibility: Eligibility | None) -> str:
    """The forwarding note 'plus any RT link that is related to the issue'."""
    values: dict[str, object] = {
        "summary": issue(ctx, eligibility),
        "obo_profile": obo_profile(ctx),
        "contract_id": contract_id(ctx),
        "rt_link": text(ctx.facts.related_rt_link),
    }
    return ctx.policy.render(("notes", "client_retention"), values)


def abuse_escalated(ctx: Context, queue: str, signals: list[str], within: Eligibility) -> str:
    """'Agent should add Internal notes that it was escalated so that the dispute agent is aware'"""
    values: dict[str, object] = {
        "queue": queue,
        "signals": signals,
        "within_window": bool(within.eligible),
        "window_days": ctx.policy.windows.mediation,
        "days_since": within.days_since,
    }
    return ctx.policy.render(("notes", "abuse_escalated"), values)


def mediation_link(ctx: Context, mediation_ticket_id: int) -> str:
    values: dict[str, object] = {
        "mediation_ticket_id": mediation_ticket_id,
        "mediation_ticket_url": ctx.ticket_url(mediation_ticket_id),
    }
    return ctx.policy.render(("notes", "mediation_link"), values)


def ask_agent(ctx: Context, missing: list[Fact], hint: str) -> str:
    values: dict[str, object] = {"missing": [fact.label for fact in missing], "hint": hint}
    return ctx.policy.render(("notes", "ask_agent"), values)


def merge_blocked(ctx: Context, reason: str, macro: str) -> str:
    return ctx.policy.render(("notes", "merge_blocked"), {"reason": reason, "macro": macro})


def do_not_resume(ctx: Context, queue: str | None, segment: str) -> str:
    return ctx.policy.render(("notes", "do_not_resume"), {"queue": queue, "segment": segment})
