"""The database cannot take writes: the webhook answers 503 (Zendesk retries), and
nothing is acknowledged that was not stored.

SQLite: another connection holds the write lock (`BEGIN EXCLUSIVE`; the service
waits only `busy_timeout_ms=200`), or the disk is full (the file size limit of
the service and of its SQLite writer process is cut to one byte with prlimit,
so every write fails with EFBIG).
PostgreSQL: the service's connections are terminated (`pg_terminate_backend`)
and then cut off entirely (a TCP proxy drops and refuses them).

The fault phases run an intake without a worker, so what is checked is the
webhook alone; a worker then drains everything that was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.e2e.conftest import send, wait_for
from tests.faults.harness import (
    POSTGRES_URL,
    FaultSandbox,
    ServiceProcess,
    TcpProxy,
    all_events,
    new_ticket,
    pg_run,
    pg_url,
    running,
    service_settings,
    serving,
    settle,
    trigger,
)

if TYPE_CHECKING:
    import asyncpg

pytestmark = pytest.mark.e2e

#: Zendesk gives up on a webhook after about 12 s; a 503 must come well before.
ZENDESK_TIMEOUT = 12.0
PROMPT = 5.0


class Ledger:
    """What each delivery got: the webhook's promise, to hold the store to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.acked: dict[int, dict[str, Any]] = {}  # event id -> payload
        self.refused: list[dict[str, Any]] = []
        self.answers: list[tuple[int, float]] = []  # status, seconds

    def deliver(self, client: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
        started = time.monotonic()
        answer = send(client, payload)
        seconds = time.monotonic() - started
        with self._lock:
            self.answers.append((answer.status_code, seconds))
            if answer.status_code == 200:
                self.acked[answer.json()["event_id"]] = payload
            else:
                assert answer.status_code == 503, answer.text
                assert answer.json()["error"] == "store_unavailable"
                assert answer.headers.get("retry-after"), "Zendesk is told when to retry"
                assert seconds < PROMPT, f"503 after {seconds:.1f}s"
                self.refused.append(payload)
        return answer

    def redeliver_refused(self, client: httpx.Client) -> None:
        """Zendesk retries what was not acknowledged; now it must be stored."""
        refused, self.refused = self.refused, []
        for payload in refused:
            assert self.deliver(client, payload).status_code == 200

    def check_stored(self, events: list[dict[str, Any]]) -> None:
        stored = {e["id"]: e for e in events}
        for event_id, payload in self.acked.items():
            assert event_id in stored, f"event {event_id} was acknowledged but is not stored"
            event = stored[event_id]
            assert event["ticket_id"] == int(payload["ticket_id"])
            assert event["payload"]["updated_at"] == payload["updated_at"]


def _payloads(tickets: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (trigger(t) for t in tickets)


def _drain_and_check(
    sandbox: FaultSandbox, database_url: str, ledger: Ledger, tickets: list[dict[str, Any]]
) -> None:
    """A worker processes every acknowledged event: one note per ticket."""
    settings = service_settings(sandbox.url, database_url, poll_interval_seconds=0.1)
    with serving(settings) as api:
        settle(api, list(ledger.acked), timeout=60)
    for ticket in tickets:
        assert len(sandbox.notes(ticket["id"])) == 1


# --------------------------------------------------------------------------- SQLite


@contextlib.contextmanager
def write_locked(db: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock (readers still read, in WAL)."""
    other = sqlite3.connect(db, isolation_level=None, timeout=10)
    try:
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_webhook_sqlite_locked_answers_503_nothing_acknowledged_unstored(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    db = tmp_path / "triage.db"
    url = f"sqlite:///{db}?busy_timeout_ms=200"
    tickets = [new_ticket(zd) for _ in range(14)]
    payloads = _payloads(tickets)
    ledger = Ledger()
    with serving(service_settings(sandbox.url, url), run_worker=False) as client:
        for payload in [next(payloads) for _ in range(2)]:
            assert ledger.deliver(client, payload).status_code == 200
        with write_locked(db):
            for payload in [next(payloads) for _ in range(4)]:
                assert ledger.deliver(client, payload).status_code == 503
        # Flapping: the lock is taken and released every 0.3 s while webhooks arrive.
        stop = threading.Event()

        def flap() -> None:
            while not stop.is_set():
                with write_locked(db):
                    time.sleep(0.3)
                time.sleep(0.3)

        flapper = threading.Thread(target=flap, daemon=True)
        flapper.start()
        try:
            for payload in [next(payloads) for _ in range(8)]:
                ledger.deliver(client, payload)
                time.sleep(0.15)
        finally:
            stop.set()
            flapper.join(timeout=10)
        ledger.check_stored(all_events(client))
        ledger.redeliver_refused(client)
        ledger.check_stored(all_events(client))
    assert len(ledger.acked) == len(tickets)
    _drain_and_check(sandbox, url, ledger, tickets)


class LateAnswer(AssertionError):
    """The failure the test below guards against (a regression of a fixed bug)."""


@pytest.mark.slow
def test_webhook_sqlite_locked_concurrent_deliveries_each_answered_within_zendesk_timeout(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    """Zendesk delivers webhooks concurrently. While the database is locked, each
    must still get its 503 before Zendesk gives up on it (about 12 s), with the
    default busy timeout."""
    db = tmp_path / "triage.db"
    tickets = [new_ticket(zd) for _ in range(4)]
    with serving(service_settings(sandbox.url, f"sqlite:///{db}"), run_worker=False) as client:
        assert send(client, trigger(tickets[0])).status_code == 200
        with write_locked(db):
            started = time.monotonic()

            def deliver(ticket: dict[str, Any]) -> tuple[int, float]:
                with httpx.Client(base_url=str(client.base_url), timeout=60) as own:
                    answer = send(own, trigger(ticket))
                return answer.status_code, time.monotonic() - started

            with ThreadPoolExecutor(max_workers=3) as pool:
                answers = list(pool.map(deliver, tickets[1:]))
        assert [status for status, _ in answers] == [503] * 3
        late = [f"{seconds:.1f}s" for _, seconds in answers if seconds > ZENDESK_TIMEOUT]
        if late:
            raise LateAnswer(f"503s after {late}; Zendesk waits about {ZENDESK_TIMEOUT}s")
        assert len(all_events(client)) == 1, "nothing was stored while locked"


def _children(pid: int) -> list[int]:
    """Child processes of `pid` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(c) for c in (task / "children").read_text().split())
    return found


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs prlimit (Linux)")
def test_webhook_sqlite_disk_full_answers_503_nothing_acknowledged_unstored(
    sandbox: FaultSandbox, zd: httpx.Client, tmp_path: Path
) -> None:
    db = tmp_path / "triage.db"
    url = f"sqlite:///{db}"
    tickets = [new_ticket(zd) for _ in range(8)]
    payloads = _payloads(tickets)
    ledger = Ledger()
    intake = ServiceProcess(sandbox.url, url, tmp_path / "intake.log", "--no-worker")
    with running(intake), intake.admin() as client:
        intake.wait_healthy()
        for payload in [next(payloads) for _ in range(2)]:
            assert ledger.deliver(client, payload).status_code == 200
        # the service and its SQLite writer process (started by the first webhook)
        writers = _children(intake.pid)
        assert writers, "the intake's writer process is running"
        pids = [intake.pid, *writers]
        limits = {pid: resource.prlimit(pid, resource.RLIMIT_FSIZE) for pid in pids}
        for pid, (_, hard) in limits.items():
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))  # "disk full"
        try:
            for payload in [next(payloads) for _ in range(3)]:
                answer = ledger.deliver(client, payload)
                assert answer.status_code == 503, intake.tail()
        finally:
            for pid, limit in limits.items():
                with contextlib.suppress(ProcessLookupError):
                    resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)
        for payload in payloads:
            assert ledger.deliver(client, payload).status_code == 200, intake.tail()
        ledger.redeliver_refused(client)
        ledger.check_stored(all_events(client))
    assert len(ledger.acked) == len(tickets)
    _drain_and_check(sandbox, url, ledger, tickets)


