"""Cases already with Mediation: follow-ups, changed terms, payment refusal, chargeback threats.

"If a client comes back in inquiring about an issue that has already been
handed off to Mediation": find the Mediation ticket, add the
[TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #] note there, leave a note with its
link on your ticket and solve it. "IMPORTANT: If showing 'solved' and Mediation
needs to be notified, do not do the above process. Instead, include the
internal notes in your ticket and assign your ticket to Mediation."
"""

from __future__ import annotations

from . import guidance, notes, second_mediation
from .asking import ask
from .context import Context
from .decision import Note
from .eligibility_result import not_assessed
from .facts import ContractType, Inquiry, TicketStatus, text
from .missing import Fact
from .outcome import Outcome, Path
from .queues import mediation_queue

WITH_MEDIATION = frozenset(
    {Inquiry.DISPUTE, Inquiry.FOLLOW_UP, Inquiry.PAYMENT_REFUSAL, Inquiry.CHARGEBACK_THREAT}
)
REPLIES = {
    Inquiry.PAYMENT_REFUSAL: Path.PAYMENT_REFUSAL,
    Inquiry.CHARGEBACK_THREAT: Path.CHARGEBACK_THREAT,
}


def step(ctx: Context) -> Outcome | None:
    if ctx.inquiry == Inquiry.CHANGE_TERMS:
        return change_terms(ctx)
    if ctx.inquiry not in WITH_MEDIATION:
        return None
    linked_id = ctx.linked.id
    if linked_id is None:
        return reply_only(ctx)
    return notify_mediation(ctx, linked_id, reply_lines(ctx))


def change_terms(ctx: Context) -> Outcome:
    """'If FP - find Mediation ticket: [note]. If Hourly - suggest user updates this info in the
    comments in the Dispute itself within the Site'."""
    contract_type = ctx.contract_type
    if contract_type is None:
        return ask(ctx, [Fact.CONTRACT_TYPE])
    if contract_type == ContractType.HOURLY:
        ctx.trace.add("change_terms", "reply", "hourly: the user updates the in-product dispute")
        return Outcome(
            Path.CHANGE_TERMS_HOURLY, guidance=guidance.lines(ctx, "change_terms_hourly")
        )
    linked_id = ctx.linked.id
    if linked_id is None:
        ctx.trace.add("change_terms", "ask", f"{contract_type.value}: find the Mediation ticket")
        return ask(ctx, [Fact.MEDIATION_TICKET])
    return notify_mediation(ctx, linked_id, [])


def reply_lines(ctx: Context) -> list[str]:
    if ctx.inquiry == Inquiry.PAYMENT_REFUSAL:
        limit = ctx.policy.windows.payment_past_due_suspension
        past_due = ctx.contract.payment_past_due_days
        return guidance.lines(ctx, "payment_refusal", past_due_limit=limit, past_due_days=past_due)
    if ctx.inquiry == Inquiry.CHARGEBACK_THREAT:
        return guidance.lines(ctx, "chargeback_threat")
    return []


def reply_only(ctx: Context) -> Outcome | None:
    """Payment refusal and chargeback threats without a Mediation ticket: guidance only."""
    path = REPLIES.get(ctx.inquiry) if ctx.inquiry else None
    if path is None:
        return None  # a dispute or follow-up without a Mediation ticket: later steps
    ctx.trace.add("with_mediation", "reply", "no Mediation ticket is linked: reply guidance only")
    return Outcome(path, guidance=reply_lines(ctx))


def notify_mediation(ctx: Context, linked_id: int, extra: list[str]) -> Outcome:
    status = ctx.linked.status
    if status is None:
        return ask(ctx, [Fact.MEDIATION_TICKET_STATUS])
    if text(ctx.contract.id) is None:
        return ask(ctx, [Fact.CONTRACT_ID])
    if status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        return second_mediation.step(ctx, linked_id) or reassign(ctx, linked_id, extra)
    return note_on_mediation_ticket(ctx, linked_id, extra)


def note_on_mediation_ticket(ctx: Context, linked_id: int, extra: list[str]) -> Outcome:
    ctx.trace.add("with_mediation", "note", f"Mediation ticket #{linked_id} is open: note it there")
    return Outcome(
        Path.WITH_MEDIATION_NOTE,
        eligibility=not_assessed(f"already with Mediation (ticket #{linked_id})"),
        status=ctx.policy.settings.with_mediation_status,
        macro=True,
        notes=[
            Note(ticket_id=linked_id, body=notes.mediation_update(ctx), kind="mediation_update"),
            ctx.note(notes.mediation_link(ctx, linked_id), "mediation_link"),
        ],
        guidance=extra
        + guidance.lines(ctx, "with_mediation_open", **guidance.mediation_contact(ctx)),
        reply="with_mediation_open",
    )


def reassign(ctx: Context, linked_id: int, extra: list[str]) -> Outcome:
    ctx.trace.add("with_mediation", "reassign", f"Mediation ticket #{linked_id} is solved")
    choice = mediation_queue(ctx)
    if choice.queue is None:
        return ask(ctx, list(choice.missing))
    return Outcome(
        Path.WITH_MEDIATION_REASSIGN,
        eligibility=not_assessed(f"already with Mediation (ticket #{linked_id}, solved)"),
        queue=choice.queue,
        status=ctx.policy.settings.escalation_status,
        macro=True,
        notes=[ctx.note(notes.mediation_update(ctx), "mediation_update")],
        guidance=extra + guidance.lines(ctx, "with_mediation_solved"),
    )
