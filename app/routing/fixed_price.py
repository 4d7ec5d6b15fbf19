"""The October 2023 fixed-price rules.

Clients: "clients will be required to initiate disputes for FP contracts
in-product" (funds in escrow); funds already released within the last 30 days
"can be sent to Mediation", after "closing out the contract FIRST".
Freelancers, on an active contract, only when "The CL is refusing to release a
milestone payment" or "The CL released a partial milestone payment and applied
the remainder in Escrow for a future milestone".
Refund requests: "The freelancer has 7 calendar days to accept/reject that
request" and "We have no way of releasing those funds until the FL has
responded or the 7 days have lapsed."
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from . import calendar, deadlines
from .context import Context
from .eligibility_result import Code, Eligibility, unknown
from .facts import ContractStatus, RefundStatus, Role
from .missing import Fact
from .payment_windows import escrow_amount, released_window

REFUNDED = (RefundStatus.ACCEPTED, RefundStatus.LAPSED)


def assess(ctx: Context) -> Eligibility:
    role = ctx.role
    if role is None:
        return unknown("fixed-price rules differ for clients and freelancers", Fact.REQUESTER_ROLE)
    pending = refund_request(ctx)
    if pending is not None:
        return pending
    status = ctx.contract.status
    if status is None:
        return unknown("fixed-price rules depend on the contract status", Fact.CONTRACT_STATUS)
    if role == Role.CLIENT:
        return client(ctx, status)
    return freelancer(ctx, status)


def refund_request(ctx: Context) -> Eligibility | None:
    """A pending request blocks any release for 7 calendar days; a rejected one is a dispute."""
    request = ctx.contract.refund_request
    if request is None or (request.status is None and request.requested_on is None):
        return None
    if request.status is None:
        return unknown("a refund request exists but its status is unknown", Fact.REFUND_REQUEST)
    if request.status == RefundStatus.REJECTED:
        why = "the freelancer rejected the refund request, so a formal FP dispute was created"
        return Eligibility(False, Code.FORMAL_FP_DISPUTE, why)
    if request.status != RefundStatus.PENDING:
        return None
    if request.requested_on is None:
        return unknown("a refund request is pending but its date is unknown", Fact.REFUND_REQUEST)
    return pending_refund(ctx, request.requested_on)


def pending_refund(ctx: Context, requested_on: dt.date) -> Eligibility | None:
    window = ctx.policy.windows.refund_response
    lapse = deadlines.track(ctx, "refund_response", requested_on)
    why = calendar.describe("refund request", requested_on, ctx.now, window)
    if ctx.now > lapse:
        ctx.trace.add("refund_request", "lapsed", f"{why}; the freelancer's time lapsed on {lapse}")
        return None
    why += f"; nothing can be released until the freelancer responds or {lapse} passes"
    return Eligibility(False, Code.REFUND_PENDING, why, wait_until=lapse)


def client(ctx: Context, status: ContractStatus) -> Eligibility:
    released = released_window(ctx)
    if released.eligible:
        return close_first(ctx, released) if status == ContractStatus.ACTIVE else released
    if released.eligible is None:
        return released
    amount = escrow_amount(ctx)
    if amount is None:
        return unknown(f"{released.explanation}; escrow unknown", Fact.FUNDS_IN_ESCROW)
    if amount <= 0:
        return released
    if status == ContractStatus.ACTIVE:
        why = f"{amount} is in escrow on an active contract: clients dispute escrow in-product"
        return Eligibility(False, Code.ACTIVE_FP_ESCROW, why)
    return closed_escrow(ctx, str(amount))


def close_first(ctx: Context, released: Eligibility) -> Eligibility:
    """'Please walk them through closing out the contract FIRST' (`client_active_fp_released`)."""
    why = f"{released.explanation}; the contract is still active: it must be closed first"
    if ctx.policy.settings.client_active_fp_released == "escalate":
        return dataclasses.replace(released, explanation=why)
    return dataclasses.replace(
        released, code=Code.ACTIVE_FP_CLOSE_FIRST, explanation=why, close_first=True
    )


def refund_status(ctx: Context) -> RefundStatus | None:
    """The request's status, read on the calendar: a pending request past the freelancer's
    7 days has lapsed ("The FL fails to respond in-product within 7 days")."""
    request = ctx.contract.refund_request
    if request is None:
        return None
    if request.status == RefundStatus.PENDING and request.requested_on is not None:
        lapse = calendar.shift(request.requested_on, ctx.policy.windows.refund_response)
        if ctx.now > lapse:
            return RefundStatus.LAPSED
    return request.status


def refunded_values(ctx: Context) -> dict[str, object]:
    """For the `escrow_refunded` reply: accepted, or lapsed after which day."""
    request = ctx.contract.refund_request
    window = ctx.policy.windows.refund_response
    requested = request.requested_on if request is not None else None
    return {
        "accepted": refund_status(ctx) == RefundStatus.ACCEPTED,
        "response_days": window,
        "lapse_date": calendar.shift(requested, window) if requested else None,
    }


def closed_escrow(ctx: Context, amount: str) -> Eligibility:
    status = refund_status(ctx)
    if status in REFUNDED:
        how = "accepted" if status == RefundStatus.ACCEPTED else "lapsed (no answer in time)"
        why = f"the refund request was {how}: the escrow ({amount}) is refunded to the client"
        return Eligibility(False, Code.ESCROW_REFUNDED, why)
    why = f"{amount} is in escrow on a closed contract: the client requests its return in-product"
    return Eligibility(False, Code.CLOSED_FP_ESCROW, why)


def freelancer(ctx: Context, status: ContractStatus) -> Eligibility:
    if status == ContractStatus.ACTIVE:
        return freelancer_exception(ctx)
    wont_release = client_wont_release(ctx)
    if wont_release is not None:
        return wont_release
    released = released_window(ctx)
    if released.eligible is False and escrow_amount(ctx) is None:
        return unknown(f"{released.explanation}; escrow unknown", Fact.FUNDS_IN_ESCROW)
    return released


def freelancer_exception(ctx: Context) -> Eligibility:
    """The two exceptions for a freelancer on an active fixed-price contract."""
    dispute = ctx.dispute
    flags = {
        "the client is refusing to release a milestone payment": (
            dispute.client_refuses_milestone_release
        ),
        "the client released a partial milestone payment and applied the remainder in escrow "
        "to a future milestone": dispute.partial_milestone_release,
    }
    applies = [why for why, flag in flags.items() if flag]
    if applies:
        return Eligibility(
            True, Code.FL_FP_EXCEPTION, "active fixed-price contract; " + "; ".join(applies)
        )
    if None in flags.values():
        return unknown(
            "active fixed-price contract: is one of the two exceptions met?", Fact.FP_EXCEPTION
        )
    why = "active fixed-price contract and neither freelancer exception applies"
    return Eligibility(False, Code.FL_ACTIVE_NO_EXCEPTION, why)


def client_wont_release(ctx: Context) -> Eligibility | None:
    """'a FL is reaching out where their CL won't release funds / full payment in a FP contract'."""
    if ctx.dispute.client_refuses_milestone_release:
        return Eligibility(True, Code.CLIENT_WONT_RELEASE, "the client won't release the milestone")
    amount = escrow_amount(ctx)
    if refund_status(ctx) in REFUNDED:
        return None  # the escrow goes back to the client: nothing left to release
    if ctx.policy.settings.escrow_qualifies and amount is not None and amount > 0:
        why = f"the client has not released {amount} held in escrow"
        return Eligibility(True, Code.CLIENT_WONT_RELEASE, why)
    return None
