"""End to end: webhook received -> ticket updated in the sandbox, with 50 ms of injected
Zendesk latency on every call.

- the sandbox Zendesk runs in this process (so the ticket's audit times can be read
  straight from its state), rate limits lifted so only the injected latency counts,
  with the fault rule `{"path_prefix": "/api/v2", "delay_ms": 50}` (POST /_sandbox/faults);
- the service, `python -m app serve` (webhooks and worker in one process, defaults:
  WORKER_CONCURRENCY=4) on a temporary SQLite database;
- one ticket per playbook path (`demo_cases`), cycled to --tickets tickets, one signed
  webhook each at a steady --rate.

Latency = the service's update of the ticket (the audit's `created_at`, stamped by the
sandbox on this machine's clock) minus the moment the webhook was sent. The floor is
50 ms per sequential Zendesk call the decision makes (read ticket, macro apply when a
macro is used, the update): the rest is the service's own time.

    .venv/bin/python bench/latency.py                      # 200 tickets at 10/s, ~40 s
    .venv/bin/python bench/latency.py --tickets 400 --rate 20 --delay-ms 50
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter, defaultdict
from itertools import cycle, islice
from pathlib import Path

import httpx
from _common import (
    HOST,
    SECRET,
    UNLIMITED,
    WEBHOOK_PATH,
    Child,
    Latency,
    StateSeeder,
    TimedApp,
    is_zendesk,
    print_header,
    sandbox_server,
    serve_command,
    service_env,
    signed,
    today,
)

from app.cli.demo_cases import demo_cases
from app.core.serving import free_port
from app.sandbox import SandboxState
from app.sandbox.context import parse_iso


def run(tickets: int, rate: float, delay_ms: int, timeout: float) -> int:
    print_header(
        f"End to end: webhook sent -> ticket updated, {delay_ms} ms injected on every Zendesk call"
    )
    state = SandboxState(requests_per_minute=UNLIMITED, ticket_updates_per_minute=UNLIMITED)
    seeder = StateSeeder(state)
    cases = demo_cases(today())
    for case in cases:
        seeder.directory(case)
    labels = [case.label for case in islice(cycle(cases), tickets)]
    created = [seeder.create(case, directory=False) for case in islice(cycle(cases), tickets)]
    timed = TimedApp()
    sent_at: dict[int, float] = {}
    acks: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp,
        sandbox_server(state, timed=timed) as sandbox,
        httpx.Client(base_url=sandbox.url, timeout=10) as zd,
    ):
        rule = {"path_prefix": "/api/v2", "delay_ms": delay_ms}
        zd.post("/_sandbox/faults", json={"rules": [rule]}).raise_for_status()
        port = free_port()
        env = service_env(sandbox.url, f"sqlite:///{tmp}/latency.db")
        with (
            Child(serve_command(port, worker=True), env=env, log=Path(tmp) / "service.log") as svc,
            httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10) as api,
        ):
            svc.wait_http(f"http://{HOST}:{port}/healthz")
            timed.log.clear()  # start-up's catalog reads are not part of any ticket
            start = time.monotonic() + 0.1
            for i, ticket in enumerate(created):
                pause = start + i / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                payload = {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}
                body, headers = signed(payload, secret=SECRET)
                sent = time.time()
                answer = api.post(WEBHOOK_PATH, content=body, headers=headers)
                acks.append(time.time() - sent)
                answer.raise_for_status()
                sent_at[int(ticket["id"])] = sent
            updated = wait_updated(state, list(sent_at), timeout)
            service_log = svc.tail(5)
    calls: Counter[int] = Counter()
    batched: set[int] = set()
    for t in timed.log:
        if is_zendesk(t.path):
            calls.update(t.ids)
            if len(t.ids) > 1:
                batched.update(t.ids)
    latencies: list[float] = []
    over_floor: list[float] = []
    groups: dict[str, list[float]] = defaultdict(list)
    group_paths: dict[str, set[str]] = defaultdict(set)
    for i, ticket in enumerate(created):
        ticket_id = int(ticket["id"])
        if ticket_id not in updated:
            continue
        seconds = updated[ticket_id] - sent_at[ticket_id]
        latencies.append(seconds)
        n = calls[ticket_id]
        if ticket_id in batched:
            key = "in a batch (show_many, update_many job): floor >= 1 s job-status poll"
        else:
            key = f"alone, {n} Zendesk calls: floor {n * delay_ms} ms"
            over_floor.append(seconds - n * delay_ms / 1000)
        groups[key].append(seconds)
        group_paths[key].add(labels[i])
    lat, over = Latency.of(latencies), Latency.of(over_floor)
    print(f"tickets sent          {tickets} at {rate:g}/s ({len(cases)} playbook paths, cycled)")
    print(f"tickets updated       {len(updated)}")
    print(f"webhook answer        {Latency.of(acks).ms()}")
    print(f"sent -> updated       {lat.ms()}")
    print(f"  alone, minus {delay_ms} ms x calls: {over.ms()}  (the service's own time)")
    for key, values in sorted(groups.items()):
        print(f"  {key} ({len(values)} tickets): {Latency.of(values).ms()}")
        if not key.startswith("in a batch"):
            print(f"    paths: {', '.join(sorted(group_paths[key]))}")
    if len(updated) < tickets:
        print(f"NOT all tickets were updated within {timeout:.0f} s; service log tail:")
        print(service_log)
        return 1
    return 0


def wait_updated(state: SandboxState, ticket_ids: list[int], timeout: float) -> dict[int, float]:
    """Epoch seconds of each ticket's first update after its creation (the service's)."""
    deadline = time.monotonic() + timeout
    found: dict[int, float] = {}
    while time.monotonic() < deadline and len(found) < len(ticket_ids):
        for ticket_id in ticket_ids:
            if ticket_id in found:
                continue
            audits = state.tickets.audits(ticket_id)
            if len(audits) > 1:
                found[ticket_id] = (parse_iso(audits[1]["created_at"]) or 0) / 1e6
        time.sleep(0.1)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="webhooks per second")
    parser.add_argument("--delay-ms", type=int, default=50, help="injected on every Zendesk call")
    parser.add_argument("--timeout", type=float, default=60.0, help="wait for the last update")
    args = parser.parse_args()
    raise SystemExit(run(args.tickets, args.rate, args.delay_ms, args.timeout))


if __name__ == "__main__":
    main()
