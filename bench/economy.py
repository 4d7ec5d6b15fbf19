"""Zendesk economy: API calls per routed ticket over the playbook's paths, and the time
to drain a backlog under a 100 ticket-updates/min limit with and without `update_many`.

Part 1, the mix: one ticket per path of `app.cli.demo_cases.demo_cases` (ten paths), each
sent as a signed webhook to the service (in-process, with its worker) and processed
alone, so every sandbox request (`GET /_sandbox/requests`) belongs to one decision.
Then each webhook is sent a second time with the ticket's new `updated_at` and tags,
as the README's trigger body would on the service's own update (the echo): it must
cost no Zendesk call (the payload shows the decision's marker and the stamp of the
service's own write). Checks: at most one write per decision, no call for the echo,
no write for any no-op, and reads only for what the payload lacks (the ticket itself,
a linked ticket; the playbook's macros are tag-only, so no `apply` read).

Part 2, the drain: a backlog inserted straight into the store (`open_store` +
`accept(NewEvent)`) before a `python -m app worker` process starts, against a sandbox
limited to 100 ticket updates/min (the sandbox's account-wide budget stays at its
nominal 700 requests/min, which the client also respects). `BATCH_SIZE=100` (one
`show_many` + one `update_many` job per 100 tickets) vs `BATCH_SIZE=1` (one PUT per
ticket). Draining 10,000 tickets one by one would take ~100 minutes, so both runs
measure the first N tickets and extrapolate to 10,000 (stated as such in the output).
The two drains run at the same time, each with its own sandbox, store and worker.

    .venv/bin/python bench/economy.py                  # ~2.5 min
    .venv/bin/python bench/economy.py --with-n 2000 --without-n 300

Part 3 (`--backlog N`, instead of part 2): the batched drain alone, N tickets, with
the sandbox enforcing both 100 ticket updates/min and 700 requests/min (429 beyond
either), checked against the targets: drained in under two minutes (3,000 tickets),
at most 0.1 Zendesk calls per ticket, no 429.

    .venv/bin/python bench/economy.py --skip-mix --backlog 3000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import httpx
from _common import (
    ADMIN,
    PYTHON,
    SECRET,
    UNLIMITED,
    Child,
    StateSeeder,
    TimedApp,
    call_kind,
    insert_backlog,
    is_write,
    is_zendesk,
    print_header,
    sandbox_server,
    service_env,
    today,
)

from app.api.app import create_app
from app.cli.demo import demo_settings, signed_post
from app.cli.demo_cases import demo_cases
from app.core.serving import ThreadedServer
from app.sandbox import SandboxState
from app.sandbox.context import parse_iso
from app.store import EventStore, open_store

BACKLOG = 10_000
UPDATES_PER_MINUTE = 100
ACCOUNT_BUDGET = 700  # the sandbox's nominal requests/min (headers), which the client obeys


# -- part 1: calls per decision over the playbook's paths --------------------------------


@dataclass
class Calls:
    reads: Counter[str] = field(default_factory=Counter)
    writes: Counter[str] = field(default_factory=Counter)
    marketplace: int = 0

    @classmethod
    def of(cls, requests: list[dict[str, Any]]) -> Calls:
        calls = cls()
        for r in requests:
            kind = call_kind(r["method"], r["path"])
            if not is_zendesk(r["path"]):
                calls.marketplace += 1
            elif is_write(r["method"], r["path"]):
                calls.writes[kind] += 1
            else:
                calls.reads[kind] += 1
        return calls

    @staticmethod
    def show(counter: Counter[str]) -> str:
        return ", ".join(f"{n} {k.split(' ', 1)[1]}" for k, n in sorted(counter.items())) or "-"


@dataclass
class PathRow:
    label: str
    queue: str
    outcome: str
    first: Calls
    echo: Calls
    echo_kind: str  # "echo" (new updated_at) or "redelivery" (nothing changed)
    expected_reads: int
    problems: list[str]


def wait_done(api: httpx.Client, ticket_id: int, count: int, timeout: float = 30.0) -> None:
    """Until the ticket has `count` finished events."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = api.get("/admin/events", params={"ticket_id": ticket_id}).json()["events"]
        finished = [e for e in events if e["status"] in ("done", "dead", "ignored")]
        if len(finished) >= count and len(finished) == len(events):
            return
        time.sleep(0.05)
    raise TimeoutError(f"ticket {ticket_id}: events not processed in {timeout} s")


