"""Webhook acknowledgement: signed webhooks per second and their latency, against a bare
FastAPI endpoint that only answers 200, measured in the same run on the same settings.

Processes, all on 127.0.0.1:

- the sandbox Zendesk, `python -m app sandbox` (the service resolves Zendesk names at
  start-up; with --no-worker nothing calls it afterwards);
- the service, `python -m app serve --no-worker` on a temporary SQLite database (the
  worker does not compete), with its SQLite writer process (its CPU is counted in the
  service's); LOG_LEVEL as configured (default INFO: the webhook's own "accepted" line
  is DEBUG, so nothing per webhook; `--log-level DEBUG` measures with it, to a file);
- the baseline, `python bench/ack.py --bare-server PORT`: a FastAPI app with one
  `POST /webhooks/zendesk` answering `{"status": "accepted"}`, run by the same
  `uvicorn.run(...)` call as `app serve` (same loop, HTTP parser, one process);
- this process: the load generator (raw HTTP/1.1 keep-alive connections on uvloop).

For each server: an open-loop run at --rate requests/s (paced like wrk2; latency from
each request's scheduled moment) and a closed-loop run with --connections clients.
Requests are signed before each run (timestamps stay within the 5-minute tolerance),
each with its own ticket id and updated_at, so none is a duplicate.

    .venv/bin/python bench/ack.py                   # 100, 250, 500/s open loop + closed loop
    .venv/bin/python bench/ack.py --rates 250,500,1000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from _common import (
    HOST,
    PYTHON,
    Child,
    Latency,
    LoadResult,
    closed_loop,
    open_loop,
    presigned_webhooks,
    print_header,
    run_async,
    serve_command,
    service_env,
    tree_cpu_seconds,
    unique_payloads,
)

from app.core.serving import free_port
from app.store import NewEvent, open_store

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_RATIO = 0.5
TARGET_P99 = 0.025


def bare_app() -> object:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/webhooks/zendesk")
    async def receive() -> JSONResponse:
        return JSONResponse({"status": "accepted"})

    return app


def serve_bare(port: int) -> None:
    """The baseline, served exactly as `python -m app serve` serves the service."""
    import uvicorn

    uvicorn.run(
        bare_app(),  # type: ignore[arg-type]
        host=HOST,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )


@dataclass
class Row:
    target: str
    mode: str
    result: LoadResult
    server_cpu: float  # CPU seconds of the server process during the measured part


class TicketIds:
    """Ticket ids never reused across runs against one server (no duplicates)."""

    def __init__(self) -> None:
        self.next = 1

    def take(self, count: int) -> int:
        first = self.next
        self.next += count
        return first


def measure_open(
    name: str, pid: int, port: int, ids: TicketIds, rate: float, seconds: float
) -> Row:
    warmup = int(rate)  # one second
    count = warmup + int(rate * seconds)
    requests = presigned_webhooks(unique_payloads(count, first_ticket=ids.take(count)), port)
    cpu0 = tree_cpu_seconds(pid)
    result = run_async(open_loop(port, requests, rate, warmup=warmup))
    # The warm-up second is in the server's CPU figure too: scale it out.
    cpu = (tree_cpu_seconds(pid) - cpu0) * (count - warmup) / count
    return Row(name, f"open {rate:.0f}/s", result, cpu)


def measure_closed(
    name: str, pid: int, port: int, ids: TicketIds, connections: int, seconds: float, budget: int
) -> Row:
    count = budget
    requests = presigned_webhooks(unique_payloads(count, first_ticket=ids.take(count)), port)
    iterator: Iterator[bytes] = iter(requests)
    cpu0 = tree_cpu_seconds(pid)
    t0 = time.perf_counter()
    result = run_async(closed_loop(port, iterator, connections=connections, duration=seconds))
    wall = time.perf_counter() - t0
    cpu = (tree_cpu_seconds(pid) - cpu0) * result.elapsed / wall
    return Row(name, f"closed c={connections}", result, cpu)


def print_rows(rows: list[Row]) -> None:
    header = (
        f"{'server':8} {'mode':14} {'answered/s':>10} {'p50 ms':>7} {'p90 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'server CPU':>10} {'client CPU':>10}  errors"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        r = row.result
        lat = r.latency()
        print(
            f"{row.target:8} {row.mode:14} {r.rps:10.0f} {lat.p50 * 1e3:7.1f} {lat.p90 * 1e3:7.1f} "
            f"{lat.p99 * 1e3:7.1f} {lat.max * 1e3:7.1f} {row.server_cpu / r.elapsed:9.0%} "
            f"{r.client_cpu / r.elapsed:9.0%}   {r.errors()}"
        )


def run(
    rates: list[float],
    seconds: float,
    connections: int,
    budget: int,
    log_level: str,
    postgres: bool = False,
) -> int:
    print_header("Webhook acknowledgement: service (--no-worker) vs bare FastAPI endpoint")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp:
        tmpdir = Path(tmp)
        sandbox_port, service_port, bare_port = free_port(), free_port(), free_port()
        sandbox_url = f"http://{HOST}:{sandbox_port}"
        if postgres:
            database_url = f"{POSTGRES_URL}?schema=bench_ack_{uuid.uuid4().hex[:10]}"
        else:
            database_url = f"sqlite:///{tmpdir / 'ack.db'}"
        print(f"service LOG_LEVEL={log_level}, database {database_url.split('://')[0]}")
        env = service_env(sandbox_url, database_url, log_level=log_level)
        sandbox_args = [PYTHON, "-m", "app", "sandbox", "--host", HOST, "--port", str(sandbox_port)]
        with Child(sandbox_args, env=env, log=tmpdir / "sandbox.log") as sandbox:
            sandbox.wait_http(f"{sandbox_url}/_sandbox/health")
            service = Child(
                serve_command(service_port, worker=False), env=env, log=tmpdir / "service.log"
            )
            bare = Child(
                [PYTHON, str(Path(__file__)), "--bare-server", str(bare_port)],
                env=env,
                log=tmpdir / "bare.log",
            )
            with service, bare:
                service.wait_http(f"http://{HOST}:{service_port}/healthz")
                _wait_bare(bare, bare_port)
                targets = [("bare", bare.pid, bare_port), ("service", service.pid, service_port)]
                ids = {name: TicketIds() for name, _, _ in targets}
                for rate in rates:
                    for name, pid, port in targets:
                        rows.append(measure_open(name, pid, port, ids[name], rate, seconds))
                for name, pid, port in targets:
                    rows.append(
                        measure_closed(name, pid, port, ids[name], connections, seconds, budget)
                    )
                service_log_lines = len(service.tail(10**9).splitlines())
            stored = _stored_events(database_url)
            if postgres:
                _drop_schema(database_url)
    print_rows(rows)
    print()
    code = verdict(rows, rates, service_log_lines)
    acked = sum(row.result.acked for row in rows if row.target == "service")
    print(
        f"acknowledged by the service (200): {acked}; events in its database: {stored} "
        f"({'every acknowledged event stored' if stored >= acked else 'EVENTS MISSING'})"
    )
    if stored < acked:
        code = 1
    print()
    store_ceiling()
    return code


def _stored_events(database_url: str) -> int:
    """Read after the service stopped: what it acknowledged must be stored."""

    async def count() -> int:
        store = await open_store(database_url)
        try:
            return sum((await store.counts()).values())
        finally:
            await store.close()

    return run_async(count())


def _drop_schema(database_url: str) -> None:
    import asyncpg

    schema = database_url.rpartition("?schema=")[2]

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    run_async(drop())


def _wait_bare(bare: Child, port: int) -> None:
    """The bare app has no GET route: wait until its port answers at all."""
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if bare.proc.poll() is not None:
            raise RuntimeError(f"bare server exited: {bare.tail()}")
        try:
            httpx.post(f"http://{HOST}:{port}/webhooks/zendesk", content=b"{}", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise TimeoutError("bare server did not start")


def store_ceiling(count: int = 1000) -> None:
    """The store's share: every webhook committed (WAL, synchronous=FULL) before its 200,
    concurrent ones group-committed by the writer process. In this process, on a
    temporary file: a bare sqlite3 insert + commit, then the app's `store.accept()` one
    at a time and 32 at once."""
    with tempfile.TemporaryDirectory(prefix="bench-ack-store-") as tmp:
        conn = sqlite3.connect(f"{tmp}/raw.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, k TEXT UNIQUE, p TEXT)")
        raw = []
        for i in range(count):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO e (k, p) VALUES (?, ?)", (f"k{i}", "x" * 200))
            conn.execute("COMMIT")
            raw.append(time.perf_counter() - t0)
        conn.close()
        one, many = run_async(_accepts(f"sqlite:///{tmp}/store.db", count))
    print("the intake's store write (in this process, no HTTP):")
    print(f"  sqlite3 insert + commit (WAL, FULL)    {Latency.of(raw).ms()}")
    print(f"  store.accept(), one at a time          {Latency.of(one).ms()}")
    print(f"  store.accept(), 32 at once             {many:.0f}/s")


async def _accepts(url: str, count: int) -> tuple[list[float], float]:
    store = await open_store(url)
    now = datetime.now(UTC)

    def event(key: str) -> NewEvent:
        return NewEvent(key, "trigger", "trigger", 1, {"ticket_id": "1"}, now)

    try:
        one = []
        for i in range(count):
            t0 = time.perf_counter()
            await store.accept(event(f"one:{i}"))
            one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for first in range(0, count, 32):
            await asyncio.gather(
                *(store.accept(event(f"many:{i}")) for i in range(first, first + 32))
            )
        return one, count / (time.perf_counter() - t0)
    finally:
        await store.close()


def verdict(rows: list[Row], rates: list[float], log_lines: int) -> int:
    by = {(r.target, r.result.offered_rps): r for r in rows}
    bare_max, service_max = by[("bare", None)].result, by[("service", None)].result
    ratio = service_max.rps / bare_max.rps if bare_max.rps else 0.0
    print(
        f"closed-loop throughput: service {service_max.rps:.0f}/s, bare {bare_max.rps:.0f}/s, "
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO:.2f}): "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )
    failed = ratio < TARGET_RATIO
    for rate in rates:
        service_open = by[("service", rate)].result
        bare_open = by[("bare", rate)].result
        p99 = service_open.latency().p99
        ok = p99 < TARGET_P99 and service_open.ok == service_open.sent
        print(
            f"open loop {rate:.0f}/s: service p99 {p99 * 1e3:.1f} ms "
            f"(bare {bare_open.latency().p99 * 1e3:.1f} ms), "
            f"{service_open.ok}/{service_open.sent} answered 200"
            + (
                f" (target p99 < {TARGET_P99 * 1e3:.0f} ms: {'met' if ok else 'NOT met'})"
                if rate == 500
                else ""
            )
        )
        if rate == 500:
            failed = failed or not ok
    print(f"(service log lines written: {log_lines})")
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates", default="100,250,500", help="open-loop rates, requests/s (comma list)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--connections", type=int, default=32, help="closed-loop clients")
    parser.add_argument(
        "--budget", type=int, default=80_000, help="pre-signed requests per closed-loop run"
    )
    parser.add_argument(
        "--log-level", default="INFO", help="the service's LOG_LEVEL (DEBUG: a line per webhook)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="the service on PostgreSQL (BENCH_POSTGRES_URL; a schema of its own, dropped)",
    )
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_bare(args.bare_server)
        return
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    raise SystemExit(
        run(rates, args.seconds, args.connections, args.budget, args.log_level, args.postgres)
    )


if __name__ == "__main__":
    main()
