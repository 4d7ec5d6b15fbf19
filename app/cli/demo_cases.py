"""The demo's sample cases: one per playbook path, dated relative to today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class DemoCase:
    label: str
    subject: str
    channel: str
    fields: dict[str, Any]  # Zendesk field title -> option name(s) or text
    contract: dict[str, Any] | None = None
    users: list[dict[str, Any]] = field(default_factory=list)


def _ago(today: date, days: int) -> str:
    return (today - timedelta(days=days)).isoformat()


def _client(name: str, segment: str) -> dict[str, Any]:
    return {
        "username": name,
        "role": "client",
        "segment": segment,
        "profile_url": f"https://obo.example/users/{name}",
    }


def _freelancer(name: str, badge: str = "none", ndf: bool = False) -> dict[str, Any]:
    return {
        "username": name,
        "role": "freelancer",
        "badge": badge,
        "ndf": ndf,
        "profile_url": f"https://obo.example/users/{name}",
    }


def _contract(
    cid: str, kind: str, status: str, client: str, fl: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": cid,
        "type": kind,
        "status": status,
        "client_username": client,
        "freelancer_username": fl,
        "funds_in_escrow": "0.00",
        "payments": [],
        **extra,
    }


def _fields(
    cid: str | None, role: str, inquiry: str, reasons: list[str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"Requester Role": role, "Inquiry Type": inquiry}
    if cid:
        out["Contract ID"] = cid
    if reasons:
        out["Dispute Reasons"] = reasons
    return out


def demo_cases(today: date) -> list[DemoCase]:
    def pay(days: int, kind: str = "hourly") -> dict[str, str]:
        return {"date": _ago(today, days), "kind": kind, "amount": "250.00"}

    return [
        DemoCase(
            "hourly, paid 12 days ago",
            "Freelancer billed hours with no work",
            "web",
            _fields("C-1001", "client", "dispute", ["Manual Time"]),
            _contract("C-1001", "hourly", "closed", "acme", "jo", payments=[pay(12)]),
            [_client("acme", "VSB"), _freelancer("jo")],
        ),
        DemoCase(
            "FP, HV freelancer, milestone refused",
            "Client will not release milestone",
            "phone",
            _fields("C-1002", "freelancer", "dispute", ["Poor Communication Skills"]),
            _contract(
                "C-1002",
                "fixed_price",
                "active",
                "bigco",
                "toprated",
                funds_in_escrow="900.00",
                payments=[pay(20, "milestone")],
                dispute={"client_refuses_milestone_release": True},
            ),
            [_client("bigco", "VSB"), _freelancer("toprated", "Top Rated Plus")],
        ),
        DemoCase(
            "enterprise client",
            "Deliverables never arrived",
            "email",
            _fields("C-1003", "client", "dispute", ["No Deliverable / Performance"]),
            _contract("C-1003", "hourly", "closed", "globex", "sam", payments=[pay(12)]),
            [_client("globex", "Enterprise"), _freelancer("sam")],
        ),
        DemoCase(
            "project catalog",
            "Catalog project not delivered",
            "chat",
            _fields("C-1004", "client", "dispute", ["Missed Deadlines"]),
            _contract(
                "C-1004",
                "project_catalog",
                "closed",
                "initech",
                "lee",
                payments=[pay(8, "milestone")],
            ),
            [_client("initech", "VSB"), _freelancer("lee")],
        ),
        DemoCase(
            "direct contract, escrow released 3 days ago",
            "Direct contract dispute",
            "web",
            _fields("C-1005", "client", "dispute", ["Poor Deliverable / Performance"]),
            _contract(
                "C-1005",
                "direct_contract",
                "closed",
                "umbrella",
                "kim",
                escrow_released_on=_ago(today, 3),
                payments=[pay(3, "milestone")],
            ),
            [_client("umbrella", "VSB"), _freelancer("kim")],
        ),
        DemoCase(
            "last payment 45 days ago",
            "Old hourly charges",
            "email",
            _fields("C-1006", "client", "dispute", ["Manual Time"]),
            _contract("C-1006", "hourly", "closed", "hooli", "max", payments=[pay(45)]),
            [_client("hooli", "VSB"), _freelancer("max")],
        ),
        DemoCase(
            "autoclicker report",
            "Freelancer using an autoclicker",
            "chat",
            _fields("C-1007", "client", "abuse_report", ["Unauthorized Hours"]),
            _contract(
                "C-1007",
                "hourly",
                "active",
                "stark",
                "bot",
                payments=[pay(6)],
                abuse={"autoclicker": True, "unauthorized_hours": True},
            ),
            [_client("stark", "VSB"), _freelancer("bot")],
        ),
        DemoCase(
            "NDF freelancer",
            "Freelancer flagged NDF",
            "web",
            _fields("C-1008", "client", "dispute", ["Fraudulent Activity"]),
            _contract("C-1008", "hourly", "closed", "wayne", "ndfguy", payments=[pay(50)]),
            [_client("wayne", "VSB"), _freelancer("ndfguy", ndf=True)],
        ),
        DemoCase(
            "abusive communication only",
            "Freelancer cursed at me",
            "chat",
            _fields("C-1009", "client", "dispute", ["Abusive Communication"]),
            _contract("C-1009", "hourly", "closed", "tyrell", "rude", payments=[pay(4)]),
            [_client("tyrell", "VSB"), _freelancer("rude")],
        ),
        DemoCase(
            "no contract id given",
            "I want my money back",
            "email",
            _fields(None, "client", "dispute"),
        ),
    ]


def hourly_case(today: date, contract_id: str = "C-42", days_since_payment: int = 10) -> DemoCase:
    """A plain eligible hourly dispute (Mediation_Tier_1_CX420): tests and benchmarks."""
    return DemoCase(
        "hourly dispute",
        "Hours billed with no work",
        "web",
        _fields(contract_id, "client", "dispute", ["Manual Time"]),
        _contract(
            contract_id,
            "hourly",
            "closed",
            "acme",
            "jo",
            payments=[
                {"date": _ago(today, days_since_payment), "kind": "hourly", "amount": "100.00"}
            ],
        ),
        [_client("acme", "VSB"), _freelancer("jo")],
    )