def expected_reads(decision: dict[str, Any], applied: bool, ticket_id: int) -> int:
    """What the payload (ticket id, updated_at) cannot tell: the ticket itself and each
    linked ticket a note goes to. The playbook's macros are tag-only: their effect
    comes from the definitions loaded with the catalog, with no `apply` read."""
    linked = {int(n["ticket_id"]) for n in decision.get("notes") or [] if n.get("ticket_id")}
    return 1 + len(linked - {ticket_id})


def run_mix() -> list[PathRow]:
    state = SandboxState(requests_per_minute=UNLIMITED, ticket_updates_per_minute=UNLIMITED)
    seeder = StateSeeder(state)
    cases = demo_cases(today())
    tickets = [seeder.create(case) for case in cases]
    rows: list[PathRow] = []
    with tempfile.TemporaryDirectory(prefix="bench-economy-") as tmp, sandbox_server(state) as sb:
        settings = demo_settings(sb.url, f"sqlite:///{tmp}/mix.db", secret=SECRET, admin=ADMIN)
        with (
            ThreadedServer(create_app(settings)) as service,
            httpx.Client(base_url=sb.url, timeout=30) as zd,
            httpx.Client(
                base_url=service.url, timeout=30, headers={"authorization": f"Bearer {ADMIN}"}
            ) as api,
        ):
            for case, ticket in zip(cases, tickets, strict=True):
                tid = int(ticket["id"])
                zd.delete("/_sandbox/requests")
                payload = {"ticket_id": str(tid), "updated_at": ticket["updated_at"]}
                signed_post(api, "/webhooks/zendesk", payload, SECRET).raise_for_status()
                wait_done(api, tid, 1)
                first = Calls.of(zd.get("/_sandbox/requests").json())
                now = state.ticket(tid)
                after = now["updated_at"]
                zd.delete("/_sandbox/requests")
                if after != ticket["updated_at"]:
                    tags = " ".join(now["tags"])
                    echo_kind = "echo"
                    again = {"ticket_id": str(tid), "updated_at": after, "tags": tags}
                else:  # nothing written: no echo; a new delivery (other body) instead
                    echo_kind, again = "redelivery", {"ticket_id": str(tid)}
                signed_post(api, "/webhooks/zendesk", again, SECRET).raise_for_status()
                wait_done(api, tid, 2)
                echo = Calls.of(zd.get("/_sandbox/requests").json())
                decisions = api.get(f"/admin/tickets/{tid}/decisions").json()["decisions"]
                oldest = decisions[-1]
                decision, outcome = oldest["decision"] or {}, oldest["outcome"]
                expected = expected_reads(decision, outcome == "applied", tid)
                problems = []
                if sum(first.writes.values()) > 1:
                    problems.append("more than one write")
                if outcome != "applied" and first.writes:
                    problems.append("a no-op wrote")
                if echo.writes:
                    problems.append(f"{echo_kind} wrote")
                if sum(first.reads.values()) > expected:
                    problems.append(f"{sum(first.reads.values())} reads, {expected} needed")
                if echo_kind == "echo" and echo.reads:
                    problems.append(f"echo: {sum(echo.reads.values())} reads, 0 needed")
                if sum(echo.reads.values()) > 1:
                    problems.append(f"{echo_kind}: {sum(echo.reads.values())} reads, 1 needed")
                rows.append(
                    PathRow(
                        case.label,
                        str(decision.get("queue") or "-"),
                        outcome,
                        first,
                        echo,
                        echo_kind,
                        expected,
                        problems,
                    )
                )
    return rows


