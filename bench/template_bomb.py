"""Webhook latency while an admin sends a template bomb to `POST /admin/policy/diff`.

Issue 16.3: a candidate policy whose note template loops 10^10 times used to
keep the diff request (and a thread burning CPU) running forever, and webhook
p50 rose from 2.6 to 16.6 ms. This script starts the sandbox and the service
(`python -m app serve --no-worker`, SQLite), then, at a steady 50 webhooks/s:

1. `--seconds` (5) of webhooks alone: the baseline p50/p99, measured in this run;
2. the same while a second client sends the bomb candidate to the diff endpoint
   once a second (`--pause`; 0: back to back), each answer a 422 naming the template;
3. the service's CPU time over 3 s after the last attempt (idle: nothing left running).

It prints the refusal times, both latency lines, their p50 ratio and the idle CPU.
Target (issue 16): refused in under 5 s, webhook p50 under 10 ms during the attempts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _common import (
    ADMIN,
    HOST,
    SECRET,
    Child,
    Latency,
    print_header,
    sandbox_server,
    serve_command,
    service_env,
    signed,
    tree_cpu_seconds,
)

from app.core.serving import free_port
from app.routing import default_policy_path
from app.sandbox import SandboxState

BOMB = "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
RATE = 50.0


def candidate() -> str:
    text = default_policy_path().read_text()
    start = text.index("  mediation_update: |\n")
    end = text.index("  # ", start + 1)
    return text[:start] + f"  mediation_update: |\n    {BOMB}\n" + text[end:]


def webhooks(api: httpx.Client, seconds: float, first_id: int) -> list[float]:
    latencies = []
    start = time.monotonic()
    for i in range(int(seconds * RATE)):
        pause = start + i / RATE - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        body, headers = signed({"ticket_id": str(first_id + i)}, secret=SECRET)
        sent = time.perf_counter()
        api.post("/webhooks/zendesk", content=body, headers=headers).raise_for_status()
        latencies.append(time.perf_counter() - sent)
    return latencies


def bombard(url: str, stop: threading.Event, refusals: list[float], pause: float) -> None:
    body = {"policy_yaml": candidate(), "file_name": "bomb.yaml"}
    with httpx.Client(base_url=url, timeout=60, headers={"authorization": f"Bearer {ADMIN}"}) as c:
        while not stop.wait(pause):
            sent = time.perf_counter()
            answer = c.post("/admin/policy/diff", json=body)
            refusals.append(time.perf_counter() - sent)
            message = answer.json()["detail"][0]["msg"]
            assert answer.status_code == 422 and "notes.mediation_update" in message, answer.text


def run(seconds: float, pause: float) -> int:
    print_header("Template bomb sent to POST /admin/policy/diff while webhooks arrive")
    with (
        tempfile.TemporaryDirectory(prefix="bench-bomb-") as tmp,
        sandbox_server(SandboxState()) as sandbox,
    ):
        port = free_port()
        env = service_env(sandbox.url, f"sqlite:///{tmp}/bomb.db", log_level="WARNING")
        url = f"http://{HOST}:{port}"
        with (
            Child(serve_command(port, worker=False), env=env, log=Path(tmp) / "svc.log") as svc,
            httpx.Client(base_url=url, timeout=10) as api,
        ):
            svc.wait_http(f"{url}/healthz")
            webhooks(api, 1.0, 9_000_000)  # warm-up
            baseline = webhooks(api, seconds, 9_100_000)
            stop, refusals = threading.Event(), list[float]()
            attacker = threading.Thread(target=bombard, args=(url, stop, refusals, pause))
            attacker.start()
            during = webhooks(api, seconds, 9_200_000)
            stop.set()
            attacker.join(60)
            cpu_before = tree_cpu_seconds(svc.pid)
            time.sleep(3.0)
            idle_cpu = tree_cpu_seconds(svc.pid) - cpu_before
    base, bomb = Latency.of(baseline), Latency.of(during)
    print(
        f"diff attempts refused (422): {len(refusals)}, "
        f"slowest {max(refusals) * 1000:.0f} ms, median {statistics.median(refusals) * 1000:.0f} ms"
    )
    print(f"webhooks alone          {base.ms()}")
    print(f"webhooks during attempts {bomb.ms()}")
    print(f"p50 ratio during/alone: {statistics.median(during) / statistics.median(baseline):.2f}")
    print(f"service CPU in the 3 s after the last attempt: {idle_cpu:.2f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--pause", type=float, default=1.0, help="between diff attempts (0: back to back)"
    )
    args = parser.parse_args()
    return run(args.seconds, args.pause)


if __name__ == "__main__":
    raise SystemExit(main())
