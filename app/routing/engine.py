"""`decide`: the playbook, top to bottom, as a sequence of steps.

Each step either decides (returns an Outcome) or passes to the next. The
order is the order a careful specialist follows: never merge a Dispute
ticket; know what the user asks; an accounting entity suspended by Mediation;
cases already with Mediation; NDF; work diary abuse (even inside the 30-day
window); UIR; follow-ups on in-product disputes; and finally a dispute request
judged on eligibility.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from . import abuse, dispute, merge_guard, retention, suspended_account, with_mediation
from .asking import ask
from .assemble import assemble
from .context import Context
from .decision import Decision
from .facts import TicketFacts, TicketStatus
from .invariants import guard
from .missing import Fact
from .outcome import Outcome, Path
from .outcome_note import trace_unreadable
from .policy import Policy

Step = Callable[[Context], Outcome | None]


def closed_ticket(ctx: Context) -> Outcome | None:
    if ctx.facts.ticket.status != TicketStatus.CLOSED:
        return None
    ctx.trace.add("ticket", "skip", "the ticket is closed: Zendesk does not allow updating it")
    return Outcome(Path.TICKET_CLOSED)


def owned_by_mediation(ctx: Context) -> Outcome | None:
    """A ticket already in a queue the Mediation team monitors is theirs: a later
    event on it (an agent's comment, a lapsed window) must not route it away."""
    group = ctx.facts.ticket.group
    queue = next(
        (
            name
            for name, spec in ctx.policy.queues.items()
            if spec.mediation and spec.group == group
        ),
        None,
    )
    if queue is None:
        return None
    ctx.trace.add(
        "ticket",
        "skip",
        f"the ticket is already in {queue}, a queue the Mediation team monitors: "
        "it is theirs now, so routing leaves it where it is",
    )
    return Outcome(Path.OWNED_BY_MEDIATION, merge="blocked")


def known_inquiry(ctx: Context) -> Outcome | None:
    if ctx.inquiry is not None:
        return None
    return ask(ctx, [Fact.INQUIRY])


STEPS: tuple[Step, ...] = (
    closed_ticket,
    owned_by_mediation,
    merge_guard.step,
    known_inquiry,
    suspended_account.step,
    with_mediation.step,
    retention.ndf_step,
    abuse.step,
    retention.uir_step,
    retention.in_product_follow_up,
    dispute.step,
)


def decide(facts: TicketFacts, policy: Policy, now: dt.date) -> Decision:
    """The decision a careful mediation specialist would take, with its trace (pure)."""
    today = now.date() if isinstance(now, dt.datetime) else now
    ctx = Context(facts=facts, policy=policy, now=today)
    ctx.trace.add("facts", "info", describe_facts(ctx))
    trace_unreadable(ctx)
    return assemble(ctx, guard(ctx, first_outcome(ctx)))


def first_outcome(ctx: Context) -> Outcome:
    for step in STEPS:
        outcome = step(ctx)
        if outcome is not None:
            return outcome
    return ask(ctx, [Fact.INQUIRY])  # every inquiry is handled above; kept for totality


def describe_facts(ctx: Context) -> str:
    def show(value: object) -> str:
        return "unknown" if value is None else str(getattr(value, "value", value))

    return (
        f"today {ctx.now}; inquiry {show(ctx.inquiry)}; requester {show(ctx.role)}; "
        f"channel {show(ctx.facts.ticket.channel)}; contract {show(ctx.contract.id)} "
        f"({show(ctx.contract_type)}, {show(ctx.contract.status)})"
    )
