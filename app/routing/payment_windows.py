"""Windows counted from a payment: 'payments issued in the last 30 days', 'the last 7 days'."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from . import calendar, payments
from .context import Context
from .eligibility_result import Code, Eligibility, unknown
from .facts import ContractStatus, ContractType
from .missing import Fact


def payment_window(ctx: Context, window: int, prefix: str = "") -> Eligibility:
    """Was the last qualifying payment issued within `window` calendar days?"""
    history = ctx.contract.payments
    if history is None:
        return unknown("the contract's payment history is unknown", Fact.PAYMENTS)
    last = payments.last_qualifying(ctx.policy, history)
    if last is None:
        return no_qualifying_payment(ctx)
    return dated_window(ctx, last, "last qualifying payment", window, prefix)


def dated_window(ctx: Context, day: dt.date, label: str, window: int, prefix: str) -> Eligibility:
    why = calendar.describe(label, day, ctx.now, window)
    days = calendar.elapsed_days(day, ctx.now)
    if days <= window:
        return Eligibility(
            True, Code.within(window, prefix), why, last_payment=day, days_since=days
        )
    history = ctx.contract.payments or []
    if payments.incomplete(ctx.policy, history):
        return unknown(f"{why}; some payments lack a date or kind", Fact.PAYMENT_DETAILS)
    since = calendar.shift(ctx.now, -window)
    why += payments.describe_ignored(payments.non_qualifying_since(ctx.policy, history, since))
    return Eligibility(
        False, Code.past(window, prefix), why, last_payment=day, days_since=days, past_window=True
    )


def no_qualifying_payment(ctx: Context) -> Eligibility:
    history = ctx.contract.payments or []
    if payments.incomplete(ctx.policy, history):
        why = (
            "no payment with a known date and a qualifying kind; some payments lack a date or kind"
        )
        return unknown(why, Fact.PAYMENT_DETAILS)
    ignored = payments.non_qualifying_since(ctx.policy, history, dt.date.min)
    why = "no qualifying (hourly or milestone) payment on the contract"
    return Eligibility(False, Code.NO_QUALIFYING_PAYMENT, why + payments.describe_ignored(ignored))


def escrow_amount(ctx: Context) -> Decimal | None:
    return ctx.contract.funds_in_escrow


def escrow(ctx: Context) -> Eligibility | None:
    """'OR if there are currently funds held in escrow' (policy `escrow_qualifies`)."""
    amount = escrow_amount(ctx)
    if not ctx.policy.settings.escrow_qualifies or amount is None or amount <= 0:
        return None
    return Eligibility(True, Code.FUNDS_IN_ESCROW, f"{amount} is currently held in escrow")


def closed_contract(ctx: Context, result: Eligibility) -> Eligibility:
    """'... where the contract is closed': applied only when the policy requires it."""
    if not ctx.policy.settings.require_closed_contract:
        return result
    status = ctx.contract.status
    if status is None:
        return unknown("the policy requires a closed contract", Fact.CONTRACT_STATUS)
    if status == ContractStatus.CLOSED:
        return result
    why = f"{result.explanation}; the contract is still active and must be closed first"
    return dataclasses.replace(
        result, code=Code.CLOSE_CONTRACT_FIRST, explanation=why, close_first=True
    )


def direct_window(ctx: Context) -> Eligibility:
    """Direct contracts: 7 days from escrow release (else from the last qualifying payment)."""
    window = ctx.policy.windows.direct_contract
    released = ctx.contract.escrow_released_on
    if released is not None:
        return dated_window(ctx, released, "escrow release", window, "direct_")
    return payment_window(ctx, window, "direct_")


def released_window(ctx: Context) -> Eligibility:
    """'funds already released within the last 30 days (or, 7 days for Direct Contracts)'."""
    if ctx.contract_type == ContractType.DIRECT_CONTRACT:
        return direct_window(ctx)
    return payment_window(ctx, ctx.policy.windows.mediation)
