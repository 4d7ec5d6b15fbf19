"""Burst of N webhooks against the sandbox with a Zendesk-like update limit.

Prints: events processed, dead letters, 429s seen by the service, writes per
ticket (max), Zendesk calls by kind, and drain time. Loopback only, bounded.

    .venv/bin/python bench/burst.py --events 1000 --updates-per-minute 100
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.api.app import create_app
from app.cli.demo import SandboxSeeder, demo_settings, signed_post
from app.cli.demo_cases import hourly_case
from app.core.serving import ThreadedServer
from app.sandbox import SandboxState, create_sandbox_app

SECRET, ADMIN = "bench-secret", "bench-admin"


def call_kind(request: dict[str, str]) -> str:
    path = request["path"]
    if "update_many" in path:
        return f"{request['method']} update_many"
    if not path.startswith("/api/"):
        return f"{request['method']} marketplace"
    return f"{request['method']} {path.split('/')[3]}"


def run(events: int, per_minute: int, timeout: float) -> None:
    state = SandboxState(ticket_updates_per_minute=per_minute)
    with tempfile.TemporaryDirectory() as tmp, ThreadedServer(create_sandbox_app(state)) as sandbox:
        db = Path(tmp) / "burst.db"
        settings = demo_settings(sandbox.url, f"sqlite:///{db}", secret=SECRET, admin=ADMIN)
        auth = ("triage@example.com/token", "demo-token")
        with httpx.Client(base_url=sandbox.url, auth=auth, timeout=30) as zd:
            seeder = SandboxSeeder(zd)
            today = datetime.now(UTC).date()
            tickets = [seeder.create(hourly_case(today)) for _ in range(events)]
            zd.delete("/_sandbox/requests")
            with (
                ThreadedServer(create_app(settings)) as service,
                httpx.Client(
                    base_url=service.url, timeout=30, headers={"authorization": f"Bearer {ADMIN}"}
                ) as api,
            ):
                start = time.monotonic()
                for t in tickets:
                    payload = {"ticket_id": str(t["id"]), "updated_at": t["updated_at"]}
                    signed_post(api, "/webhooks/zendesk", payload, SECRET).raise_for_status()
                accepted = time.monotonic() - start
                deadline = start + timeout
                counts: dict[str, int] = {}
                while time.monotonic() < deadline:
                    counts = {
                        s: len(
                            api.get("/admin/events", params={"status": s, "limit": 500}).json()[
                                "events"
                            ]
                        )
                        for s in ("pending", "leased")
                    }
                    if not any(counts.values()):
                        break
                    time.sleep(0.5)
                drained = time.monotonic() - start
                done = api.get("/admin/events", params={"status": "done", "limit": 500}).json()
                dead = api.get("/admin/dead-letters", params={"limit": 500}).json()["dead_letters"]
            requests = zd.get("/_sandbox/requests").json()
    kinds = collections.Counter(call_kind(r) for r in requests)
    limited = sum(1 for r in requests if r["status"] == 429)
    puts = collections.Counter(
        r["path"] for r in requests if r["method"] == "PUT" and "update_many" not in r["path"]
    )
    print(f"events sent          {events} (accepted in {accepted:.1f} s)")
    print(f"still pending/leased {sum(counts.values())}")
    print(f"dead letters         {len(dead)}")
    print(f"done (first page)    {len(done['events'])}")
    print(f"429s from Zendesk    {limited}")
    print(f"max PUTs per ticket  {max(puts.values(), default=0)}")
    print(f"drain time           {drained:.1f} s")
    for kind, n in sorted(kinds.items()):
        print(f"  {kind:32} {n}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--updates-per-minute", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    run(args.events, args.updates_per_minute, args.timeout)
