"""Facts the agent is asked for when the decision cannot be made without them."""

from __future__ import annotations

import enum


class Fact(enum.StrEnum):
    """A missing fact: the value is its code in `Decision.missing`."""

    INQUIRY = "inquiry"
    REQUESTER_ROLE = "requester_role"
    CONTRACT_ID = "contract_id"
    CONTRACT_TYPE = "contract_type"
    CONTRACT_STATUS = "contract_status"
    PAYMENTS = "payments"
    PAYMENT_DETAILS = "payment_details"
    FUNDS_IN_ESCROW = "funds_in_escrow"
    CLIENT_USERNAME = "client_username"
    FREELANCER_USERNAME = "freelancer_username"
    CLIENT_SEGMENT = "client_segment"
    FREELANCER_BADGE = "freelancer_badge"
    FP_EXCEPTION = "fp_exception"
    REFUND_REQUEST = "refund_request"
    DISPUTE_CLOSED = "dispute_closed"
    SUSPENDED_BY_MEDIATION = "suspended_by_mediation"
    MEDIATION_TICKET = "mediation_ticket"
    MEDIATION_TICKET_STATUS = "mediation_ticket_status"
    IN_PRODUCT_FILED_ON = "in_product_filed_on"
    MERGE_TARGET = "merge_target"
    DISPUTE_REASONS = "dispute_reasons"
    HOURS_CHARGED_ON = "hours_charged_on"
    IN_PRODUCT_STATUS = "in_product_status"
    TIME_MOSTLY_OFFLINE = "time_mostly_offline"
    OBVIOUS_FRAUD = "obvious_fraud"
    NEW_INFORMATION = "new_information"
    MEDIATION_OPENED_ON = "mediation_opened_on"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[Fact, str] = {
    Fact.INQUIRY: "what the user is asking for (Inquiry Type)",
    Fact.REQUESTER_ROLE: "whether the requester is the client or the freelancer",
    Fact.CONTRACT_ID: "the contract ID (assignment number)",
    Fact.CONTRACT_TYPE: "the contract type (hourly, fixed-price, direct contract, project catalog)",
    Fact.CONTRACT_STATUS: "whether the contract is active or closed",
    Fact.PAYMENTS: "the contract's payment history (date and kind of each payment)",
    Fact.PAYMENT_DETAILS: "the date and kind of every payment (some are incomplete)",
    Fact.FUNDS_IN_ESCROW: "the amount currently held in escrow",
    Fact.CLIENT_USERNAME: "the client's username",
    Fact.FREELANCER_USERNAME: "the freelancer's username",
    Fact.CLIENT_SEGMENT: "the client's segment in OBO (VSB, VSB+, SB, MM, LB, Enterprise)",
    Fact.FREELANCER_BADGE: "the freelancer's badge in OBO (none, Top Rated, Top Rated Plus)",
    Fact.FP_EXCEPTION: (
        "whether the client refuses to release a milestone payment, or released part of it "
        "and applied the remainder to a future milestone"
    ),
    Fact.REFUND_REQUEST: "the date and status of the client's refund request",
    Fact.DISPUTE_CLOSED: "whether the dispute is closed (CSS notes / Mediation ticket)",
    Fact.SUSPENDED_BY_MEDIATION: "whether the accounting entity was suspended by Mediation",
    Fact.MEDIATION_TICKET: "the Mediation ticket of this case (find it and link it)",
    Fact.MEDIATION_TICKET_STATUS: "the status of the Mediation ticket",
    Fact.IN_PRODUCT_FILED_ON: "the date the in-product dispute was filed",
    Fact.MERGE_TARGET: "the ticket to merge into",
    Fact.DISPUTE_REASONS: "the Dispute Reasons (check them off on the dispute form)",
    Fact.HOURS_CHARGED_ON: (
        "the date the client was charged for the disputed hours (the Monday after the week "
        "they were worked, in the Work Diary)"
    ),
    Fact.IN_PRODUCT_STATUS: (
        "the state of the in-product dispute (awaiting the freelancer, under review, decided)"
    ),
    Fact.TIME_MOSTLY_OFFLINE: "whether all (or the majority) of the disputed time is offline",
    Fact.OBVIOUS_FRAUD: (
        "whether there is very obvious abuse or fraud (hacking, identity theft, etc.)"
    ),
    Fact.NEW_INFORMATION: (
        "whether the user brings new information for Mediation (not only asks again)"
    ),
    Fact.MEDIATION_OPENED_ON: "the date the Mediation case started (its ticket's creation date)",
}


def unique(facts: list[Fact]) -> list[Fact]:
    """In first-seen order, without repeats."""
    return list(dict.fromkeys(facts))