def print_mix(rows: list[PathRow]) -> None:
    print("Part 1: Zendesk calls per decision, one ticket per playbook path (demo_cases)")
    header = (
        f"{'path':44} {'queue':30} {'outcome':8} {'reads':34} {'writes':14} {'mkt':>3}  "
        f"{'echo reads':16} {'echo writes':11}  check"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        check = "ok" if not r.problems else "; ".join(r.problems)
        echo_reads = Calls.show(r.echo.reads) + ("" if r.echo_kind == "echo" else " (r)")
        print(
            f"{r.label[:44]:44} {r.queue[:30]:30} {r.outcome:8} {Calls.show(r.first.reads):34} "
            f"{Calls.show(r.first.writes):14} {r.first.marketplace:3}  {echo_reads:16} "
            f"{sum(r.echo.writes.values()):11}  {check}"
        )
    n = len(rows)
    reads = sum(sum(r.first.reads.values()) for r in rows)
    writes = sum(sum(r.first.writes.values()) for r in rows)
    echo_reads = sum(sum(r.echo.reads.values()) for r in rows)
    echo_writes = sum(sum(r.echo.writes.values()) for r in rows)
    market = sum(r.first.marketplace for r in rows)
    per_kind: Counter[str] = Counter()
    for r in rows:
        per_kind.update(r.first.reads)
        per_kind.update(r.first.writes)
    print()
    print(
        f"per routed ticket (mean of {n} paths): {(reads + writes) / n:.2f} Zendesk calls = "
        f"{reads / n:.2f} reads + {writes / n:.2f} writes; "
        f"{market / n:.2f} marketplace-directory calls"
    )
    print("  by kind: " + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(per_kind.items())))
    print(
        f"echo / redelivery of the same {n} webhooks: {echo_reads / n:.2f} reads, "
        f"{echo_writes} writes in total"
    )
    redeliveries = [r.label for r in rows if r.echo_kind != "echo"]
    if redeliveries:
        print(
            "  (r) = the decision wrote nothing, so there is no echo: sent again without "
            f"updated_at (a new event keyed by signature time and body): {', '.join(redeliveries)}"
        )
    bad = [r for r in rows if r.problems]
    print(f"checks: {'all met' if not bad else f'{len(bad)} path(s) NOT met'}")
    print()


# -- part 2: draining a backlog --------------------------------------------------------


@dataclass
class Drain:
    batch_size: int
    tickets: int
    seconds: float  # first Zendesk request of the worker -> nothing pending or leased
    counts: dict[str, int]
    calls: Counter[str]
    limited: int  # 429s
    update_times: list[float]  # seconds after the start, per ticket, sorted
    request_times: list[float]  # seconds after the start, per Zendesk request, sorted
    written: list[tuple[float, int]]  # (seconds after the start, tickets) per accepted write
    worker_log: str

    def limiter_pauses(self) -> list[tuple[float, float]]:
        """Stretches of more than 5 s without a single Zendesk request: the worker's client
        waiting for the rate-limit window (otherwise a busy worker always has calls out)."""
        t = self.request_times
        return [(t[i - 1], t[i]) for i in range(1, len(t)) if t[i] - t[i - 1] > 5.0]

    def extrapolate(self, target: int) -> tuple[float, str]:
        """Seconds for `target` tickets from this run of `self.tickets` (a model fed with
        the run's measurements, not a straight line through a short run).

        The sandbox's limits are sliding 60 s windows: a run's first window admits a
        burst, after which tickets flow at the slowest of three rates: processing (as
        measured before the client first waited for a limit, or over the whole run if it
        never did), 100 ticket updates/min over the measured update calls per ticket,
        and the 700 requests/min account budget over the measured Zendesk calls per
        ticket. Then `target` takes: the burst's time + the rest at that rate."""
        pauses = self.limiter_pauses()
        n = self.tickets
        if pauses:
            burst_end = pauses[0][0]
            burst = sum(k for t, k in self.written if t <= burst_end)
        else:
            burst_end, burst = self.seconds, n
        rates = {
            "processing": burst / max(burst_end, 1e-9),
            f"{UPDATES_PER_MINUTE} updates/min": UPDATES_PER_MINUTE / 60 / (len(self.written) / n),
            f"{ACCOUNT_BUDGET} requests/min": ACCOUNT_BUDGET / 60 / (len(self.request_times) / n),
        }
        bound = min(rates, key=lambda k: rates[k])
        if not pauses:
            burst_end, burst = 0.0, 0  # a longer run might still reach a limit: all at rate
        seconds = burst_end + (target - burst) / rates[bound]
        how = ", ".join(f"{k} {v * 60:,.0f}" for k, v in rates.items())
        return seconds, f"bound by {bound}; tickets/min by {how}"


