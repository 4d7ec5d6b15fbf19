"""What a routing path decides, before it is assembled into a `Decision`."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from .decision import MergeVerdict, Note
from .eligibility_result import Eligibility


class Path(enum.StrEnum):
    """Every way a decision can go; the value is the `triage_path_<value>` tag."""

    TICKET_CLOSED = "ticket_closed"
    OWNED_BY_MEDIATION = "owned_by_mediation"
    MERGE_BLOCKED = "merge_blocked"
    MERGE_ALLOWED = "merge_allowed"
    NEEDS_INFO = "needs_info"
    SUSPENDED_ACCOUNT_REVIEW = "suspended_account_review"
    SUSPENDED_ACCOUNT_DISPUTE_OPEN = "suspended_account_dispute_open"
    SUSPENDED_ACCOUNT_NOT_MEDIATION = "suspended_account_not_mediation"
    WITH_MEDIATION_NOTE = "with_mediation_note"
    WITH_MEDIATION_REASSIGN = "with_mediation_reassign"
    CHANGE_TERMS_HOURLY = "change_terms_hourly"
    PAYMENT_REFUSAL = "payment_refusal"
    CHARGEBACK_THREAT = "chargeback_threat"
    NDF = "ndf_escalation"
    HOURLY_ABUSE = "hourly_abuse_escalation"
    UIR = "uir_retention"
    IN_PRODUCT_UPDATE = "in_product_update"
    IN_PRODUCT_RETENTION = "in_product_retention"
    CONTENT_ENGAGEMENT = "abusive_communication_ce"
    MEDIATION_ESCALATION = "mediation_escalation"
    CLOSE_CONTRACT_FIRST = "close_contract_first"
    ESCROW_IN_PRODUCT = "escrow_in_product"
    REFUND_REQUEST_PENDING = "refund_request_pending"
    FORMAL_FP_DISPUTE = "formal_fp_dispute"
    RETENTION_PAST_WINDOW = "retention_past_window"
    NOT_ELIGIBLE = "not_eligible"
    # The playbook audit (docs/playbook.md, families 13-16).
    HOURLY_IN_PRODUCT_FIRST = "hourly_in_product_first"
    IN_PRODUCT_HOURLY_OPEN = "in_product_hourly_open"
    MANUAL_DISPUTE_CANDIDATE = "manual_dispute_candidate"
    ESCROW_REFUNDED = "escrow_refunded"
    MEDIATION_CASE_OVER = "mediation_case_over"
    MEDIATION_SOLVED_NO_UPDATE = "mediation_solved_no_update"


# The playbook's own paths to a Mediation queue for cases already with Mediation:
# "If showing 'solved' ... assign your ticket to Mediation" and the accounting
# entity "Still Suspended & Dispute Now Closed". Every other Mediation route needs
# an eligible case.
# Paths that change nothing on the ticket (not even the service's tags).
HANDS_OFF = frozenset({Path.TICKET_CLOSED, Path.OWNED_BY_MEDIATION})

ALREADY_WITH_MEDIATION = frozenset({Path.WITH_MEDIATION_REASSIGN, Path.SUSPENDED_ACCOUNT_REVIEW})


@dataclass
class Outcome:
    path: Path
    eligibility: Eligibility | None = None
    queue: str | None = None
    status: str | None = None
    macro: bool = False
    dispute_form: bool = False
    notes: list[Note] = field(default_factory=list)
    guidance: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    merge: MergeVerdict | None = None
    follow_up: tuple[dt.date, str] | None = None
    reply: str | None = None  # the policy `replies` template the user gets on this path
