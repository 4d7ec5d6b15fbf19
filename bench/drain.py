"""Drain throughput: events per second with 1, 2 and 4 worker processes on
PostgreSQL, against one worker on SQLite, all on the sandbox Zendesk.

Each run: a fresh sandbox (limits far above what the workers reach) with
`--tickets` dispute tickets, a fresh database (a SQLite file, or a new
PostgreSQL schema dropped afterwards), N `python -m app worker` processes
started and idle, then `--events` events committed in one transaction (as a
backlog arrives); the drain time runs from that commit to the last event
marked done. Loopback only, bounded by `--timeout` per run.

    .venv/bin/python bench/drain.py                      # 2,000 events, 400 tickets
    .venv/bin/python bench/drain.py --events 500 --no-docs

Prints a table, and writes it under "Drain throughput" in docs/benchmarks.md
(with the machine and the command) unless --no-docs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, insert, select, text

from app.cli.demo import SandboxSeeder
from app.cli.demo_cases import hourly_case
from app.core.serving import ThreadedServer
from app.sandbox import SandboxState, create_sandbox_app
from app.store import EventStatus, Priority, SqlEventStore, create_store
from app.store.postgres import CHANNEL
from app.store.tables import events

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
HEADING = "## Drain throughput"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SEED_AUTH = ("bench@example.com/token", "bench-token")


@dataclass(frozen=True)
class Run:
    backend: str  # sqlite | postgresql
    workers: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def seed(zd: httpx.Client, count: int) -> list[int]:
    today = datetime.now(UTC).date()
    seeder = SandboxSeeder(zd)
    return [
        int(seeder.create(hourly_case(today, f"C-B{i}", days_since_payment=1 + i % 60))["id"])
        for i in range(count)
    ]


def worker_env(sandbox_url: str, database_url: str, index: int, concurrency: int) -> dict[str, str]:
    return os.environ | {
        "ZENDESK_BASE_URL": sandbox_url,
        "ZENDESK_EMAIL": f"bench-worker{index}@example.com",
        "ZENDESK_API_TOKEN": "bench-token",
        "WEBHOOK_SECRETS": "bench-secret",
        "DATABASE_URL": database_url,
        "MARKETPLACE_URL": f"{sandbox_url}/marketplace",
        "WORKER_CONCURRENCY": str(concurrency),
        "POLL_INTERVAL_SECONDS": "0.1",
        "LOG_LEVEL": "WARNING",
        "ZENDESK_RATE_LIMIT_PER_MINUTE": "1000000",  # the shared budget, once wired
    }


def wait_until_ready(zd: httpx.Client, workers: int, procs: list[subprocess.Popen[bytes]]) -> None:
    """Each worker reads the groups once at start, after opening the database."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a worker exited at start (run one by hand to see why)")
        log = zd.get("/_sandbox/requests").json()
        if sum(1 for r in log if r["path"].startswith("/api/v2/groups")) >= workers:
            time.sleep(0.5)  # into their first claim and idle wait
            return
        time.sleep(0.1)
    raise SystemExit("workers did not start within 60 s")


