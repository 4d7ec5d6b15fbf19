"""No second mediation: when a solved Mediation case "needs to be notified", and when it is over.

"IMPORTANT: If showing “solved” and Mediation needs to be notified, do not do
the above process. Instead, include the internal notes in your ticket and
assign your ticket to Mediation." and "Why does the dispute team not mediate
cases again? ... It’s important to have a process and deadline ... Typically we
mediate up to 30 days, this would cause havoc if they kept coming back and
seeking assistance". Mediation is notified only of new information on a case
that started at most `mediation_follow_ups.case_days_from_start` days before
the user came back; past that the case is over: the user is answered, the
Mediation ticket is not reopened and this ticket is not assigned to Mediation.
"""

from __future__ import annotations

from . import calendar, guidance
from .asking import ask
from .context import Context
from .eligibility_result import not_assessed
from .facts import ContractType
from .hourly_in_product import contacted_on
from .missing import Fact
from .outcome import Outcome, Path


def case_over(ctx: Context) -> tuple[bool | None, str]:
    """Is the solved case past its deadline, counted from its start (else from its solving)?"""
    limit = ctx.policy.mediation_follow_ups.case_days_from_start
    back = contacted_on(ctx)
    opened, solved = ctx.linked.opened_on, ctx.linked.solved_on
    if opened is not None:
        days = calendar.elapsed_days(opened, back)
        return days > limit, f"the case started {opened}, {days} days before {back}; limit {limit}"
    if solved is not None and calendar.elapsed_days(solved, back) > limit:
        days = calendar.elapsed_days(solved, back)
        return True, f"the case was solved {solved}, {days} days before {back}; limit {limit}"
    return None, "the start of the Mediation case is unknown"


def step(ctx: Context, linked_id: int) -> Outcome | None:
    """None: Mediation needs to be notified (new information on a recent case)."""
    over, why = case_over(ctx)
    if over is None:
        ctx.trace.add("second_mediation", "ask", why)
        return ask(ctx, [Fact.MEDIATION_OPENED_ON])
    if over:
        ctx.trace.add("second_mediation", "chosen", f"{why}: the case is over, no second mediation")
        return finished(ctx, linked_id, Path.MEDIATION_CASE_OVER, why)
    news = ctx.dispute.new_information
    if news is None:
        ctx.trace.add("second_mediation", "ask", f"{why}: is there new information?")
        return ask(ctx, [Fact.NEW_INFORMATION])
    if not news:
        ctx.trace.add("second_mediation", "reply", f"{why}; no new information for Mediation")
        return finished(ctx, linked_id, Path.MEDIATION_SOLVED_NO_UPDATE, why)
    ctx.trace.add("second_mediation", "not_chosen", f"{why}; new information: notify Mediation")
    return None


def finished(ctx: Context, linked_id: int, path: Path, why: str) -> Outcome:
    status = ctx.linked.status.value if ctx.linked.status else "solved"
    values: dict[str, object] = {
        "mediation_ticket_id": linked_id,
        "mediation_ticket_url": ctx.agent_url(linked_id),
        "status": status,
        "reason": why,
    }
    if path == Path.MEDIATION_CASE_OVER:
        lines = guidance.lines(ctx, "mediation_case_over", **case_over_values(ctx))
        body = ctx.policy.render(("notes", "mediation_case_over"), values)
    else:
        lines = guidance.lines(ctx, "mediation_solved_no_update", **guidance.dispute_center(ctx))
        del values["status"], values["reason"]
        body = ctx.policy.render(("notes", "mediation_solved_no_update"), values)
    return Outcome(
        path,
        eligibility=not_assessed(f"Mediation case #{linked_id} is {status}: {why}"),
        notes=[ctx.note(body)],
        guidance=lines,
    )


def case_over_values(ctx: Context) -> dict[str, object]:
    kind = ctx.contract_type
    fixed = ctx.is_fixed_price()  # Direct Contracts: "No Arbitration available"
    contract_kind = "hourly" if kind == ContractType.HOURLY else "fixed_price" if fixed else ""
    return {
        "limit_days": ctx.policy.mediation_follow_ups.case_days_from_start,
        "contract_kind": contract_kind,
        "arbitration_days": ctx.policy.windows.arbitration,
    }