@dataclass
class Backlog:
    batch_size: int
    state: SandboxState
    tickets: list[dict[str, Any]]
    database_url: str
    log: Path
    store: EventStore  # opened here: two stores must not run migrations at the same time


async def prepare(
    batch_size: int, count: int, tmp: Path, requests_per_minute: int | None = None
) -> Backlog:
    """Tickets in a sandbox limited to 100 updates/min (and `requests_per_minute` when
    given: enforced, not only reported), and one stored event per ticket."""
    state = SandboxState(
        ticket_updates_per_minute=UPDATES_PER_MINUTE, requests_per_minute=requests_per_minute
    )
    seeder = StateSeeder(state)
    cases = demo_cases(today())
    for case in cases:
        seeder.directory(case)
    tickets = [seeder.create(case, directory=False) for case in islice(cycle(cases), count)]
    database_url = f"sqlite:///{tmp}/drain-{batch_size}.db"
    await insert_backlog(database_url, tickets)
    store = await open_store(database_url)
    log = tmp / f"worker-{batch_size}.log"
    return Backlog(batch_size, state, tickets, database_url, log, store)


async def drain(backlog: Backlog) -> Drain:
    """Start the sandbox and a worker process; wait until nothing is pending or leased."""
    state = backlog.state
    timed = TimedApp()
    server = sandbox_server(state, timed=timed)
    await asyncio.to_thread(server.start)
    env = service_env(
        server.url,
        backlog.database_url,
        batch_size=str(backlog.batch_size),
        reconcile_interval_seconds="0",  # the drain alone: every event is in the backlog
    )
    store = backlog.store
    try:
        with Child([PYTHON, "-m", "app", "worker"], env=env, log=backlog.log):
            counts: dict[str, int] = {}
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                counts = await store.counts()
                if not counts["pending"] and not counts["leased"]:
                    break
                await asyncio.sleep(0.2)
            finished = time.monotonic()
    finally:
        await store.close()
        await asyncio.to_thread(server.stop)
    start = timed.log[0].start
    wall_start = time.time() - (time.monotonic() - start)
    updates = []
    for ticket in backlog.tickets:
        audits = state.ticket(int(ticket["id"]))["audits"]
        if len(audits) > 1:  # [0] is the creation; the service's update follows
            updates.append((parse_iso(audits[1]["created_at"]) or 0) / 1e6 - wall_start)
    return Drain(
        backlog.batch_size,
        len(backlog.tickets),
        finished - start,
        counts,
        Counter(call_kind(t.method, t.path) for t in timed.log if t.status != 429),
        sum(1 for t in timed.log if t.status == 429),
        sorted(updates),
        sorted(t.start - start for t in timed.log if is_zendesk(t.path)),
        [(t.start - start, t.tickets) for t in timed.log if t.tickets and t.status == 200],
        backlog.log.read_text(errors="replace")[-2000:],
    )


async def run_drains(with_n: int, without_n: int) -> list[Drain]:
    """Prepared one after the other (store migrations), drained at the same time."""
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        backlogs = [await prepare(100, with_n, Path(tmp)), await prepare(1, without_n, Path(tmp))]
        return list(await asyncio.gather(*(drain(b) for b in backlogs)))


def minutes(seconds: float) -> str:
    return f"{seconds:.0f} s ({seconds / 60:.1f} min)"