async def release_backlog(
    store: SqlEventStore, tickets: list[int], count: int, postgres: bool
) -> float:
    """Commit `count` pending events in one transaction; return the commit time."""
    now = datetime.now(UTC)
    rows = [
        {
            "dedupe_key": f"bench:{n}",
            "source": "trigger",
            "event_type": "trigger",
            "ticket_id": tickets[n % len(tickets)],
            "payload": {"ticket_id": str(tickets[n % len(tickets)])},
            "status": EventStatus.PENDING.value,
            "priority": int(Priority.LIVE),
            "attempts": 0,
            "received_at": now,
            "available_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    async with store.engine.begin() as conn:
        await conn.execute(insert(events), rows)
        if postgres:
            await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    return time.time()


async def drained_at(store: SqlEventStore, count: int, within: float) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        counts = await store.counts()
        if counts["done"] + counts["dead"] >= count:
            if counts["dead"]:
                print(f"  warning: {counts['dead']} dead letters", file=sys.stderr)
            async with store.engine.begin() as conn:
                last = (await conn.execute(select(func.max(events.c.updated_at)))).scalar_one()
            assert isinstance(last, datetime)
            return (last if last.tzinfo else last.replace(tzinfo=UTC)).timestamp()
        await asyncio.sleep(0.2)
    raise SystemExit(f"not drained within {within:.0f} s: {await store.counts()}")


async def migrate(store: SqlEventStore) -> None:
    await store.open()
    await store.close()


async def drop_schema(schema: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def run_once(backend: str, workers: int, args: argparse.Namespace, tmp: Path) -> Run:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp / f'drain-{workers}-{schema}.db'}"
    else:
        database_url = f"{POSTGRES_URL}?schema={schema}"
    state = SandboxState(requests_per_minute=10**9, ticket_updates_per_minute=10**9)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with (
            ThreadedServer(create_sandbox_app(state)) as sandbox,
            httpx.Client(base_url=sandbox.url, auth=SEED_AUTH, timeout=30) as zd,
        ):
            state.base_url = sandbox.url
            tickets = seed(zd, args.tickets)
            store = create_store(database_url)
            asyncio.run(migrate(store))  # before the workers start
            for index in range(workers):
                env = worker_env(sandbox.url, database_url, index, args.concurrency)
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "app", "worker"],
                        env=env,
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            wait_until_ready(zd, workers, procs)

            async def measure() -> float:
                await store.open()
                try:
                    start = await release_backlog(
                        store, tickets, args.events, backend == "postgresql"
                    )
                    return await drained_at(store, args.events, args.timeout) - start
                finally:
                    await store.close()

            seconds = asyncio.run(measure())
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if backend == "postgresql":
            asyncio.run(drop_schema(schema))
    return Run(backend, workers, args.events, seconds)


def table(runs: list[Run], baseline: Run) -> list[str]:
    lines = [
        "| database | worker processes | events | drain (s) | events/s | vs SQLite, 1 worker |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.backend} | {run.workers} | {run.events} | {run.seconds:.1f} | "
            f"{run.rate:.0f} | {run.rate / baseline.rate:.2f}x |"
        )
    return lines


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    found = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    ram = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB" if found else "unknown"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs (nproc), {ram} RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; load average at start {load}"
    )


async def postgres_version() -> str:
    conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def write_docs(section: str) -> None:
    current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    DOCS.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per run (max 10000)")
    parser.add_argument("--tickets", type=int, default=400, help="distinct tickets per run")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="WORKER_CONCURRENCY")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run, at most")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    if not 1 <= args.events <= 10_000 or not 1 <= args.tickets <= args.events:
        parser.error("1 <= --tickets <= --events <= 10000")
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    try:
        pg_version = asyncio.run(postgres_version())
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc!r}") from None
    where = machine()
    print(where)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, workers in [("sqlite", 1), *(("postgresql", n) for n in counts)]:
            print(f"  {backend}, {workers} worker(s) ...", flush=True)
            runs.append(run_once(backend, workers, args, Path(tmp)))
            print(f"    {runs[-1].seconds:.1f} s, {runs[-1].rate:.0f} events/s", flush=True)
    lines = table(runs, runs[0])
    print("\n".join(lines))
    if args.no_docs:
        return
    command = "python bench/drain.py " + " ".join(sys.argv[1:])
    section = "\n".join(
        [
            HEADING,
            "",
            f"`{command.strip()}` on {datetime.now(UTC):%Y-%m-%d}: {args.events} events over "
            f"{args.tickets} tickets (several events per ticket, so per-ticket exclusivity "
            f"is exercised), `WORKER_CONCURRENCY={args.concurrency}`, the sandbox Zendesk "
            f"in the benchmark process with its rate limits lifted (this measures the "
            f"service, not Zendesk's budget), PostgreSQL {pg_version} on loopback. Drain "
            "time: from the commit of the backlog (workers already idle) to the last event "
            "done.",
            "",
            f"Machine: {where}.",
            "",
            *lines,
            "",
            "Every process (workers, sandbox, PostgreSQL) shares the machine's CPUs, so "
            "more workers than CPUs mostly add contention; on several machines each "
            "worker brings its own.",
            "",
        ]
    )
    write_docs(section)
    print(f"\nwritten to {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
