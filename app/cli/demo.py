"""`python -m app demo`: the whole path on embedded defaults, printed as a table.

Starts the sandbox Zendesk and the service on loopback, creates sample dispute
tickets, posts Zendesk-signed webhooks for them, waits for the worker, prints
where each ticket ended. Exit code 0 only if every event was processed.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.api.app import create_app
from app.cli.demo_cases import DemoCase, demo_cases
from app.core.serving import ThreadedServer
from app.core.settings import Settings
from app.sandbox import create_sandbox_app
from app.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

DEMO_SECRET = "demo-webhook-secret"
DEMO_ADMIN = "demo-admin-token"
DEMO_DB = Path("data/demo.db")


def demo_settings(
    sandbox_url: str,
    database_url: str,
    *,
    secret: str = DEMO_SECRET,
    admin: str = DEMO_ADMIN,
    **overrides: Any,
) -> Settings:
    """Embedded defaults: the sandbox as Zendesk and as the marketplace directory."""
    values: dict[str, Any] = {
        "zendesk_base_url": sandbox_url,
        "zendesk_email": "triage@example.com",
        "zendesk_api_token": "demo-token",
        "webhook_secrets": [secret],
        "admin_tokens": [admin],
        "database_url": database_url,
        "marketplace_url": f"{sandbox_url}/marketplace",
        "worker_concurrency": 4,
        "poll_interval_seconds": 0.2,
    }
    return Settings(**(values | overrides))


def signed_post(
    client: httpx.Client, url: str, payload: dict[str, Any], secret: str
) -> httpx.Response:
    """POST exactly as Zendesk does: HMAC-SHA256 over timestamp + raw body, base64."""
    body = json.dumps(payload).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(secret, stamp, body),
        TIMESTAMP_HEADER: stamp,
        "x-zendesk-webhook-id": "01DEMOWEBHOOK",
        "x-zendesk-webhook-invocation-id": str(time.time_ns()),
    }
    return client.post(url, content=body, headers=headers)


class SandboxSeeder:
    """Creates the demo's tickets and directory entries in the sandbox over HTTP."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        fields = http.get("/api/v2/ticket_fields").json()["ticket_fields"]
        self.fields = {f["title"]: f for f in fields}

    def _value(self, title: str, value: Any) -> Any:
        options = {
            o["name"]: o["value"] for o in self.fields[title].get("custom_field_options") or []
        }
        if isinstance(value, list):
            return [options.get(v, v) for v in value]
        return options.get(value, value)

    def create(self, case: DemoCase) -> dict[str, Any]:
        if case.contract:
            self.http.post("/_sandbox/marketplace/contracts", json=case.contract).raise_for_status()
        for user in case.users:
            self.http.post("/_sandbox/marketplace/users", json=user).raise_for_status()
        custom = [
            {"id": self.fields[t]["id"], "value": self._value(t, v)} for t, v in case.fields.items()
        ]
        ticket = {
            "subject": case.subject,
            "comment": {"body": f"{case.subject} ({case.label})", "public": True},
            "via": {"channel": "voice" if case.channel == "phone" else case.channel},
            "custom_fields": custom,
            "tags": ["demo"],
        }
        response = self.http.post("/api/v2/tickets", json={"ticket": ticket})
        response.raise_for_status()
        created: dict[str, Any] = response.json()["ticket"]
        return created


def wait_processed(
    admin: httpx.Client, event_ids: list[int], timeout: float = 60.0
) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    states: dict[int, str] = {}
    while time.monotonic() < deadline:
        events = admin.get("/admin/events", params={"limit": 500}).json()["events"]
        states = {e["id"]: e["status"] for e in events if e["id"] in event_ids}
        if all(states.get(i) in ("done", "dead") for i in event_ids):
            break
        time.sleep(0.2)
    return states


def ticket_row(http: httpx.Client, ticket_id: int, groups: dict[int, str]) -> list[str]:
    ticket = http.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    comments = http.get(f"/api/v2/tickets/{ticket_id}/comments").json()["comments"]
    notes = [c for c in comments if not c.get("public")]
    first_line = notes[-1]["body"].strip().splitlines()[0] if notes else "-"
    # Field-option tags (`field__option`) and the decision marker are noise in a table.
    tags = [
        t
        for t in ticket.get("tags") or []
        if "__" not in t and not t.startswith("triage_d_") and t != "demo"
    ]
    return [
        str(ticket_id),
        groups.get(ticket.get("group_id") or 0, "-"),
        ticket["status"],
        " ".join(sorted(tags)),
        first_line[:70],
    ]


def print_table(rows: list[list[str]]) -> None:
    header = ["ticket", "queue (group)", "status", "tags", "internal note (first line)"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def run_demo(*, keep_running: bool = False) -> int:
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    DEMO_DB.unlink(missing_ok=True)
    with ThreadedServer(create_sandbox_app()) as sandbox:
        settings = demo_settings(sandbox.url, f"sqlite:///./{DEMO_DB}")
        with ThreadedServer(create_app(settings)) as service:
            auth = ("triage@example.com/token", "demo-token")
            with (
                httpx.Client(base_url=sandbox.url, auth=auth, timeout=10) as zd,
                httpx.Client(
                    base_url=service.url,
                    timeout=10,
                    headers={"authorization": f"Bearer {DEMO_ADMIN}"},
                ) as api,
            ):
                seeder = SandboxSeeder(zd)
                tickets = [seeder.create(case) for case in demo_cases(datetime.now(UTC).date())]
                event_ids = []
                for ticket in tickets:
                    payload = {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}
                    answer = signed_post(api, "/webhooks/zendesk", payload, DEMO_SECRET)
                    answer.raise_for_status()
                    event_ids.append(answer.json()["event_id"])
                states = wait_processed(api, event_ids)
                groups = {g["id"]: g["name"] for g in zd.get("/api/v2/groups").json()["groups"]}
                print_table([ticket_row(zd, t["id"], groups) for t in tickets])
                done = sum(1 for s in states.values() if s == "done")
                print(
                    f"\n{done}/{len(event_ids)} events processed; "
                    f"service {service.url}, sandbox {sandbox.url}"
                )
                if keep_running:
                    print("Ctrl-C to stop.")
                    _block()
                return 0 if done == len(event_ids) else 1


def _block() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return
