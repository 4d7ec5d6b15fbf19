"""Every outcome speaks: one e2e test per outcome family, service and sandbox over HTTP.

For each path the playbook describes, a ticket is opened as a user would, the
trigger's webhook is delivered, and the test reads the ticket as an agent does:
every ticket the service changed carries one internal note that says what was
decided and why ("[TRIAGE] ..." / "Why: ..."), and no ticket is solved without a
public reply after the user last wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.agents_helpers import (
    OUTCOME_NOTE,
    Contract,
    Party,
    answered_since_user_wrote,
    end_user,
    notify,
    open_ticket,
    outcome_notes,
    service_puts,
)
from tests.e2e.test_followup_flow import Desk, decisions

TODAY = datetime.now(UTC).date()


def dispute(
    cid: str, role: str = "client", inquiry: str = "dispute", more: dict[str, Any] | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"Contract ID": cid, "Requester Role": role, "Inquiry Type": inquiry}
    if inquiry in ("dispute", "abuse_report"):
        fields["Dispute Reasons"] = ["Manual Time"]
    return fields | (more or {})


@dataclass
class Case:
    label: str
    contract: Contract
    fields: dict[str, Any]
    path: str
    note_has: list[str] = field(default_factory=list)  # lines the agent must read
    mediation_ticket: str | None = None  # status of an existing Mediation ticket of the case


def fp(cid: str, status: str, paid_days_ago: int | None = None, **extra: Any) -> Contract:
    return Contract(cid, "fixed_price", status, paid_days_ago, extra=extra)


FAMILIES: dict[str, list[Case]] = {
    "mediation": [
        Case(
            "escalation",
            Contract("C-M1"),
            dispute("C-M1"),
            "mediation_escalation",
            ["Escalated to Mediation_Tier_1_CX420", "OBO profile links: client https://obo"],
        ),
        Case(
            "hv escalation",
            Contract("C-M2", client=Party("cl-sb", "client", segment="SB")),
            dispute("C-M2"),
            "mediation_escalation",
            ["Why this queue: client segment SB is in VSB+, SB, MM, LB"],
        ),
        Case(
            "reasons missing",
            Contract("C-M3"),
            dispute("C-M3", more={"Dispute Reasons": None}),
            "needs_info",
            ['fill in the ticket field "Dispute Reasons"'],
        ),
    ],
    "hand-offs": [
        Case(
            "past window",
            Contract("C-H1", paid_days_ago=45),
            dispute("C-H1"),
            "retention_past_window",
            ["Assigned to Client Retention Tier 2", "Related RT:"],
        ),
        Case(
            "uir",
            Contract("C-H2"),
            dispute("C-H2", inquiry="uir"),
            "uir_retention",
            ["UIR-related inquiries are handled by Client Retention"],
        ),
        Case(
            "auto clicker (agent field)",
            Contract("C-H3"),
            dispute("C-H3", inquiry="abuse_report", more={"Abuse: Auto Clicker": "Yes"}),
            "hourly_abuse_escalation",
            ["Assigned to Hourly Job Abuse Queue"],
        ),
        Case(
            "ndf",
            Contract("C-H4", freelancer=Party("fl-ndf", "freelancer", ndf=True)),
            dispute("C-H4"),
            "ndf_escalation",
            ["determined the freelancer as NDF"],
        ),
        Case(
            "abusive communication only",
            Contract("C-H5"),
            dispute("C-H5", more={"Dispute Reasons": ["Abusive Communication"]}),
            "abusive_communication_ce",
            ["Assigned to Content_Engagement_Tier_1_TS425"],
        ),
    ],
    "replies": [
        Case(
            "not eligible",
            Contract("C-R1", paid_days_ago=120),
            dispute("C-R1"),
            "not_eligible",
            ["Not eligible for Mediation", "Tell the user:"],
        ),
        Case(
            "close the contract first",
            fp("C-R2", "active", paid_days_ago=5),
            dispute("C-R2"),
            "close_contract_first",
            ["the contract must be closed", "Tell the user:"],
        ),
        Case(
            "escrow in-product",
            fp("C-R3", "active", funds_in_escrow="300.00"),
            dispute("C-R3"),
            "escrow_in_product",
            ["the escrow is handled in-product"],
        ),
        Case(
            "refund request pending",
            fp(
                "C-R4",
                "closed",
                funds_in_escrow="300.00",
                refund_request={
                    "requested_on": str(TODAY - timedelta(days=2)),
                    "status": "pending",
                },
            ),
            dispute("C-R4"),
            "refund_request_pending",
            ["Deadline: "],
        ),
        Case(
            "formal fixed-price dispute",
            fp(
                "C-R5",
                "closed",
                funds_in_escrow="300.00",
                refund_request={
                    "requested_on": str(TODAY - timedelta(days=9)),
                    "status": "rejected",
                },
            ),
            dispute("C-R5"),
            "formal_fp_dispute",
            ["a formal fixed-price dispute already exists"],
        ),
        Case(
            "in-product update (agent fields)",
            Contract("C-R6"),
            dispute(
                "C-R6",
                inquiry="follow_up",
                more={
                    "In-product Dispute Status": "Under Review",
                    "In-product Dispute Filed On": str(TODAY - timedelta(days=1)),
                },
            ),
            "in_product_update",
            ["still inside its review time"],
        ),
        Case(
            "hourly change of terms",
            Contract("C-R7"),
            dispute("C-R7", inquiry="change_terms"),
            "change_terms_hourly",
            ["in the dispute's comments on the Site"],
        ),
        Case(
            "payment refusal",
            Contract("C-R8"),
            dispute("C-R8", inquiry="payment_refusal"),
            "payment_refusal",
            ["payments 5 days past due"],
        ),
        Case(
            "chargeback threat",
            Contract("C-R9"),
            dispute("C-R9", inquiry="chargeback_threat"),
            "chargeback_threat",
            ["How to Handle Chargeback Threat"],
        ),
        Case(
            "not suspended by Mediation",
            Contract("C-R10"),
            dispute("C-R10", inquiry="account_suspended", more={"AE Suspended by Mediation": "No"}),
            "suspended_account_not_mediation",
            ["was not suspended by Mediation"],
        ),
        Case(
            "suspended, dispute still open",
            Contract("C-R11"),
            dispute(
                "C-R11",
                inquiry="account_suspended",
                more={"AE Suspended by Mediation": "Yes", "Dispute Closed": "No"},
            ),
            "suspended_account_dispute_open",
            ["do not resume the accounting entity"],
        ),
    ],
    "with mediation": [
        Case(
            "follow-up, Mediation ticket open",
            Contract("C-W1"),
            dispute("C-W1", inquiry="follow_up"),
            "with_mediation_note",
            ["Public reply sent to the user"],
            mediation_ticket="open",
        ),
        Case(
            "follow-up, Mediation ticket solved",
            Contract("C-W2"),
            # the agent says the user brings new information (a solved case is not reopened
            # for a plain "any news?")
            dispute("C-W2", inquiry="follow_up", more={"New Information for Mediation": "Yes"}),
            "with_mediation_reassign",
            ["[TEAM] Customer Support", "[ZD TICKET #] https://acme.zendesk.com/agent/tickets/"],
            mediation_ticket="solved",
        ),
        Case(
            "suspended, dispute closed",
            Contract("C-W3"),
            dispute(
                "C-W3",
                inquiry="account_suspended",
                more={"AE Suspended by Mediation": "Yes", "Dispute Closed": "Yes"},
            ),
            "suspended_account_review",
            ["Assigned to Mediation_Tier_1_CX420"],
        ),
    ],
}


def run_case(desk: Desk, api: httpx.Client, case: Case) -> dict[str, Any]:
    zd = desk.zd
    case.contract.seed(zd, TODAY)
    if case.mediation_ticket:
        desk.mediation_ticket(case.contract.id, status=case.mediation_ticket)
    user = end_user(zd, f"User {case.contract.id}")
    fields = {k: v for k, v in case.fields.items() if v is not None}
    ticket = open_ticket(
        desk,
        f"Help with {case.contract.id}",
        fields,
        requester_id=user,
        text=f"My {case.label} case:\nplease help",
    )
    notify(api, zd, ticket["id"], datetime.now(UTC))
    return ticket


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_outcome_leaves_a_readable_note(
    family: str, zd: httpx.Client, api: httpx.Client
) -> None:
    desk = Desk(zd)
    for case in FAMILIES[family]:
        ticket = run_case(desk, api, case)
        tid = ticket["id"]
        record = decisions(api, tid)[0]
        assert record["decision"]["path"] == case.path, (case.label, record["decision"]["trace"])
        assert service_puts(zd, tid) >= 1, case.label  # every path here changes the ticket
        notes = outcome_notes(desk, tid)
        assert len(notes) == 1, (case.label, desk.notes(tid))
        note = notes[0]
        lines = note.splitlines()
        assert lines[0].startswith(OUTCOME_NOTE) and lines[1].startswith("Why: "), note
        assert "triage_" not in note, "tags are machine markers, never the message"
        for wanted in case.note_has:
            assert wanted in note, (case.label, wanted, note)
        after = desk.ticket(tid)
        if after["status"] == "solved":
            assert answered_since_user_wrote(zd, tid), case.label
