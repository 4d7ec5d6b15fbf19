"""Escalations to the Hourly Job Abuse Queue.

"Use of Auto Clicker", "Excessive Hours Logged ... (EX: FL billing over 100
hours a week)", "Billing unauthorized hours", "Logging non-work related hours".
"If it's within the 30 day window agent should still send the ticket to the
hourly job abuse queue for review. Agent should add Internal notes that it was
escalated so that the dispute agent is aware."
"""

from __future__ import annotations

from . import eligibility, notes
from .asking import ask
from .context import Context
from .decision import Note
from .facts import ContractType, Inquiry
from .handoff import handoff
from .missing import Fact
from .outcome import Outcome, Path
from .parties import missing_contract_and_party


def signals(ctx: Context) -> list[str]:
    """What in the facts points to work diary abuse."""
    abuse, threshold = ctx.abuse, ctx.policy.abuse.excessive_hours_per_week
    found = [
        label
        for label, flag in (
            ("use of auto clicker", abuse.autoclicker),
            ("billing unauthorized hours", abuse.unauthorized_hours),
            ("logging non-work related hours", abuse.non_work_hours),
        )
        if flag
    ]
    hours = abuse.hours_last_week
    if hours is not None and hours > threshold:
        found.append(f"excessive hours logged ({hours} hours last week, over {threshold})")
    escalated = set(ctx.policy.abuse.escalated_reasons)
    found += [f"dispute reason {r.value}" for r in ctx.dispute.reasons or [] if r in escalated]
    if not found and ctx.inquiry == Inquiry.ABUSE_REPORT:
        found.append("report of abuse in the freelancer's work diary")
    return found


def step(ctx: Context) -> Outcome | None:
    if ctx.inquiry not in (Inquiry.ABUSE_REPORT, Inquiry.DISPUTE):
        return None
    found = signals(ctx)
    if not found:
        return None
    contract_type = ctx.contract_type
    if contract_type is None:
        return ask(ctx, [Fact.CONTRACT_TYPE, *missing_contract_and_party(ctx)])
    if contract_type != ContractType.HOURLY:
        why = (
            f"the Hourly Job Abuse Queue reviews hourly work diaries; this is {contract_type.value}"
        )
        ctx.trace.skip("hourly_abuse", why)
        return None
    return escalate(ctx, found)


def escalate(ctx: Context, found: list[str]) -> Outcome:
    within = eligibility.assess(ctx)
    ctx.trace.add(
        "hourly_abuse", "chosen", "; ".join(found) + f" (mediation window: {within.explanation})"
    )
    outcome = handoff(ctx, Path.HOURLY_ABUSE, "hourly_abuse", within)
    if outcome.path != Path.HOURLY_ABUSE:
        return outcome
    target = ctx.linked.id or ctx.ticket_id
    body = notes.abuse_escalated(ctx, outcome.queue or "", found, within)
    outcome.notes.append(Note(ticket_id=target, body=body, kind="abuse_escalated"))
    return outcome
