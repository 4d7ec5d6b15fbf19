"""Plain-English descriptions of a case for internal notes ("Quick summary of the issue")."""

from __future__ import annotations

import unicodedata

from .context import Context
from .eligibility_result import Eligibility
from .facts import ContractType, Inquiry, text

INQUIRY_PHRASES: dict[Inquiry, str] = {
    Inquiry.DISPUTE: "wants to dispute",
    Inquiry.FOLLOW_UP: "follows up on the dispute",
    Inquiry.CHANGE_TERMS: "asks to change the terms of the dispute",
    Inquiry.PAYMENT_REFUSAL: "refuses payment until the dispute is resolved",
    Inquiry.CHARGEBACK_THREAT: "threatens a chargeback",
    Inquiry.UIR: "has a UIR-related inquiry",
    Inquiry.ACCOUNT_SUSPENDED: "asks about an accounting entity suspended by Mediation",
    Inquiry.ABUSE_REPORT: "reports abuse in the freelancer's work diary",
    Inquiry.MERGE_REQUESTED: "has a ticket someone wants to merge",
}


def who(ctx: Context) -> str:
    return ctx.role.value.capitalize() if ctx.role is not None else "The requester"


CONTRACT_KINDS: dict[ContractType, str] = {
    ContractType.HOURLY: "hourly contract",
    ContractType.FIXED_PRICE: "fixed-price contract",
    ContractType.DIRECT_CONTRACT: "Direct Contract",
    ContractType.PROJECT_CATALOG: "Project Catalog contract",
}


def contract_phrase(ctx: Context) -> str:
    contract = ctx.contract
    kind = CONTRACT_KINDS[contract.type] if contract.type else "contract of unknown type"
    status = f", {contract.status.value}" if contract.status else ""
    return f"{kind} {text(contract.id) or '(id unknown)'}{status}"


BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
MAX_QUOTED = 200


def quote_safe(value: str) -> str:
    """A requester's words on one line: no line breaks or control characters to
    forge note lines, no bidi controls to reverse what agents read, bounded."""
    chars = []
    for char in value:
        if char in BIDI_CONTROLS:
            continue
        category = unicodedata.category(char)
        chars.append(" " if category in ("Cc", "Zl", "Zp") else char)
    flat = " ".join("".join(chars).split())
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 1] + "\u2026"


def details(ctx: Context) -> str:
    """One sentence for [DETAILS]: who wrote in, about what, on which contract. The subject
    is quoted only when there is no description (the notes quote that on its own line)."""
    inquiry = INQUIRY_PHRASES.get(ctx.inquiry, "wrote in") if ctx.inquiry else "wrote in"
    channel = f" via {ctx.facts.ticket.channel.value}" if ctx.facts.ticket.channel else ""
    subject = quote_safe(text(ctx.facts.ticket.subject) or "")
    has_text = text(ctx.facts.ticket.description) or text(ctx.facts.ticket.latest_public_comment)
    quoted = f' Subject: "{subject}".' if subject and not has_text else ""
    return f"{who(ctx)} {inquiry}{channel}; {contract_phrase(ctx)}.{quoted}"


def plain_eligibility(result: Eligibility | None) -> str:
    """The eligibility verdict as a plain sentence: dates, not day counts."""
    if result is None:
        return "not assessed"
    window = _window(result.code)
    if window is not None and result.last_payment is not None:
        where = "within" if result.eligible else "older than"
        day = result.last_payment
        return f"the last qualifying payment, on {day}, is {where} the {window}-day window"
    return result.explanation


def _window(code: str) -> str | None:
    for marker in ("within_", "past_"):
        if marker in code and code.endswith("_days"):
            return code.split(marker, 1)[1].removesuffix("_days")
    return None


def issue(ctx: Context, eligibility: Eligibility | None = None) -> str:
    """The quick summary: details, eligibility and dispute reasons."""
    parts = [details(ctx)]
    if eligibility is not None and eligibility.eligible is not None:
        parts.append(f"Eligibility: {plain_eligibility(eligibility)}.")
    reasons = ctx.dispute.reasons
    if reasons:
        parts.append("Reasons: " + ", ".join(r.value for r in reasons) + ".")
    return " ".join(parts)
