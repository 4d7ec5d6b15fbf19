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
from app.runtime.lifespan import load_configured_policy
from app.sandbox import create_sandbox_app
from app.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

DEMO_SECRET = "demo-webhook-secret"
DEMO_ADMIN = "demo-admin-token"
DEMO_DB = Path("data/demo.db")
DEMO_ZENDESK_EMAIL = "triage@example.com"
DEMO_ZENDESK_TOKEN = "demo-token"


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
        "zendesk_email": DEMO_ZENDESK_EMAIL,
        "zendesk_api_token": DEMO_ZENDESK_TOKEN,
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


def ticket_row(
    http: httpx.Client, ticket_id: int, groups: dict[int, str], path_prefix: str
) -> list[str]:
    ticket = http.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    comments = http.get(f"/api/v2/tickets/{ticket_id}/comments").json()["comments"]
    notes = [c for c in comments if not c.get("public")]
    first_line = notes[-1]["body"].strip().splitlines()[0] if notes else "-"
    # the routing path the service tagged (the other tags are the macro's and the fields')
    tags = ticket.get("tags") or []
    paths = [t.removeprefix(path_prefix) for t in tags if t.startswith(path_prefix)]
    return [
        str(ticket_id),
        groups.get(ticket.get("group_id") or 0, "-"),
        ticket["status"],
        " ".join(paths) or "-",
        first_line,
    ]


TABLE_WIDTH = 100  # columns, so that the table fits a terminal


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(rows: list[list[str]]) -> None:
    """One line per ticket, its internal note's first line below it, within TABLE_WIDTH."""
    header = ["ticket", "queue (group)", "status", "routing path"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    indent = " " * (widths[0] + 2)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print(indent + "internal note (first line)")
    print("-" * min(TABLE_WIDTH, sum(widths) + 2 * (len(widths) - 1)))
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:4], widths, strict=True)]
        print(_cut("  ".join(cells).rstrip(), TABLE_WIDTH))
        print(_cut(indent + row[4], TABLE_WIDTH))


def connection_block(service_url: str, sandbox_url: str, database_url: str) -> str:
    """What a person needs to poke at the running demo, and the `export` lines that point
    the CLI (`python -m app dead-letters`, `replay ID`, `check-config`) at it."""
    env = {
        "ZENDESK_BASE_URL": sandbox_url,
        "ZENDESK_EMAIL": DEMO_ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": DEMO_ZENDESK_TOKEN,
        "MARKETPLACE_URL": f"{sandbox_url}/marketplace",
        "WEBHOOK_SECRETS": DEMO_SECRET,
        "ADMIN_TOKENS": DEMO_ADMIN,
        "DATABASE_URL": database_url,
    }
    return "\n".join(
        [
            f"service:        {service_url}   (API docs: {service_url}/docs)",
            f"sandbox:        {sandbox_url}   (fake Zendesk; directory under /marketplace)",
            f"admin token:    {DEMO_ADMIN}   (Authorization: Bearer {DEMO_ADMIN})",
            f"webhook secret: {DEMO_SECRET}",
            "",
            "# the CLI against this demo (same database file):",
            *(f"export {name}={value}" for name, value in env.items()),
        ]
    )


def _send_cases(zd: httpx.Client, api: httpx.Client) -> tuple[list[dict[str, Any]], list[int]]:
    seeder = SandboxSeeder(zd)
    tickets = [seeder.create(case) for case in demo_cases(datetime.now(UTC).date())]
    event_ids = []
    for ticket in tickets:
        payload = {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}
        answer = signed_post(api, "/webhooks/zendesk", payload, DEMO_SECRET)
        answer.raise_for_status()
        event_ids.append(answer.json()["event_id"])
    return tickets, event_ids


def run_demo(*, keep_running: bool = False, port: int = 0, sandbox_port: int = 0) -> int:
    """`port`/`sandbox_port` 0: any free one (`port` given: the sandbox on `port + 1`)."""
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    DEMO_DB.unlink(missing_ok=True)
    database_url = f"sqlite:///{DEMO_DB.resolve()}"
    sandbox_port = sandbox_port or (port + 1 if port else 0)
    with ThreadedServer(create_sandbox_app(), port=sandbox_port) as sandbox:
        settings = demo_settings(sandbox.url, database_url)
        with ThreadedServer(create_app(settings), port=port) as service:
            auth = (f"{DEMO_ZENDESK_EMAIL}/token", DEMO_ZENDESK_TOKEN)
            headers = {"authorization": f"Bearer {DEMO_ADMIN}"}
            with (
                httpx.Client(base_url=sandbox.url, auth=auth, timeout=10) as zd,
                httpx.Client(base_url=service.url, timeout=10, headers=headers) as api,
            ):
                tickets, event_ids = _send_cases(zd, api)
                states = wait_processed(api, event_ids)
                groups = {g["id"]: g["name"] for g in zd.get("/api/v2/groups").json()["groups"]}
                prefix = load_configured_policy(settings).tag_roles.path_prefix
                print_table([ticket_row(zd, t["id"], groups, prefix) for t in tickets])
            done = sum(1 for s in states.values() if s == "done")
            print(f"\n{done}/{len(event_ids)} events processed; database {DEMO_DB}\n")
            if keep_running:
                print(connection_block(service.url, sandbox.url, database_url))
                print("\nCtrl-C to stop.", flush=True)
                _block()
            else:
                print("python -m app demo --keep-running [--port N] leaves it up to poke at.")
            return 0 if done == len(event_ids) else 1


def _block() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return
