"""Which payments count: hourly and milestone payments qualify; bonus, expense and misc never."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .facts import Payment
from .policy import Policy


def qualifies(policy: Policy, payment: Payment) -> bool | None:
    """None when the payment's kind is unknown."""
    if payment.kind is None:
        return None
    return payment.kind in policy.payments.qualifying_kinds


def last_qualifying(policy: Policy, payments: list[Payment]) -> dt.date | None:
    dates = [p.date for p in payments if p.date is not None and qualifies(policy, p)]
    return max(dates, default=None)


def incomplete(policy: Policy, payments: list[Payment]) -> list[Payment]:
    """Payments whose date or kind is missing and that might qualify."""
    return [p for p in payments if p.kind is None or (p.date is None and qualifies(policy, p))]


def non_qualifying_since(policy: Policy, payments: list[Payment], since: dt.date) -> list[Payment]:
    """Known non-qualifying payments (bonus, expense, misc) dated on or after `since`."""
    return [
        p
        for p in payments
        if qualifies(policy, p) is False and p.date is not None and p.date >= since
    ]


def describe_ignored(payments: list[Payment]) -> str:
    """'; not counted: bonus 2024-06-01 (bonus, expense and misc payments never qualify)'."""
    if not payments:
        return ""
    listed = ", ".join(f"{p.kind} {p.date}" for p in payments)
    return f"; not counted: {listed} (bonus, expense and misc payments never qualify)"


def amount_in_window(policy: Policy, payments: list[Payment], since: dt.date) -> Decimal:
    """Sum of qualifying payments dated on or after `since` (unknown amounts count 0)."""
    return sum(
        (
            p.amount or Decimal(0)
            for p in payments
            if qualifies(policy, p) and p.date is not None and p.date >= since
        ),
        Decimal(0),
    )