# --------------------------------------------------------------------------- PostgreSQL


def _terminate_ports(ports: list[int]) -> int:
    """pg_terminate_backend for the backends behind these client ports (ours only)."""

    async def terminate(conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()",
            ports,
        )
        return len(rows)

    return int(pg_run(terminate)) if ports else 0


@pytest.mark.postgres
def test_webhook_postgres_connection_dropped_answers_503_nothing_acknowledged_unstored(
    sandbox: FaultSandbox, zd: httpx.Client, pg_schema: str
) -> None:
    direct = pg_url(pg_schema)
    server = make_url(POSTGRES_URL)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432).start()
    tickets = [new_ticket(zd) for _ in range(12)]
    payloads = _payloads(tickets)
    ledger = Ledger()
    settings = service_settings(sandbox.url, pg_url(pg_schema, port=proxy.port))
    try:
        with serving(settings, run_worker=False) as client:
            for payload in [next(payloads) for _ in range(2)]:
                assert ledger.deliver(client, payload).status_code == 200
            # The server ends every connection of the service (an admin, a failover).
            assert _terminate_ports(proxy.upstream_ports()) >= 1
            for payload in [next(payloads) for _ in range(3)]:
                ledger.deliver(client, payload)
            # The network to the server is gone: open connections drop, new ones fail.
            proxy.cut()
            for payload in [next(payloads) for _ in range(3)]:
                assert ledger.deliver(client, payload).status_code == 503
            assert client.get("/readyz").status_code == 503
            proxy.restore()
            for payload in payloads:
                assert ledger.deliver(client, payload).status_code == 200
            ledger.redeliver_refused(client)
            ledger.check_stored(all_events(client))
    finally:
        proxy.stop()
    assert len(ledger.acked) == len(tickets)
    _drain_and_check(sandbox, direct, ledger, tickets)


