"""The mechanics of sending a ticket to Mediation: form, fields, macro by channel.

"change Form to 'Dispute Ticket Form - Escalate from CS'", "Dispute Ticket
Process ... must contain the value Escalate to Mediation", "selecting Dispute
Type ... and checking off the Dispute Reasons", "Contract ID, Client Username,
and FL Username", "'No further task' is selected under the Task to Accomplish".
"""

from __future__ import annotations

from .context import Context
from .decision import FieldValue
from .facts import Channel, text


def macro_title(ctx: Context) -> str:
    """'For Phone Calls: CS > Phone - Mediation Ticket'; 'For chats/tickets: CS > Mediation Ticket'.

    An unknown channel is treated as a ticket.
    """
    if ctx.facts.ticket.channel == Channel.PHONE:
        return ctx.policy.macros["phone"]
    return ctx.policy.macros["default"]


def dispute_fields(ctx: Context) -> dict[str, FieldValue]:
    """Field title -> option name(s) or text, for the fields whose value is known."""
    titles, options = ctx.policy.ticket_fields, ctx.policy.field_options
    fields: dict[str, FieldValue] = {
        titles["dispute_ticket_process"]: options.dispute_ticket_process.escalate,
        titles["task_to_accomplish"]: options.task_to_accomplish.no_further_task,
    }
    texts = {
        "contract_id": text(ctx.contract.id),
        "client_username": text(ctx.client.username),
        "fl_username": text(ctx.freelancer.username),
    }
    fields.update({titles[key]: value for key, value in texts.items() if value})
    if ctx.contract_type is not None:
        fields[titles["dispute_type"]] = options.dispute_type[ctx.contract_type]
    reasons = ctx.dispute.reasons or []
    if reasons:
        fields[titles["dispute_reasons"]] = [
            options.dispute_reasons[r] for r in dict.fromkeys(reasons)
        ]
    return fields
