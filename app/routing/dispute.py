"""A dispute request: eligibility, then Mediation, Client Retention, in-product, or a reply.

"Any cases that are not eligible for Mediation that get sent to Mediation will
be sent back to the CS agent": an ineligible case is never sent there.
"""

from __future__ import annotations

from . import deadlines, eligibility, fixed_price, guidance, hourly_in_product, notes
from .arbitration import report as arbitration_report
from .asking import ask
from .context import Context
from .eligibility_result import Code, Eligibility
from .facts import ContractType, DisputeReason, Inquiry
from .handoff import handoff
from .missing import Fact
from .outcome import Outcome, Path
from .parties import missing_contract_and_party
from .queues import mediation_queue
from .retention import past_window


def step(ctx: Context) -> Outcome | None:
    if ctx.inquiry not in (Inquiry.DISPUTE, Inquiry.ABUSE_REPORT):
        return None
    if abusive_communication_only(ctx):
        return handoff(ctx, Path.CONTENT_ENGAGEMENT, "content_engagement", note="forwarding")
    outcome = hourly_in_product.step(ctx) or judged(ctx)
    outcome.guidance = hourly_in_product.refusal(ctx, outcome.path) + outcome.guidance
    return outcome


def judged(ctx: Context) -> Outcome:
    """The request judged on eligibility for Mediation."""
    result = eligibility.assess(ctx)
    ctx.trace.add("eligibility", verdict_word(result), f"{result.code}: {result.explanation}")
    if result.eligible is None:
        return ask(
            ctx, [*result.missing, *missing_contract_and_party(ctx, both_parties=True)], result
        )
    if result.eligible:
        return eligible(ctx, result)
    return ineligible(ctx, result)


def verdict_word(result: Eligibility) -> str:
    return {True: "pass", False: "fail", None: "unknown"}[result.eligible]


def abusive_communication_only(ctx: Context) -> bool:
    """'If this is the ONLY problem, route to CE (Content_Engagement_Tier_1_TS425). If ANY other
    Final Determinations apply, please route to either Mediation or HV Mediation'."""
    reasons = set(ctx.dispute.reasons or [])
    if DisputeReason.ABUSIVE_COMMUNICATION not in reasons:
        return False
    only = reasons == {DisputeReason.ABUSIVE_COMMUNICATION}
    others = ", ".join(sorted(r.value for r in reasons - {DisputeReason.ABUSIVE_COMMUNICATION}))
    why = "Abusive Communication is the only reason" if only else f"other reasons apply: {others}"
    ctx.trace.add("abusive_communication", "chosen" if only else "not_chosen", why)
    return only


def eligible(ctx: Context, result: Eligibility) -> Outcome:
    if result.close_first:
        return close_first(ctx, result)
    missing = missing_contract_and_party(ctx, both_parties=True)
    if missing:
        return ask(ctx, missing, result)
    if not ctx.dispute.reasons:
        ctx.trace.add("dispute_reasons", "ask", "the escalation form requires the Dispute Reasons")
        return ask(ctx, [Fact.DISPUTE_REASONS], result)
    choice = mediation_queue(ctx)
    if choice.queue is None:
        return ask(ctx, list(choice.missing), result)
    hv_reason = choice.why if choice.queue == ctx.policy.routes.high_value else ""
    return Outcome(
        Path.MEDIATION_ESCALATION,
        eligibility=result,
        queue=choice.queue,
        status=ctx.policy.settings.escalation_status,
        macro=True,
        dispute_form=True,
        notes=[ctx.note(notes.forwarding(ctx, result, hv_reason), "forwarding")],
        guidance=guidance.escalated(ctx) + arbitration_lines(ctx),
        # "saved as Solved" (escalation_status: solved) reaches the user: a public reply first.
        reply="mediation_escalated" if ctx.policy.settings.escalation_status == "solved" else None,
    )


def close_first(ctx: Context, result: Eligibility) -> Outcome:
    if result.last_payment is not None:  # the advice holds only while the window runs
        deadlines.track(ctx, "mediation_window", result.last_payment)
    windows = ctx.policy.windows
    direct = ctx.contract_type == ContractType.DIRECT_CONTRACT
    if ctx.contract_type == ContractType.HOURLY:
        requester = ctx.role.value if ctx.role is not None else "user"
        lines = guidance.lines(
            ctx, "close_hourly_contract_first", requester=requester, window_days=windows.mediation
        )
    else:
        window = windows.direct_contract if direct else windows.mediation
        lines = guidance.lines(ctx, "close_contract_first", window_days=window)
    if (ctx.contract.funds_in_escrow or 0) > 0 and (ctx.is_fixed_price() or direct):
        lines += guidance.lines(ctx, "escrow_in_product")
    return Outcome(Path.CLOSE_CONTRACT_FIRST, eligibility=result, guidance=lines)


def arbitration_lines(ctx: Context) -> list[str]:
    report = arbitration_report(ctx)
    if report is None or not report.eligible:
        return []
    values = {
        "provider": report.provider,
        "fee": report.fee,
        "fee_share_each": report.fee_share_each,
        "filing_days": ctx.policy.windows.arbitration,
    }
    return guidance.lines(ctx, "arbitration", **values)


def ineligible(ctx: Context, result: Eligibility) -> Outcome:
    if result.code == Code.REFUND_PENDING and result.wait_until is not None:
        lapse = result.wait_until
        return Outcome(
            Path.REFUND_REQUEST_PENDING,
            eligibility=result,
            guidance=guidance.refund_pending(ctx, lapse),
            follow_up=(lapse, "the freelancer's time to answer the refund request lapses"),
        )
    if result.code == Code.ESCROW_REFUNDED:
        lines = guidance.lines(ctx, "escrow_refunded", **fixed_price.refunded_values(ctx))
        return Outcome(Path.ESCROW_REFUNDED, eligibility=result, guidance=lines)
    fixed = fixed_price_reply(ctx, result)
    if fixed is not None:
        return fixed
    return past_window(ctx, result) or not_eligible(ctx, result)


def fixed_price_reply(ctx: Context, result: Eligibility) -> Outcome | None:
    """In-product paths of the October 2023 rules."""
    center = guidance.dispute_center(ctx)
    replies: dict[str, tuple[Path, str, dict[str, object]]] = {
        Code.FORMAL_FP_DISPUTE: (Path.FORMAL_FP_DISPUTE, "formal_fp_dispute", center),
        Code.ACTIVE_FP_ESCROW: (Path.ESCROW_IN_PRODUCT, "escrow_in_product", {}),
        Code.CLOSED_FP_ESCROW: (
            Path.ESCROW_IN_PRODUCT,
            "escrow_refund_request",
            {"response_days": ctx.policy.windows.refund_response},
        ),
    }
    if result.code not in replies:
        return None
    path, key, values = replies[result.code]
    return Outcome(path, eligibility=result, guidance=guidance.lines(ctx, key, **values))


def not_eligible(ctx: Context, result: Eligibility) -> Outcome:
    """'Requesting Dispute & Not Eligible | See "Agent-Initiated Mediation Support"'."""
    lines = guidance.lines(ctx, "not_eligible", reason=result.explanation)
    if result.code == Code.PAYMENT_KIND:
        lines += guidance.lines(ctx, "payment_kind_not_eligible")
    if ctx.contract_type == ContractType.DIRECT_CONTRACT and result.past_window:
        lines += guidance.lines(
            ctx, "direct_contract_past", window_days=ctx.policy.windows.direct_contract
        )
    return Outcome(
        Path.NOT_ELIGIBLE, eligibility=result, guidance=lines + guidance.other_options(ctx)
    )