class DeadLettered(AssertionError):
    """The failure the test below guards against (a regression of a fixed bug)."""


@pytest.mark.postgres
def test_worker_postgres_connection_lost_while_recording_event_retried_not_dead_lettered(
    sandbox: FaultSandbox, zd: httpx.Client, pg_schema: str
) -> None:
    """The decision was applied in Zendesk, then the connection recording it died.
    The database is back a moment later: the event must be retried (a no-op by
    its marker) and end done, not become a dead letter an operator must replay."""
    settings = service_settings(
        sandbox.url, pg_url(pg_schema), poll_interval_seconds=0.1, lease_seconds=2
    )
    ticket = new_ticket(zd)

    async def scenario(api: httpx.Client) -> int:
        import asyncpg

        holder = await asyncpg.connect(POSTGRES_URL, timeout=5)
        watcher = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            # Writing a decision record now waits on this lock (reads do not), by which
            # time the note is in Zendesk.
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute(f'LOCK TABLE "{pg_schema}".decisions IN SHARE MODE')
            event_id = int(send(api, trigger(ticket)).json()["event_id"])
            blocked = None
            for _ in range(200):
                blocked = await watcher.fetchval(
                    "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                    holder.get_server_pid(),
                )
                if blocked:
                    break
                await asyncio.sleep(0.1)
            assert blocked, "the worker is recording its decision"
            assert len(sandbox.notes(ticket["id"])) == 1
            await watcher.execute("SELECT pg_terminate_backend($1)", blocked)
            await asyncio.sleep(0.5)
            await transaction.rollback()
            return event_id
        finally:
            await holder.close(timeout=5)
            await watcher.close(timeout=5)

    with serving(settings) as api:
        event_id = asyncio.run(scenario(api))

        def status() -> dict[str, Any]:
            return next(e for e in all_events(api) if e["id"] == event_id)

        wait_for(lambda: status()["status"] in ("done", "dead"), timeout=30, what="settled")
        if status()["status"] != "done":
            raise DeadLettered(status()["last_error"])
    assert len(sandbox.notes(ticket["id"])) == 1
