"""Arbitration for fixed-price disputes, reported for the agent.

"A dispute is eligible for arbitration if: 1. There are funds held in escrow;
or 2. There are no funds in escrow, but the last payment was released within
30 days". "The arbitration fee ($675.00) is split equally between the client
and freelancer." Direct Contracts: "No Arbitration available."
"""

from __future__ import annotations

from decimal import Decimal

from .context import Context
from .decision import ArbitrationReport
from .facts import ContractType
from .payment_windows import payment_window


def report(ctx: Context) -> ArbitrationReport | None:
    """None for hourly contracts (and when the contract type is unknown)."""
    if ctx.contract_type == ContractType.DIRECT_CONTRACT:
        return ArbitrationReport(
            applicable=False,
            eligible=False,
            code="direct_contract_no_arbitration",
            explanation="Direct Contracts: no arbitration available",
        )
    if not ctx.is_fixed_price():
        return None
    eligible, code, why = fixed_price_eligibility(ctx)
    spec = ctx.policy.arbitration
    share = (spec.fee / spec.parties).quantize(Decimal("0.01"))
    return ArbitrationReport(
        applicable=True,
        eligible=eligible,
        code=code,
        explanation=why,
        provider=spec.provider,
        fee=f"{spec.fee:.2f}",
        fee_share_each=f"{share}",
    )


def fixed_price_eligibility(ctx: Context) -> tuple[bool | None, str, str]:
    escrow = ctx.contract.funds_in_escrow
    if escrow is not None and escrow > 0:
        return True, "funds_in_escrow", f"{escrow} is held in escrow"
    released = payment_window(ctx, ctx.policy.windows.arbitration)
    if released.eligible:
        return True, "last_payment_within_window", released.explanation
    if released.eligible is None or escrow is None:
        return None, "unknown", f"escrow or payments unknown: {released.explanation}"
    return False, "no_escrow_and_last_payment_past_window", released.explanation
