"""Ticket facts: the input of `decide` (docs/design.md, "Ticket facts").

Every field but `ticket.id` may be absent (None): absence is a fact the routing
handles by asking the agent, never by guessing. Enumerations accept the
docs/design.md spellings case-insensitively (Zendesk upper-cases some values, e.g.
status "OPEN"), and ignore spaces, dashes and underscores ("fixed-price",
"top_rated_plus"). Unknown keys are ignored.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


def _fold(value: str) -> str:
    return "".join(ch for ch in value.casefold() if ch.isalnum() or ch == "+")


class LenientEnum(enum.StrEnum):
    """A string enum that also accepts its values in any case and separator style."""

    @classmethod
    def _missing_(cls, value: object) -> LenientEnum | None:
        if not isinstance(value, str):
            return None
        folded = _fold(value)
        return next((member for member in cls if _fold(member.value) == folded), None)


class Channel(LenientEnum):
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    WEB = "web"
    API = "api"


class TicketStatus(LenientEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    HOLD = "hold"
    SOLVED = "solved"
    CLOSED = "closed"


class Role(LenientEnum):
    CLIENT = "client"
    FREELANCER = "freelancer"


class Inquiry(LenientEnum):
    DISPUTE = "dispute"
    FOLLOW_UP = "follow_up"
    CHANGE_TERMS = "change_terms"
    PAYMENT_REFUSAL = "payment_refusal"
    CHARGEBACK_THREAT = "chargeback_threat"
    UIR = "uir"
    ACCOUNT_SUSPENDED = "account_suspended"
    ABUSE_REPORT = "abuse_report"
    MERGE_REQUESTED = "merge_requested"


class ContractType(LenientEnum):
    HOURLY = "hourly"
    FIXED_PRICE = "fixed_price"
    DIRECT_CONTRACT = "direct_contract"
    PROJECT_CATALOG = "project_catalog"


class ContractStatus(LenientEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class PaymentKind(LenientEnum):
    HOURLY = "hourly"
    MILESTONE = "milestone"
    BONUS = "bonus"
    EXPENSE = "expense"
    MISC = "misc"


class RefundStatus(LenientEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LAPSED = "lapsed"


class Segment(LenientEnum):
    VSB = "VSB"
    VSB_PLUS = "VSB+"
    SB = "SB"
    MM = "MM"
    LB = "LB"
    ENTERPRISE = "Enterprise"


class Badge(LenientEnum):
    NONE = "none"
    TOP_RATED = "Top Rated"
    TOP_RATED_PLUS = "Top Rated Plus"


class InProductStatus(LenientEnum):
    AWAITING_FREELANCER = "awaiting_freelancer"
    UNDER_REVIEW = "under_review"
    DECIDED = "decided"


class DisputeReason(LenientEnum):
    """The playbook's dispute reasons taxonomy ("Manual Time" ... "Abusive Communication")."""

    MANUAL_TIME = "Manual Time"
    UNAUTHORIZED_HOURS = "Unauthorized Hours"
    EXCESSIVE_HOURS = "Excessive Hours"
    NON_WORK_RELATED_HOURS = "Non-Work Related Hours"
    FRAUDULENT_ACTIVITY = "Fraudulent Activity"
    CONTRACTOR_UNRESPONSIVE = "Contractor Unresponsive"
    NO_DELIVERABLE = "No Deliverable / Performance"
    POOR_DELIVERABLE = "Poor Deliverable / Performance"
    MISSED_DEADLINES = "Missed Deadlines"
    POOR_COMMUNICATION = "Poor Communication Skills"
    ABUSIVE_COMMUNICATION = "Abusive Communication"


class FactsModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Ticket(FactsModel):
    id: int
    status: TicketStatus | None = None
    channel: Channel | None = None
    group: str | None = None
    form: str | None = None
    brand: str | None = None
    tags: list[str] | None = None
    subject: str | None = None
    description: str | None = None
    latest_public_comment: str | None = None
    created_on: dt.date | None = None  # the day the user contacted us (Zendesk created_at)


class Payment(FactsModel):
    date: dt.date | None = None
    kind: PaymentKind | None = None
    amount: Decimal | None = None


class RefundRequest(FactsModel):
    requested_on: dt.date | None = None
    status: RefundStatus | None = None


class Contract(FactsModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str | None = None
    type: ContractType | None = None
    status: ContractStatus | None = None
    payments: list[Payment] | None = None
    funds_in_escrow: Decimal | None = None
    escrow_released_on: dt.date | None = None
    refund_request: RefundRequest | None = None
    payment_past_due_days: int | None = None


class Client(FactsModel):
    username: str | None = None
    segment: Segment | None = None
    profile_url: str | None = None


class Freelancer(FactsModel):
    username: str | None = None
    badge: Badge | None = None
    ndf: bool | None = None
    profile_url: str | None = None


class InProductDispute(FactsModel):
    filed_on: dt.date | None = None
    status: InProductStatus | None = None


class Dispute(FactsModel):
    reasons: list[DisputeReason] | None = None
    disputed_payment_kind: PaymentKind | None = None
    closed: bool | None = None
    client_refuses_milestone_release: bool | None = None
    partial_milestone_release: bool | None = None
    in_product: InProductDispute | None = None
    # Hourly contracts (docs/playbook.md, family 13). The charge date of the disputed hours
    # ("charged the following Monday"): their review window ends that week's Friday.
    hours_charged_on: dt.date | None = None
    # Agent-only facts (Zendesk agent fields): the manual dispute criteria, and whether a
    # follow-up on a solved Mediation case brings new information.
    time_mostly_offline: bool | None = None
    obvious_fraud: bool | None = None
    manual_dispute_requested: bool | None = None
    new_information: bool | None = None


class Account(FactsModel):
    suspended_by_mediation: bool | None = None


class Abuse(FactsModel):
    autoclicker: bool | None = None
    hours_last_week: Decimal | None = None
    unauthorized_hours: bool | None = None
    non_work_hours: bool | None = None


class LinkedTicket(FactsModel):
    id: int | None = None
    status: TicketStatus | None = None
    opened_on: dt.date | None = None  # the Mediation case started (ticket created_at)
    solved_on: dt.date | None = None  # the Mediation ticket was solved


class MergeRequest(FactsModel):
    source_ids: list[int] | None = None
    target_id: int | None = None


class TicketFacts(FactsModel):
    """Everything `decide` may know about one ticket; only `ticket.id` is required."""

    ticket: Ticket
    requester_role: Role | None = None
    inquiry: Inquiry | None = None
    contract: Contract | None = None
    client: Client | None = None
    freelancer: Freelancer | None = None
    dispute: Dispute | None = None
    account: Account | None = None
    abuse: Abuse | None = None
    linked_mediation_ticket: LinkedTicket | None = None
    merge: MergeRequest | None = None
    related_rt_link: str | None = None
    # The Zendesk subdomain, for agent links to tickets (https://<sub>.zendesk.com/agent/...).
    zendesk_subdomain: str | None = None
    # Values an agent entered that could not be read ("could not read X: ..."); never guessed.
    unreadable: list[str] | None = None


def text(value: str | None) -> str | None:
    """A usable text value: stripped, or None when absent or blank."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None
