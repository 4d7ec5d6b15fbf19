"""Memory: resident set size (VmRSS from /proc/<pid>/status) of the service process, idle
and after many events, with its peak (VmHWM) and the trend in between.

Two measurements of `python -m app serve` processes, each on a temporary SQLite file:

A. intake: `serve --no-worker`, idle, then while accepting up to --accept (100,000)
   distinct signed webhooks (closed loop, 16 connections), VmRSS every 5,000;
B. processing: `serve` with its worker, idle, then after up to --process (5,000) webhooks
   were accepted *and* processed (decided, written to the sandbox, decision recorded);
   the sandbox runs in this process with the playbook's ten paths cycled and its rate
   limits lifted; VmRSS every 10 %.

Both stop at --budget seconds of load (default 120, so the script ends within 3 minutes)
and say how many events they reached: at the intake's ceiling (a few hundred webhooks/s,
see bench/ack.py) 100,000 webhooks take several minutes; run with `--budget 0` (no limit)
for the full count. A and B run at the same time (A in a forked process of its own, with
its own ports and database); memory does not depend on speed.

    .venv/bin/python bench/memory.py                           # < 3 min, budgeted
    .venv/bin/python bench/memory.py --budget 0 --sequential   # all 100,000 + 5,000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import tempfile
import time
from dataclasses import dataclass, field
from itertools import cycle, islice
from pathlib import Path

from _common import (
    HOST,
    PYTHON,
    UNLIMITED,
    Child,
    StateSeeder,
    closed_loop,
    presigned_webhooks,
    print_header,
    proc_children,
    proc_status,
    run_async,
    sandbox_server,
    serve_command,
    service_env,
    today,
    unique_payloads,
)

from app.cli.demo_cases import demo_cases
from app.core.serving import free_port
from app.sandbox import SandboxState
from app.store import open_store

STEP = 5_000  # intake: webhooks per step (signed just before it is sent)


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


@dataclass
class Trace:
    label: str
    target: int
    idle: dict[str, int] = field(default_factory=dict)
    points: list[tuple[int, int]] = field(default_factory=list)  # (events, VmRSS KiB)
    after: dict[str, int] = field(default_factory=dict)
    events: int = 0
    seconds: float = 0.0
    errors: str = "none"
    note: str = ""
    children: dict[int, dict[str, int]] = field(default_factory=dict)  # pid -> status, at the end

    def show(self) -> None:
        print(self.label)
        if not self.after:
            print(f"  did not finish: {self.note}")
            return
        idle, after = self.idle["VmRSS"], self.after["VmRSS"]
        reached = "" if self.events >= self.target else f" (budget reached: not {self.target:,})"
        print(f"  idle, after start-up     VmRSS {mib(idle)}")
        print(
            f"  after {self.events:,} events{reached}: VmRSS {mib(after)} "
            f"(+{mib(after - idle)}), peak VmHWM {mib(self.after['VmHWM'])}"
        )
        print(
            f"  {self.seconds:.0f} s, {self.events / max(self.seconds, 1e-9):.0f} events/s; "
            f"errors: {self.errors}"
        )
        trend = ", ".join(f"{n / 1000:g}k {kib / 1024:.0f}" for n, kib in self.points)
        print(f"  VmRSS MiB by events: {trend}")
        if len(self.points) >= 4:
            (n1, r1), (n2, r2) = self.points[len(self.points) // 2], self.points[-1]
            per = (r2 - r1) * 1024 / max(n2 - n1, 1)
            print(f"  growth over the second half: {per:+.0f} bytes per event")
        for pid, status in self.children.items():
            print(
                f"  its child process {pid} (the SQLite writer): VmRSS {mib(status['VmRSS'])}, "
                f"peak VmHWM {mib(status['VmHWM'])}"
            )
        if self.note:
            print(f"  {self.note}")


def settle(pid: int, seconds: float = 2.0) -> dict[str, int]:
    time.sleep(seconds)
    return proc_status(pid)


def children_status(pid: int) -> dict[int, dict[str, int]]:
    return {child: proc_status(child) for child in proc_children(pid)}


def intake(trace: Trace, tmp: Path, deadline: float) -> None:
    """A: the service with --no-worker accepts distinct signed webhooks, STEP at a time."""
    sandbox_port, port = free_port(), free_port()
    sandbox_url = f"http://{HOST}:{sandbox_port}"
    env = service_env(sandbox_url, f"sqlite:///{tmp}/intake.db")
    sandbox_args = [PYTHON, "-m", "app", "sandbox", "--host", HOST, "--port", str(sandbox_port)]
    with Child(sandbox_args, env=env, log=tmp / "sandbox.log") as sandbox:
        sandbox.wait_http(f"{sandbox_url}/_sandbox/health")
        with Child(serve_command(port, worker=False), env=env, log=tmp / "intake.log") as svc:
            svc.wait_http(f"http://{HOST}:{port}/healthz")
            trace.idle = settle(svc.pid)
            started = time.monotonic()
            not_ok = 0
            while trace.events < trace.target and time.monotonic() < deadline:
                n = min(STEP, trace.target - trace.events)
                payloads = unique_payloads(n, first_ticket=trace.events + 1)
                requests = presigned_webhooks(payloads, port)
                result = run_async(
                    closed_loop(port, iter(requests), connections=16, duration=3600.0, warmup=0)
                )
                not_ok += n - result.ok
                trace.events += n
                trace.points.append((trace.events, proc_status(svc.pid)["VmRSS"]))
            trace.seconds = time.monotonic() - started
            trace.after = settle(svc.pid)
            trace.children = children_status(svc.pid)
            trace.errors = f"{not_ok} not answered 200" if not_ok else "none"


def processing(trace: Trace, tmp: Path, deadline: float) -> None:
    """B: the service with its worker accepts and processes one webhook per ticket."""
    count = trace.target
    state = SandboxState(requests_per_minute=UNLIMITED, ticket_updates_per_minute=UNLIMITED)
    seeder = StateSeeder(state)
    cases = demo_cases(today())
    for case in cases:
        seeder.directory(case)
    tickets = [seeder.create(case, directory=False) for case in islice(cycle(cases), count)]
    database_url = f"sqlite:///{tmp}/processing.db"
    port = free_port()
    with sandbox_server(state) as server:
        env = service_env(server.url, database_url)
        with Child(serve_command(port, worker=True), env=env, log=tmp / "processing.log") as svc:
            svc.wait_http(f"http://{HOST}:{port}/healthz")
            trace.idle = settle(svc.pid)
            started = time.monotonic()
            payloads = [{"ticket_id": str(t["id"]), "updated_at": t["updated_at"]} for t in tickets]
            requests = presigned_webhooks(payloads, port)
            result = run_async(
                closed_loop(port, iter(requests), connections=8, duration=3600.0, warmup=0)
            )
            trace.errors = "none" if result.ok == count else f"{count - result.ok} not 200"
            trace.events = asyncio.run(wait_processed(database_url, trace, svc.pid, deadline))
            trace.seconds = time.monotonic() - started
            updated = sum(1 for t in tickets if len(state.tickets.audits(int(t["id"]))) > 1)
            # All done: let it settle. Budget reached: read it now, the worker is still busy.
            trace.after = settle(svc.pid) if trace.events >= count else proc_status(svc.pid)
            trace.children = children_status(svc.pid)
            trace.note = (
                f"{result.ok:,} webhooks accepted, {trace.events:,} events processed, "
                f"{updated:,} tickets updated in the sandbox"
            )


async def wait_processed(database_url: str, trace: Trace, pid: int, deadline: float) -> int:
    """Events done (or dead) once all are, or at the deadline; VmRSS every 10 %."""
    store = await open_store(database_url)
    try:
        step = max(trace.target // 10, 1)
        mark = step
        done = 0
        while True:
            counts = await store.counts()
            done = counts["done"] + counts["dead"]
            while done >= mark:
                trace.points.append((mark, proc_status(pid)["VmRSS"]))
                mark += step
            if done >= trace.target or time.monotonic() >= deadline:
                return done
            await asyncio.sleep(0.25)
    finally:
        await store.close()


def intake_in_child(trace: Trace, tmp: Path, deadline: float, queue: mp.Queue[Trace]) -> None:
    """A, in a forked process of its own (its load generator must not share B's GIL)."""
    try:
        intake(trace, tmp, deadline)
    except Exception as exc:  # reported by the parent
        trace.note = f"failed: {exc!r}"
        trace.after = {}
    queue.put(trace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accept", type=int, default=100_000, help="A: webhooks accepted")
    parser.add_argument("--process", type=int, default=5_000, help="B: webhooks processed")
    parser.add_argument(
        "--budget", type=float, default=120.0, help="seconds of load per part (0: no limit)"
    )
    parser.add_argument("--sequential", action="store_true", help="A, then B (each budgeted)")
    args = parser.parse_args()
    print_header("Memory: VmRSS of `python -m app serve`")
    started = time.monotonic()
    budget = args.budget or float("inf")
    a = Trace(f"A. intake: serve --no-worker, up to {args.accept:,} webhooks", args.accept)
    b = Trace(f"B. processing: serve with worker, up to {args.process:,} events", args.process)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        dir_a, dir_b = Path(tmp) / "a", Path(tmp) / "b"
        dir_a.mkdir()
        dir_b.mkdir()
        if args.sequential:
            intake(a, dir_a, time.monotonic() + budget)
            processing(b, dir_b, time.monotonic() + budget)
        else:
            deadline = time.monotonic() + budget
            fork = mp.get_context("fork")  # before this process starts any thread
            queue: mp.Queue[Trace] = fork.Queue()
            child = fork.Process(target=intake_in_child, args=(a, dir_a, deadline, queue))
            child.start()
            processing(b, dir_b, deadline)
            a = queue.get()
            child.join(30)
    for trace in (a, b):
        trace.show()
        print()
    print(f"(run took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
