"""Helpers and seeded ids shared by the sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx

AUTH = ("triage@example.com/token", "sandbox-token")

# Seeded ids (docs/contracts.md order; see app/sandbox/seed.py).
CUSTOMER_SUPPORT = 360000001
MEDIATION_TIER_1 = 360000002
CONTRACT_ID = 900000001
DISPUTE_TYPE = 900000004
DISPUTE_REASONS = 900000005
DISPUTE_PROCESS = 900000006
INQUIRY_TYPE = 900000008
PHONE_MACRO = 360100001
MEDIATION_MACRO = 360100002
DISPUTE_FORM = 360200002
SERVICE_USER = 361000001
FIRST_TICKET = 5100001


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def create_ticket(zd: httpx.Client, **ticket: Any) -> dict[str, Any]:
    body = {"subject": "Help", "comment": {"body": "Please help"}, **ticket}
    response = zd.post("/api/v2/tickets.json", json={"ticket": body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["ticket"]
    return created


def update(zd: httpx.Client, ticket_id: int, **changes: Any) -> httpx.Response:
    return zd.put(f"/api/v2/tickets/{ticket_id}", json={"ticket": changes})


def field_value(ticket: dict[str, Any], field_id: int) -> Any:
    return next(f["value"] for f in ticket["custom_fields"] if f["id"] == field_id)
