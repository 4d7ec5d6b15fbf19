"""Internal notes in the playbook's formats, rendered from the policy's templates."""

from __future__ import annotations

from .agent_fields import ask_item
from .context import Context
from .eligibility_result import Eligibility
from .facts import Channel, Role, text
from .missing import Fact
from .summary import details, issue, quote_safe

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
    """Both parties' OBO profile links (Mediation contacts both), the requester first."""
    client = f"client {text(ctx.client.profile_url) or NOT_ON_FILE}"
    freelancer = f"freelancer {text(ctx.freelancer.profile_url) or NOT_ON_FILE}"
    both = [freelancer, client] if ctx.role == Role.FREELANCER else [client, freelancer]
    return "; ".join(both)


def quoted_texts(ctx: Context) -> dict[str, object]:
    """The description and the latest public comment, one bounded line each ("" if none)."""
    ticket = ctx.facts.ticket
    description = quote_safe(text(ticket.description) or "")
    latest = quote_safe(text(ticket.latest_public_comment) or "")
    return {"description": description, "latest_comment": "" if latest == description else latest}


def contract_id(ctx: Context) -> str:
    return text(ctx.contract.id) or NOT_ON_FILE


def mediation_update(ctx: Context) -> str:
    """'[TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #]'."""
    values: dict[str, object] = {
        "team": team(ctx),
        "contract_id": contract_id(ctx),
        "details": details(ctx),
        "ticket_url": ctx.agent_url(ctx.ticket_id),
        **quoted_texts(ctx),
    }
    return ctx.policy.render(("notes", "mediation_update"), values)


def forwarding(ctx: Context, eligibility: Eligibility | None, queue_reason: str = "") -> str:
    """'Quick summary of the issue / OBO profile link / Contract ID number'; `queue_reason`:
    why HV Mediation was chosen, when it was."""
    values: dict[str, object] = {
        "summary": issue(ctx, eligibility),
        "obo_profile": obo_profile(ctx),
        "contract_id": contract_id(ctx),
        "queue_reason": queue_reason,
        **quoted_texts(ctx),
    }
    return ctx.policy.render(("notes", "forwarding"), values)


def client_retention(ctx: Context, eligibility: Eligibility | None) -> str:
    """The forwarding note 'plus any RT link that is related to the issue'."""
    values: dict[str, object] = {
        "summary": issue(ctx, eligibility),
        "obo_profile": obo_profile(ctx),
        "contract_id": contract_id(ctx),
        "rt_link": text(ctx.facts.related_rt_link),
        **quoted_texts(ctx),
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
        "mediation_ticket_url": ctx.agent_url(mediation_ticket_id),
    }
    return ctx.policy.render(("notes", "mediation_link"), values)


def ask_agent(ctx: Context, missing: list[Fact], hint: str = "") -> str:
    """'Please find and fill in', each fact with the exact ticket field that carries it."""
    items = [ask_item(ctx.policy, fact) for fact in missing]
    values: dict[str, object] = {"missing": items, "hint": hint}
    return ctx.policy.render(("notes", "ask_agent"), values)


def merge_blocked(ctx: Context, reason: str, macro: str) -> str:
    return ctx.policy.render(("notes", "merge_blocked"), {"reason": reason, "macro": macro})


def do_not_resume(ctx: Context, queue: str | None, segment: str) -> str:
    return ctx.policy.render(("notes", "do_not_resume"), {"queue": queue, "segment": segment})
