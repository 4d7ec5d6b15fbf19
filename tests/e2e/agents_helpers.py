"""Helpers for the agents'-side end-to-end tests: directory entries, a movable clock, and
what an agent sees on a ticket (internal notes, public replies, the service's writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.e2e.conftest import SECRET, event_status, wait_for
from tests.e2e.test_followup_flow import Desk

OUTCOME_NOTE = "[TRIAGE] "


@dataclass
class MovableClock:
    """The service's clock: real time plus `days` (moved forward by the test)."""

    days: int = 0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self.days)

    def today(self) -> date:
        return self().date()


@dataclass
class Party:
    username: str
    role: str
    segment: str | None = None
    badge: str | None = None
    ndf: bool = False

    def record(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "username": self.username,
            "role": self.role,
            "profile_url": f"https://obo.example/users/{self.username}",
        }
        if self.role == "client":
            data["segment"] = self.segment or "VSB"
        else:
            data |= {"badge": self.badge or "none", "ndf": self.ndf}
        return data


@dataclass
class Contract:
    """A contract in the sandbox's marketplace directory, paid `paid_days_ago`."""

    id: str
    type: str = "hourly"
    status: str = "closed"
    paid_days_ago: int | None = 10
    extra: dict[str, Any] = field(default_factory=dict)
    client: Party | None = None
    freelancer: Party | None = None

    def seed(self, zd: httpx.Client, today: date) -> None:
        client = self.client or Party(f"cl-{self.id}", "client")
        freelancer = self.freelancer or Party(f"fl-{self.id}", "freelancer")
        payments = []
        if self.paid_days_ago is not None:
            kind = "hourly" if self.type == "hourly" else "milestone"
            day = (today - timedelta(days=self.paid_days_ago)).isoformat()
            payments = [{"date": day, "kind": kind, "amount": "100.00"}]
        contract = {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "client_username": client.username,
            "freelancer_username": freelancer.username,
            "funds_in_escrow": "0.00",
            "payments": payments,
            **self.extra,
        }
        zd.post("/_sandbox/marketplace/contracts", json=contract).raise_for_status()
        users = [client.record(), freelancer.record()]
        zd.post("/_sandbox/marketplace/users", json=users).raise_for_status()


def signed_at(api: httpx.Client, payload: dict[str, Any], when: datetime) -> httpx.Response:
    """A signed webhook whose timestamp is the service's (moved) time."""
    import json

    raw = json.dumps(payload).encode()
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(SECRET, stamp, raw),
        TIMESTAMP_HEADER: stamp,
    }
    return api.post("/webhooks/zendesk", content=raw, headers=headers)


def notify(api: httpx.Client, zd: httpx.Client, ticket_id: int, when: datetime) -> int:
    """The trigger's webhook for the ticket's current state; waits until it is processed."""
    ticket = zd.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    payload = {"ticket_id": str(ticket_id), "updated_at": ticket["updated_at"]}
    answer = signed_at(api, payload, when)
    assert answer.status_code == 200, answer.text
    event_id: int = answer.json()["event_id"]
    wait_for(lambda: event_status(api, event_id) == "done", what=f"event {event_id} done")
    return event_id


def service_puts(zd: httpx.Client, ticket_id: int) -> int:
    """PUTs to the ticket by the service (the sandbox logs every request)."""
    requests = zd.get("/_sandbox/requests").json()
    path = f"/api/v2/tickets/{ticket_id}"
    return sum(
        1
        for r in requests
        if r["method"] == "PUT"
        and r["path"].removesuffix(".json") == path
        and r.get("status", 200) < 300
    )


def outcome_notes(desk: Desk, ticket_id: int) -> list[str]:
    return [n for n in desk.notes(ticket_id) if n.startswith(OUTCOME_NOTE)]


def user_writes_again(zd: httpx.Client, ticket_id: int, text: str) -> None:
    """The requester adds a public comment (as the sandbox's end user would)."""
    ticket = zd.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    comment = {"body": text, "public": True, "author_id": ticket["requester_id"]}
    zd.put(f"/api/v2/tickets/{ticket_id}", json={"ticket": {"comment": comment}}).raise_for_status()


def answered_since_user_wrote(zd: httpx.Client, ticket_id: int) -> bool:
    """A public comment not by the requester after the requester's last public comment."""
    ticket = zd.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    comments = zd.get(f"/api/v2/tickets/{ticket_id}/comments").json()["comments"]
    public = [c for c in comments if c["public"]]
    last_user = max(
        (i for i, c in enumerate(public) if c["author_id"] == ticket["requester_id"]), default=-1
    )
    return any(c["author_id"] != ticket["requester_id"] for c in public[last_user + 1 :])


def end_user(zd: httpx.Client, name: str) -> int:
    email = f"{name.lower().replace(' ', '.')}@example.com"
    user = {"name": name, "email": email, "role": "end-user"}
    answer = zd.post("/api/v2/users", json={"user": user})
    answer.raise_for_status()
    return int(answer.json()["user"]["id"])


def open_ticket(
    desk: Desk,
    subject: str,
    fields: dict[str, Any],
    *,
    requester_id: int,
    channel: str = "web",
    text: str | None = None,
) -> dict[str, Any]:
    """A ticket as the user opened it (the user wrote the description), with the agent's
    fields (option names) filled in."""
    ticket: dict[str, Any] = {
        "subject": subject,
        "comment": {"body": text or f"{subject}.", "public": True, "author_id": requester_id},
        "requester_id": requester_id,
        "via": {"channel": channel},
        "custom_fields": [
            {"id": desk.fields[t]["id"], "value": desk.value(t, v)} for t, v in fields.items()
        ],
        "tags": ["demo"],
    }
    answer = desk.zd.post("/api/v2/tickets", json={"ticket": ticket})
    answer.raise_for_status()
    created: dict[str, Any] = answer.json()["ticket"]
    return created


def fill_in(desk: Desk, ticket_id: int, fields: dict[str, Any]) -> None:
    """An agent fills in ticket fields (option names), as in the Zendesk agent UI."""
    custom = [{"id": desk.fields[t]["id"], "value": desk.value(t, v)} for t, v in fields.items()]
    desk.zd.put(
        f"/api/v2/tickets/{ticket_id}", json={"ticket": {"custom_fields": custom}}
    ).raise_for_status()
