"""Example answers for the OpenAPI document of the ops endpoints."""

from __future__ import annotations

from typing import Any

EVENT: dict[str, Any] = {
    "id": 42,
    "dedupe_key": "trg:5100001:2024-06-12T10:00:00Z",
    "source": "trigger",
    "event_type": "trigger",
    "ticket_id": 5100001,
    "payload": {"ticket_id": "5100001", "updated_at": "2024-06-12T10:00:00Z"},
    "status": "dead",
    "priority": 0,
    "attempts": 8,
    "received_at": "2024-06-12T10:00:01Z",
    "available_at": "2024-06-12T10:41:00Z",
    "lease_owner": "host:123:abc",
    "lease_until": None,
    "last_error": "gave up after 8 attempts: ServiceUnavailable: 503",
}
DECISION_RECORD: dict[str, Any] = {
    "id": 7,
    "ticket_id": 5100001,
    "event_id": 42,
    "policy_version": "sha256:3f2a9c...",
    "facts": {"ticket": {"id": 5100001, "channel": "web"}, "inquiry": "dispute"},
    "decision": {"queue": "Mediation_Tier_1_CX420", "eligibility": {"code": "within_30_days"}},
    "writes": [
        {"ticket_id": 5100001, "method": "PUT", "summary": ["group -> Mediation_Tier_1_CX420"]}
    ],
    "outcome": "applied",
    "decided_at": "2024-06-12T10:00:02Z",
}


def ok(example: Any) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry documenting a 200 with this example body."""
    return {200: {"description": "OK", "content": {"application/json": {"example": example}}}}
