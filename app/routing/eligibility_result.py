"""The answer to "is this case eligible for Mediation?", with its reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .missing import Fact


class Code:
    """Eligibility codes (`Decision.eligibility.code`). Window codes carry their length."""

    UNKNOWN = "unknown"
    NOT_ASSESSED = "not_assessed"
    FUNDS_IN_ESCROW = "funds_in_escrow"
    FL_FP_EXCEPTION = "freelancer_fp_exception"
    CLIENT_WONT_RELEASE = "client_wont_release_funds"
    ACTIVE_FP_CLOSE_FIRST = "active_fp_close_first"
    CLOSE_CONTRACT_FIRST = "close_contract_first"
    ACTIVE_FP_ESCROW = "active_fp_escrow_in_product"
    CLOSED_FP_ESCROW = "closed_fp_escrow_refund_request"
    ESCROW_REFUNDED = "escrow_refunded_to_client"
    REFUND_PENDING = "refund_request_pending"
    FORMAL_FP_DISPUTE = "formal_fp_dispute"
    FL_ACTIVE_NO_EXCEPTION = "freelancer_active_fp_no_exception"
    PAYMENT_KIND = "payment_kind_not_eligible"
    NO_QUALIFYING_PAYMENT = "no_qualifying_payment"
    HOURLY_IN_PRODUCT = "hourly_in_product_first"
    IN_PRODUCT_OPEN = "in_product_dispute_open"

    @staticmethod
    def within(window: int, prefix: str = "") -> str:
        return f"{prefix}within_{window}_days"

    @staticmethod
    def past(window: int, prefix: str = "") -> str:
        return f"{prefix}past_{window}_days"


@dataclass(frozen=True)
class Eligibility:
    eligible: bool | None
    code: str
    explanation: str
    missing: tuple[Fact, ...] = ()
    close_first: bool = False
    last_payment: dt.date | None = None
    days_since: int | None = None
    wait_until: dt.date | None = None
    past_window: bool = False  # ineligible only because the last payment is too old


def unknown(explanation: str, *missing: Fact) -> Eligibility:
    return Eligibility(None, Code.UNKNOWN, explanation, missing=missing)


def not_assessed(why: str) -> Eligibility:
    return Eligibility(None, Code.NOT_ASSESSED, why)
