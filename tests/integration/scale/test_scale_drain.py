"""Three `python -m app worker` processes drain one PostgreSQL inbox against the
sandbox, and one of them is killed with SIGKILL in the middle of a batch.

One run (a module fixture) feeds four checks:

- every event ends `done`, none dead;
- each ticket is written once per distinct decision: the sandbox's audits
  (Zendesk's record of effective changes, whatever the path: a PUT or an
  update_many job) against the distinct decision markers stored for the
  ticket; and no ticket has more than one successful PUT in `/_sandbox/requests`;
- no ticket is processed by two workers at once, checked from both sides:
  (1) the database: a trigger logs every change of an event's status or
      owner with `clock_timestamp()`; a lease window runs from a claim to the
      event's next change. Windows of one ticket must not overlap;
  (2) the sandbox: each worker process calls Zendesk as its own user
      (ZENDESK_EMAIL), and a wrapper times every request and the tickets it
      touches (the path, `show_many`/`update_many` ids and bodies). Every
      such request must lie inside a lease window that its own worker held
      on that ticket. Both clocks are this machine's wall clock; a claim's
      timestamp precedes its commit, which precedes the worker's request,
      whose answer precedes the completion's timestamp, so a correct run
      can never fail the check, and a worker that kept working on a ticket
      after losing its lease (or two workers on one ticket) always does;
- the killed worker lost nothing: every event it held at the kill was claimed
  again by another worker after its lease ran out and ended `done`.

Size: SCALE_TICKETS tickets x SCALE_EVENTS_PER_TICKET events, 500 x 10 by
default (about 50 s of draining on a 2-CPU machine; more when it is busy).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.sandbox import SandboxState
from app.worker.plan import MARKER_PREFIX, recorded_decision_marker
from tests.integration.scale.scale_helpers import (
    LEASE_LOG_DDL,
    POSTGRES_URL,
    SEED_AUTH,
    Call,
    Lease,
    connect_or_skip,
    insert_events,
    lease_windows,
    overlapping,
    pid_of,
    recorded_sandbox,
    seed_tickets,
    start_worker,
    worker_env,
)

TICKETS = int(os.environ.get("SCALE_TICKETS", "500"))
EVENTS_PER_TICKET = int(os.environ.get("SCALE_EVENTS_PER_TICKET", "10"))
WORKERS = 3
LEASE_SECONDS = 15  # heartbeats every 5 s; the killed worker's events return after 15 s
DRAIN_TIMEOUT = float(os.environ.get("SCALE_TIMEOUT", "400"))
KILL_AFTER_DONE = 0.25  # the share of events done before the kill
BATCH = 10  # BATCH_MIN_EVENTS: a worker holding this many is mid-batch

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(DRAIN_TIMEOUT + 200)]


@dataclass
class Drain:
    tickets: list[int]
    events: int
    callers: dict[str, int]  # ZENDESK_EMAIL -> pid
    victim_pid: int
    victim_code: int | None
    killed_at: float  # wall clock
    statuses: Counter[str]
    seconds: float
    leases: list[Lease]
    calls: list[Call]
    requests: list[dict[str, Any]]
    writes: dict[int, list[set[str]]]  # ticket -> per update audit, the markers it added
    markers: dict[int, set[str]] = field(default_factory=dict)  # ticket -> decisions
    decisions_per_event: Counter[int] = field(default_factory=Counter)

    @property
    def held_at_kill(self) -> set[int]:
        """Events the killed worker held when the signal went (from the lease log)."""
        return {
            w.event_id
            for w in self.leases
            if pid_of(w.owner) == self.victim_pid and w.start < self.killed_at < w.end
        }


def _schema_of(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


async def _counts(conn: asyncpg.Connection) -> Counter[str]:
    rows = await conn.fetch("SELECT status, count(*) FROM events GROUP BY status")
    return Counter({row["status"]: int(row["count"]) for row in rows})


async def _held_by(conn: asyncpg.Connection) -> dict[int, set[int]]:
    rows = await conn.fetch("SELECT id, lease_owner FROM events WHERE status = 'leased'")
    held: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        held[pid_of(row["lease_owner"])].add(int(row["id"]))
    return held


async def _drain(url: str, sandbox_url: str, tickets: list[int], logs: Path) -> Drain:
    schema = _schema_of(url)
    ids = await insert_events(url, tickets, EVENTS_PER_TICKET)
    conn = await asyncpg.connect(POSTGRES_URL, server_settings={"search_path": schema})
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for statement in LEASE_LOG_DDL:
            await conn.execute(statement)
        callers = {}
        for index in range(WORKERS):
            caller = f"worker{index}@example.com"
            env = worker_env(
                sandbox_url,
                url,
                caller,
                LEASE_SECONDS=str(LEASE_SECONDS),
                POLL_INTERVAL_SECONDS="0.2",
                BATCH_MIN_EVENTS=str(BATCH),
                # every event comes by webhook here: the sweep would only add reads
                RECONCILE_INTERVAL_SECONDS="0",
            )
            workers.append(start_worker(env, logs / f"worker{index}.log"))
            callers[caller] = workers[-1].pid
        started = time.monotonic()
        deadline = started + DRAIN_TIMEOUT
        # Kill the worker holding the most events, once it holds a batch.
        victim = None
        killed_at = 0.0
        while victim is None:
            assert time.monotonic() < deadline, f"no worker held a batch: {await _counts(conn)}"
            assert all(w.poll() is None for w in workers), f"a worker exited, see {logs}"
            if (await _counts(conn))["done"] >= KILL_AFTER_DONE * len(ids):
                by_pid = await _held_by(conn)
                pid, held = max(by_pid.items(), key=lambda item: len(item[1]), default=(0, set()))
                if len(held) >= BATCH:
                    victim = next(w for w in workers if w.pid == pid)
                    victim.send_signal(signal.SIGKILL)
                    killed_at = time.time()
            await asyncio.sleep(0.05)
        victim_code = await asyncio.to_thread(victim.wait, 10)
        while (counts := await _counts(conn))["done"] + counts["dead"] < len(ids):
            assert time.monotonic() < deadline, f"not drained in {DRAIN_TIMEOUT}s: {counts}"
            await asyncio.sleep(0.2)
        seconds = time.monotonic() - started
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.to_thread(worker.wait, 30)
            except subprocess.TimeoutExpired:
                worker.kill()
    try:
        log = [
            (int(r["event_id"]), int(r["ticket_id"]), r["status"], r["owner"], float(r["at"]))
            for r in await conn.fetch(
                "SELECT event_id, ticket_id, status, owner, extract(epoch FROM at) AS at "
                "FROM lease_log ORDER BY id"
            )
        ]
        markers: dict[int, set[str]] = defaultdict(set)
        per_event: Counter[int] = Counter()
        for row in await conn.fetch("SELECT ticket_id, event_id, decision FROM decisions"):
            markers[int(row["ticket_id"])].add(recorded_decision_marker(_json(row["decision"])))
            per_event[int(row["event_id"])] += 1
    finally:
        await conn.close()
    return Drain(
        tickets=tickets,
        events=len(ids),
        callers=callers,
        victim_pid=victim.pid,
        victim_code=victim_code,
        killed_at=killed_at,
        statuses=counts,
        seconds=seconds,
        leases=lease_windows(log),
        calls=[],
        requests=[],
        writes={},
        markers=dict(markers),
        decisions_per_event=per_event,
    )


def _markers_added(audits: list[dict[str, Any]]) -> list[set[str]]:
    """Per audit (one effective change of the ticket), the decision markers it added."""
    added = []
    for audit in audits:
        markers: set[str] = set()
        for event in audit["events"]:
            if event.get("field_name") == "tags":
                new = set(event.get("value") or []) - set(event.get("previous_value") or [])
                markers |= {tag for tag in new if tag.startswith(MARKER_PREFIX)}
        added.append(markers)
    return added


def _json(value: Any) -> dict[str, Any]:
    parsed = json.loads(value) if isinstance(value, str) else value
    assert isinstance(parsed, dict)
    return parsed


@pytest.fixture(scope="module")
def drain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drain]:
    asyncio.run(_reachable_or_skip())
    schema = f"scale_{uuid.uuid4().hex[:12]}"
    url = f"{POSTGRES_URL}?schema={schema}"
    logs = tmp_path_factory.mktemp("workers")
    # Limits far above what three workers reach: the headers never slow them.
    state = SandboxState(requests_per_minute=10**9, ticket_updates_per_minute=10**9)
    try:
        with recorded_sandbox(state) as (server, recorder):
            with httpx.Client(base_url=server.url, auth=SEED_AUTH, timeout=30) as zd:
                tickets = seed_tickets(zd, TICKETS)
                result = asyncio.run(_drain(url, server.url, tickets, logs))
                result.requests = zd.get("/_sandbox/requests").json()
            result.calls = list(recorder.calls)
            result.writes = {t: _markers_added(state.tickets.audits(t)[1:]) for t in tickets}
        print(
            f"\n{result.events} events, {TICKETS} tickets, {WORKERS} workers: drained in "
            f"{result.seconds:.1f} s ({result.events / result.seconds:.0f} events/s)"
        )
        yield result
    finally:
        asyncio.run(_drop(schema))


async def _reachable_or_skip() -> None:
    await (await connect_or_skip()).close()


async def _drop(schema: str) -> None:
    admin = await connect_or_skip()
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.close()


# -- the checks ----------------------------------------------------------------------


def test_every_event_done(drain: Drain) -> None:
    assert drain.statuses == Counter({"done": drain.events})
    assert drain.events == TICKETS * EVENTS_PER_TICKET
    undecided = drain.events - len(drain.decisions_per_event)
    assert undecided == 0, f"{undecided} events done without a decision"
    # An event decided twice was held by the killed worker, which decided and died
    # before marking it done; the second decision found its marker (a no-op).
    twice = {e for e, n in drain.decisions_per_event.items() if n > 1}
    assert twice <= drain.held_at_kill


def test_each_ticket_written_once_per_distinct_decision(drain: Drain) -> None:
    """Every write carries the marker of the decision it applies (README,
    idempotency): no marker twice on one ticket means no decision written twice."""
    wrong: dict[int, tuple[Any, ...]] = {}
    for ticket, writes in drain.writes.items():
        added = [marker for markers in writes for marker in markers]
        decided = drain.markers.get(ticket, set())
        if any(len(m) != 1 for m in writes) or len(set(added)) != len(added):
            wrong[ticket] = ("a write without one marker, or a marker twice", writes)
        elif not set(added) <= decided:
            wrong[ticket] = ("a write of no recorded decision", writes, decided)
    assert not wrong, f"{len(wrong)} tickets, e.g. {dict(list(wrong.items())[:3])}"
    # The tickets do not change under the service: one decision to write each.
    assert Counter(len(w) for w in drain.writes.values()) == Counter({1: len(drain.tickets)})
    puts = Counter(
        r["path"].removesuffix(".json")
        for r in drain.requests
        if r["method"] == "PUT" and r["status"] == 200 and "update_many" not in r["path"]
    )
    assert max(puts.values(), default=0) <= 1


def test_no_ticket_processed_by_two_workers_at_once(drain: Drain) -> None:
    assert not overlapping(drain.leases)[:5]
    windows: dict[tuple[int, int], list[Lease]] = defaultdict(list)
    for lease in drain.leases:
        windows[(lease.ticket_id, pid_of(lease.owner))].append(lease)
    checked, outside = 0, []
    for call in drain.calls:
        pid = drain.callers.get(call.caller or "")
        if pid is None:
            continue  # seeding
        # A request of the killed worker may be answered after it died: its start counts.
        end = call.start if pid == drain.victim_pid else call.end
        for ticket in call.tickets:
            checked += 1
            if not any(w.start < call.start and end < w.end for w in windows[(ticket, pid)]):
                outside.append((call, ticket))
    assert checked >= len(drain.tickets), "the sandbox saw too few ticket requests"
    assert not outside[:5], f"{len(outside)} requests outside their worker's lease"


def test_killed_worker_lost_nothing(drain: Drain) -> None:
    assert drain.victim_code == -signal.SIGKILL
    held = drain.held_at_kill
    assert held, "the killed worker held no event"
    claimed_again = {
        w.event_id
        for w in drain.leases
        if w.event_id in held and pid_of(w.owner) != drain.victim_pid and w.start > drain.killed_at
    }
    # A dead worker's lease can only end by running out; every one of its events
    # was then claimed by another worker (and is done: test_every_event_done).
    assert claimed_again == held
