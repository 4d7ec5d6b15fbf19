"""Eligibility for Mediation.

"Mediation Support is only available on contracts with payments issued in the
last 30 days OR if there are currently funds held in escrow (bonus payments do
not qualify)." Direct contracts: "Escrow Payments were released in the last 7
days (only Direct Contracts)". Fixed-price contracts follow the October 2023
rules (fixed_price.py), and so do Direct Contracts with their 7-day window
("(or, 7 days for Direct Contracts)"; policy `direct_contracts`).
"""

from __future__ import annotations

from . import fixed_price
from .context import Context
from .eligibility_result import Code, Eligibility, unknown
from .facts import ContractType
from .missing import Fact
from .payment_windows import closed_contract, direct_window, escrow, payment_window


def assess(ctx: Context) -> Eligibility:
    """Is this case eligible for Mediation, and why."""
    contract_type = ctx.contract_type
    if contract_type is None:
        return unknown("the contract type is unknown", Fact.CONTRACT_TYPE)
    excluded = disputed_kind(ctx)
    if excluded is not None:
        return excluded
    if contract_type == ContractType.DIRECT_CONTRACT:
        if ctx.policy.direct_contracts.fixed_price_rules:
            return fixed_price.assess(ctx)
        return direct_contract(ctx)
    if ctx.is_fixed_price():
        return fixed_price.assess(ctx)
    return hourly(ctx)


def disputed_kind(ctx: Context) -> Eligibility | None:
    """'Important - bonuses, expense, and miscellaneous payments are not eligible for mediation.'"""
    kind = ctx.dispute.disputed_payment_kind
    if kind is None or kind in ctx.policy.payments.qualifying_kinds:
        return None
    article = "an" if kind.value[0] in "aeiou" else "a"
    why = (
        f"the disputed payment is {article} {kind.value} payment; bonuses, expense and "
        "miscellaneous payments are not eligible for mediation"
    )
    return Eligibility(False, Code.PAYMENT_KIND, why)


def hourly(ctx: Context) -> Eligibility:
    result = payment_window(ctx, ctx.policy.windows.mediation)
    if result.eligible:
        return closed_contract(ctx, result)
    return escrow(ctx) or result


def direct_contract(ctx: Context) -> Eligibility:
    """7 days from escrow release (else from the last qualifying payment); no arbitration.
    Used alone when the policy's `direct_contracts.fixed_price_rules` is false."""
    return direct_window(ctx)