def print_drains(drains: list[Drain]) -> None:
    print(
        f"Part 2: draining a backlog under {UPDATES_PER_MINUTE} ticket updates/min "
        "(sandbox limit; account budget 700 requests/min, nominal)"
    )
    for d in drains:
        label = (
            "with update_many (BATCH_SIZE=100)" if d.batch_size > 1 else "one by one (BATCH_SIZE=1)"
        )
        done, total = d.counts.get("done", 0), d.tickets
        writes = {k: v for k, v in d.calls.items() if k.split(" ", 1)[0] != "GET"}
        reads = {k: v for k, v in d.calls.items() if k.split(" ", 1)[0] == "GET"}
        extrapolated, how = d.extrapolate(BACKLOG)
        print(f"  {label}")
        print(
            f"    measured:     {total} tickets drained in {minutes(d.seconds)}; "
            f"{done} done, {d.counts.get('dead', 0)} dead, {d.limited} 429s, "
            f"{len(d.update_times)} tickets updated"
        )
        print(f"    Zendesk calls: writes {dict(sorted(writes.items()))}")
        print(f"                   reads  {dict(sorted(reads.items()))}")
        zendesk = sum(v for k, v in d.calls.items() if "marketplace" not in k)
        print(f"                   {zendesk / total:.2f} Zendesk calls per ticket")
        print(f"    EXTRAPOLATED to {BACKLOG:,} tickets: {minutes(extrapolated)} ({how})")
    batched = next(d for d in drains if d.batch_size > 1)
    single = next(d for d in drains if d.batch_size == 1)
    b, s = batched.extrapolate(BACKLOG)[0], single.extrapolate(BACKLOG)[0]
    print(f"  speed-up of batching at {BACKLOG:,} tickets (extrapolated): {s / b:.1f}x")
    for d in drains:
        if d.counts.get("done", 0) != d.tickets:
            print(f"  WARNING: BATCH_SIZE={d.batch_size} left events unfinished; worker log tail:")
            print(d.worker_log)


TARGET_SECONDS_3000 = 120.0
TARGET_CALLS_PER_TICKET = 0.1


async def run_backlog(count: int) -> Drain:
    with tempfile.TemporaryDirectory(prefix="bench-backlog-") as tmp:
        return await drain(await prepare(100, count, Path(tmp), ACCOUNT_BUDGET))


def print_backlog(d: Drain) -> bool:
    """Part 3's figures and its targets; True when every target is met."""
    zendesk = sum(v for k, v in d.calls.items() if "marketplace" not in k)
    per_ticket = zendesk / d.tickets
    done = d.counts.get("done", 0)
    limit = TARGET_SECONDS_3000 * d.tickets / 3000
    print(
        f"Part 3: a backlog of {d.tickets:,} tickets, batched, under {UPDATES_PER_MINUTE} "
        f"ticket updates/min and {ACCOUNT_BUDGET} requests/min (both enforced by the sandbox)"
    )
    print(
        f"  drained in {d.seconds:.1f} s; {done} done, {d.counts.get('dead', 0)} dead, "
        f"{d.limited} 429s, {len(d.update_times)} tickets updated"
    )
    print(f"  Zendesk calls: {dict(sorted(d.calls.items()))}")
    print(f"  {zendesk} Zendesk calls = {per_ticket:.3f} per ticket")
    checks = {
        f"drained in under {limit:.0f} s (2 min per 3,000 tickets)": d.seconds < limit,
        f"at most {TARGET_CALLS_PER_TICKET} Zendesk calls per ticket": per_ticket
        <= TARGET_CALLS_PER_TICKET,
        "no 429": d.limited == 0,
        "every event done": done == d.tickets,
    }
    for what, met in checks.items():
        print(f"  {'met    ' if met else 'NOT MET'}  {what}")
    if done != d.tickets:
        print(d.worker_log)
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-n", type=int, default=2000, help="tickets drained with batching")
    parser.add_argument("--without-n", type=int, default=300, help="tickets drained one by one")
    parser.add_argument("--skip-mix", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument(
        "--backlog", type=int, default=0, help="part 3 instead of part 2: N tickets, batched"
    )
    args = parser.parse_args()
    print_header("Zendesk economy")
    started = time.monotonic()
    if not args.skip_mix:
        rows = run_mix()
        print_mix(rows)
    met = True
    if args.backlog:
        met = print_backlog(asyncio.run(run_backlog(args.backlog)))
    elif not args.skip_drain:
        print_drains(asyncio.run(run_drains(args.with_n, args.without_n)))
    print(
        f"\n(run took {time.monotonic() - started:.0f} s; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
    )
    if not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
