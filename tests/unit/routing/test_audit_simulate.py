"""`python -m app simulate` on each finding of the playbook audit gives the playbook's answer;
the README's simulate example produces a routing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.routing import TicketFacts

from .factories import default_policy, run

ROOT = Path(__file__).resolve().parents[3]
TODAY = "2024-06-12"  # a Wednesday


def facts(ticket_id: int, **parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ticket": {"id": ticket_id, "channel": "chat"},
        "requester_role": "client",
        "inquiry": "dispute",
        "client": {"username": "acme", "segment": "VSB"},
        "freelancer": {"username": "jo", "badge": "none"},
    }
    return base | parts


def hourly(status: str, *charges: str) -> dict[str, Any]:
    payments = [{"date": day, "kind": "hourly", "amount": "400.00"} for day in charges]
    return {"id": "C-1", "type": "hourly", "status": status, "payments": payments}


def fixed(kind: str, status: str, escrow: str, **more: Any) -> dict[str, Any]:
    return {"id": "C-2", "type": kind, "status": status, "funds_in_escrow": escrow} | more


# (finding, facts, expected path, a phrase the agent must read)
FINDINGS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "1 hourly hours still inside Monday-Friday review: in-product, not Mediation",
        facts(1, contract=hourly("active", "2024-06-10")),
        "hourly_in_product_first",
        "until 2024-06-14",
    ),
    (
        "2 an in-product hourly dispute already open against the freelancer",
        facts(
            2,
            requester_role="freelancer",
            contract=hourly("closed", "2024-06-03"),
            dispute={"in_product": {"filed_on": "2024-06-11", "status": "awaiting_freelancer"}},
        ),
        "in_product_hourly_open",
        "comments of the Dispute itself",
    ),
    (
        "3a contacted the Saturday after the review window, time offline: flagged",
        facts(
            3,
            ticket={"id": 3, "channel": "chat", "created_on": "2024-06-08"},
            contract=hourly("closed", "2024-06-03"),
            dispute={"time_mostly_offline": True, "obvious_fraud": False},
        ),
        "manual_dispute_candidate",
        "never entered automatically",
    ),
    (
        "3b contacted the Sunday after, client insists: no manual dispute",
        facts(
            4,
            ticket={"id": 4, "channel": "chat", "created_on": "2024-06-09"},
            contract=hourly("closed", "2024-06-03"),
            dispute={
                "manual_dispute_requested": True,
                "time_mostly_offline": True,
                "reasons": ["Manual Time"],  # an escalation needs its Dispute Reasons
            },
        ),
        "mediation_escalation",
        "No manual dispute",
    ),
    (
        "4 active hourly contract outside the review window: close it first",
        facts(5, contract=hourly("active", "2024-06-03")),
        "close_contract_first",
        "only available where the contract is closed",
    ),
    (
        "5 closed FP, refund request 8 days old: lapsed, escrow refunded",
        facts(
            6,
            contract=fixed(
                "fixed_price",
                "closed",
                "300.00",
                payments=[],
                refund_request={"requested_on": "2024-06-04", "status": "pending"},
            ),
        ),
        "escrow_refunded",
        "did not respond to the refund request within 7 calendar days",
    ),
    (
        "6a active Direct Contract released 5 days ago: close first",
        facts(
            7,
            contract=fixed(
                "direct_contract", "active", "0.00", payments=[], escrow_released_on="2024-06-07"
            ),
        ),
        "close_contract_first",
        "closing out the contract FIRST",
    ),
    (
        "6b Direct Contract with escrow still held: in-product, not 'no support'",
        facts(8, contract=fixed("direct_contract", "closed", "500.00", payments=[])),
        "escrow_in_product",
        "request the return of the funds in escrow",
    ),
    (
        "7 follow-up on a Mediation case started months ago: over, not reassigned",
        facts(
            9,
            inquiry="follow_up",
            contract=hourly("closed", "2024-02-05"),
            linked_mediation_ticket={
                "id": 99,
                "status": "closed",
                "opened_on": "2024-02-20",
                "solved_on": "2024-03-15",
            },
            dispute={"new_information": True},
        ),
        "mediation_case_over",
        "not mediated again",
    ),
    (
        "8 wording: a Direct Contract escalation note",
        facts(
            10,
            contract=fixed(
                "direct_contract", "closed", "0.00", payments=[], escrow_released_on="2024-06-07"
            ),
            dispute={"reasons": ["No Deliverable / Performance"]},
        ),
        "mediation_escalation",
        "Direct Contract C-2",
    ),
]


def agent_text(decision: dict[str, Any]) -> str:
    return "\n".join([n["body"] for n in decision["notes"]] + decision["reply_guidance"])


def test_simulate_gives_the_playbook_answer_on_each_audit_finding() -> None:
    lines = "\n".join(json.dumps(item) for _, item, _, _ in FINDINGS) + "\n"
    done = subprocess.run(
        [sys.executable, "-m", "app", "simulate", "-", "--now", TODAY],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decisions = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(decisions) == len(FINDINGS)
    for (finding, _, path, phrase), decision in zip(FINDINGS, decisions, strict=True):
        assert decision["path"] == path, (finding, decision["trace"])
        assert phrase in agent_text(decision), (finding, agent_text(decision))
    assert "direct-contract contract" not in stdout_text(decisions)


def stdout_text(decisions: list[dict[str, Any]]) -> str:
    return "\n".join(agent_text(d) for d in decisions)


def test_readme_simulate_example_produces_a_routing() -> None:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"echo '(\{.*?\})' \\\n\s*\| \.venv/bin/python -m app simulate", readme, re.S)
    assert found, "the README's simulate example is gone"
    decision = run(TicketFacts.model_validate(json.loads(found.group(1))), default_policy())
    assert decision.path == "mediation_escalation", decision.missing
    assert decision.queue == "HV Mediation Tier 1"
    assert not decision.missing
