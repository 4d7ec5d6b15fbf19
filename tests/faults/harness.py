"""What the fault tests share: a sandbox Zendesk that times every request, the
service as a subprocess, readers of the event store, and a TCP proxy that can
cut the service off its PostgreSQL server.

Everything listens on 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.app import create_app
from app.cli.demo import demo_settings
from app.cli.demo_cases import hourly_case
from app.core.serving import ThreadedServer, free_port
from app.core.settings import Settings
from app.sandbox import SandboxState, create_sandbox_app
from tests.e2e.conftest import ADMIN, SECRET, admin_client, create_case, send, wait_for

MARKER_PREFIX = "triage_d_"
FINAL = ("done", "dead")


# --------------------------------------------------------------------------- sandbox


@dataclass
class Timed:
    """One request the sandbox received (control paths excluded), with monotonic times."""

    method: str
    path: str  # as received, `.json` included, no query string
    start: float
    end: float | None = None  # when the answer started (None: still in flight)
    status: int | None = None
    late: bool = False  # applied, then its answer stalled by `answer_late`


class TimedLog:
    """ASGI middleware around the sandbox app: when each request arrived and was
    answered, and one fault the sandbox cannot inject itself.

    The sandbox's own request log has no times; Retry-After checks need them.
    The sandbox's faults answer *unprocessed* (a held request ends as a 504), and
    a delayed request whose client gave up is dropped unread. `answer_late` makes
    Zendesk apply a write (a 2xx answer) and only then stall the answer past the
    client's timeout: the write happened, the client does not know.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._entries: list[Timed] = []
        self._late: list[tuple[str, str, float, float, list[int]]] = []
        self._rng = random.Random(0)

    def answer_late(
        self,
        method: str,
        path_prefix: str,
        *,
        seconds: float,
        first: int = 0,
        probability: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Stall the answers of the `first` successful matching requests, then of
        each with `probability` (seeded)."""
        with self._lock:
            self._late.append((method, path_prefix, probability, seconds, [first]))
            self._rng = random.Random(seed)

    def clear_late(self) -> None:
        with self._lock:
            self._late = []

    def _lateness(self, method: str, path: str, status: int) -> float:
        if status >= 300:
            return 0.0
        with self._lock:
            for rule_method, prefix, probability, seconds, first in self._late:
                if method != rule_method or not path.startswith(prefix):
                    continue
                if first[0] > 0:
                    first[0] -= 1
                    return seconds
                if self._rng.random() < probability:
                    return seconds
        return 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        entry = Timed(scope["method"], scope["path"], time.monotonic())
        with self._lock:
            self._entries.append(entry)
        held: list[Message] = []

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if self._lateness(entry.method, entry.path, status):
                    entry.late = True
                else:
                    entry.end, entry.status = time.monotonic(), status
            if entry.late:
                held.append(message)
                return
            await send(message)

        await self.app(scope, receive, timed_send)
        if held:
            await asyncio.sleep(self._late_seconds(entry))
            entry.end, entry.status = time.monotonic(), held[0]["status"]
            for message in held:
                await send(message)

    def _late_seconds(self, entry: Timed) -> float:
        with self._lock:
            for rule_method, prefix, _, seconds, _ in self._late:
                if entry.method == rule_method and entry.path.startswith(prefix):
                    return seconds
        return 0.0

    def entries(self) -> list[Timed]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries = []


class FaultSandbox:
    """The sandbox Zendesk (and marketplace directory) on loopback, with its state
    at hand for assertions and a timed request log.

    The account allows 2,500 API requests a minute (Zendesk's largest plan) rather
    than the sandbox's nominal 700: tests that create 100 tickets and push 500
    events would otherwise spend a minute in the service's own (correct) wait for
    the rate window, which is not what they are about. Rate limiting itself is
    tested with injected 429s.
    """

    def __init__(self, requests_per_minute: int = 2500) -> None:
        self.state = SandboxState(requests_per_minute=requests_per_minute)
        self.log = TimedLog(create_sandbox_app(self.state))
        self.server = ThreadedServer(self.log)
        self.url = self.server.url

    def start(self) -> FaultSandbox:
        self.server.start()
        self.state.base_url = self.url
        return self

    def stop(self) -> None:
        self.state.faults.clear()  # releases requests held by timeout rules
        self.server.stop()

    # -- faults ------------------------------------------------------------------

    def inject(self, *rules: dict[str, Any], seed: int | None = None) -> None:
        from app.sandbox.faults import FaultRule

        self.state.faults.add([FaultRule(**rule) for rule in rules], seed)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    # -- what Zendesk holds ------------------------------------------------------

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """The stored ticket with comments and audits (`GET /_sandbox/tickets/{id}`)."""
        return self.state.ticket(ticket_id)

    def notes(self, ticket_id: int) -> list[dict[str, Any]]:
        """Internal notes on the ticket (the service's notes; agents here write none)."""
        return [c for c in self.ticket(ticket_id)["comments"] if not c["public"]]

    def marker_writes(self, ticket_id: int) -> int:
        """Audits that put a decision marker on the ticket: applied decisions."""
        count = 0
        for audit in self.ticket(ticket_id)["audits"]:
            for event in audit["events"]:
                if event.get("type") == "Change" and event.get("field_name") == "tags":
                    added = set(event["value"] or []) - set(event.get("previous_value") or [])
                    if any(tag.startswith(MARKER_PREFIX) for tag in added):
                        count += 1
        return count

    def requests(self, method: str | None = None, prefix: str = "/api/v2/") -> list[Timed]:
        return [
            r
            for r in self.log.entries()
            if r.path.startswith(prefix) and (method is None or r.method == method)
        ]


def service_settings(sandbox_url: str, database_url: str, **overrides: Any) -> Settings:
    """The e2e settings, on any database URL (SQLite with options, PostgreSQL)."""
    return demo_settings(sandbox_url, database_url, secret=SECRET, admin=ADMIN, **overrides)


@contextlib.contextmanager
def serving(settings: Settings, *, run_worker: bool = True) -> Iterator[httpx.Client]:
    """The service in-process on loopback; yields an admin client for it."""
    with (
        ThreadedServer(create_app(settings, run_worker=run_worker)) as server,
        admin_client(server.url) as client,
    ):
        yield client


def new_ticket(zd: httpx.Client, contract_id: str = "C-42", days: int = 10) -> dict[str, Any]:
    """An eligible hourly dispute (routed to Mediation_Tier_1_CX420 with a note)."""
    return create_case(zd, hourly_case(datetime.now(UTC).date(), contract_id, days))


def trigger(ticket: dict[str, Any], updated_at: str | None = None, **extra: Any) -> dict[str, Any]:
    """The README's trigger body for one ticket state."""
    stamp = updated_at if updated_at is not None else ticket["updated_at"]
    return {"ticket_id": str(ticket["id"]), "updated_at": stamp, **extra}


# --------------------------------------------------------------------------- event store


def all_events(api: httpx.Client) -> list[dict[str, Any]]:
    """Every event in the inbox, via the admin API (pages of 500)."""
    found: list[dict[str, Any]] = []
    before: int | None = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 500}
        if before is not None:
            params["before_id"] = before
        page = api.get("/admin/events", params=params).json()
        found += page["events"]
        before = page["next_before_id"]
        if before is None:
            break
    return found


def event_of(api: httpx.Client, event_id: int) -> dict[str, Any]:
    """One event as the admin API lists it."""
    return next(e for e in all_events(api) if e["id"] == event_id)


def settle(api: httpx.Client, ids: set[int] | list[int], timeout: float) -> dict[int, Any]:
    """Wait until every one of `ids` is done or dead; then assert all are done
    (a dead letter fails at once, with its reason, instead of timing out)."""
    wanted = set(ids)
    found: dict[int, Any] = {}

    def settled() -> bool:
        nonlocal found
        found = {e["id"]: e for e in all_events(api) if e["id"] in wanted}
        return len(found) == len(wanted) and all(e["status"] in FINAL for e in found.values())

    wait_for(settled, timeout=timeout, what=f"{len(wanted)} events done or dead")
    dead = {i: e["last_error"] for i, e in found.items() if e["status"] != "done"}
    assert dead == {}, "every event done, none given up on"
    return found


def sqlite_events(db: Path) -> dict[int, dict[str, Any]]:
    """Every event in a SQLite store, read directly (no service needed), by id."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT id, dedupe_key, ticket_id, status, attempts, last_error FROM events"
        ).fetchall()
    finally:
        conn.close()
    return {int(row["id"]): dict(row) for row in rows}


# --------------------------------------------------------------------------- subprocess


class ServiceProcess:
    """`python -m app serve` as a child process on a fixed loopback port.

    Settings come from environment variables as in production. Its stderr (JSON
    logs) is drained through a pipe into `log_path` by this process, so limits
    set on the child (file size) never hit its logging, and a failure can show
    what the service said.
    """

    def __init__(
        self,
        sandbox_url: str,
        database_url: str,
        log_path: Path,
        *args: str,
        port: int | None = None,
        forkserver: ForkServer | None = None,
        **settings: Any,
    ) -> None:
        self.forkserver = forkserver
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.args = args
        self.service_env = {
            "ZENDESK_BASE_URL": sandbox_url,
            "ZENDESK_EMAIL": "triage@example.com",
            "ZENDESK_API_TOKEN": "demo-token",
            "WEBHOOK_SECRETS": SECRET,
            "ADMIN_TOKENS": ADMIN,
            "DATABASE_URL": database_url,
            "MARKETPLACE_URL": f"{sandbox_url}/marketplace",
            "POLL_INTERVAL_SECONDS": "0.1",
        }
        self.service_env |= {key.upper(): str(value) for key, value in settings.items()}
        self.proc: subprocess.Popen[bytes] | ForkedChild | None = None
        self._drain: threading.Thread | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> ServiceProcess:
        args = ["serve", "--port", str(self.port), *self.args]
        if self.forkserver is not None:
            self.proc = self.forkserver.spawn(args, self.service_env, self.log_path)
            return self
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            env=os.environ | self.service_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._drain = threading.Thread(target=self._copy_log, args=(self.proc,), daemon=True)
        self._drain.start()
        return self

    def _copy_log(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        try:
            with self.log_path.open("ab") as log:
                # read1: what is there now, so the log is current while the process runs
                while chunk := cast(io.BufferedReader, proc.stderr).read1(65536):
                    log.write(chunk)
        except (OSError, ValueError):
            pass
        finally:
            proc.stderr.close()

    def wait_healthy(self, timeout: float = 30.0) -> None:
        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited with {self.proc.returncode}: {self.tail()}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=timeout, what="service process healthy")

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        self._join_drain()
        return code

    def kill(self) -> None:
        """SIGKILL (no clean-up in the service) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._join_drain()

    def _join_drain(self) -> None:
        if self._drain is not None:
            self._drain.join(timeout=5)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    def admin(self) -> httpx.Client:
        return admin_client(self.url)


class ForkedChild:
    """A service process forked by the `ForkServer`: what the tests need of a Popen."""

    def __init__(self, pid: int, parent: int) -> None:
        self.pid = pid
        self.parent = parent
        self.returncode: int | None = None

    def _alive(self) -> bool:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return False
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, ...
        return fields[0] != "Z" and int(fields[1]) == self.parent  # not a reused pid

    def poll(self) -> int | None:
        if self.returncode is None and not self._alive():
            self.returncode = -1  # reaped by the kernel: the code is not known
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode


class ForkServer:
    """`forkserver.py` as a child: forks service processes with the app already
    imported (a service start in a fraction of a second instead of seconds)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("forkserver.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def spawn(self, args: list[str], env: dict[str, str], log: Path) -> ForkedChild:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = {"args": args, "env": env, "log": str(log)}
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the fork server exited with {self.proc.wait(timeout=5)}")
        return ForkedChild(int(json.loads(answer)["pid"]), self.proc.pid)

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def running(service: ServiceProcess) -> Iterator[ServiceProcess]:
    """Start the process; whatever happens, it does not outlive the block."""
    service.start()
    try:
        yield service
    finally:
        service.kill()


class Deliverer:
    """Zendesk's webhook deliveries to a service that may be down: each payload is
    sent until it is answered 200 (a refused connection or a 5xx is retried, as
    Zendesk does), by `threads` senders; `duplicates` of the share of deliveries
    repeat a payload already acknowledged.
    """

    def __init__(
        self, url: str, *, threads: int = 1, duplicates: float = 0.0, seed: int = 0
    ) -> None:
        self.url = url
        self.duplicates = duplicates
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._queue: list[dict[str, Any]] = []
        self._in_hand = 0
        self.acked: dict[int, dict[str, Any]] = {}  # event id -> payload
        self.refused = 0  # deliveries not acknowledged (retried)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, daemon=True, name=f"deliverer-{i}")
            for i in range(threads)
        ]
        self.errors: list[BaseException] = []

    def __enter__(self) -> Deliverer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def put(self, *payloads: dict[str, Any]) -> None:
        with self._lock:
            self._queue.extend(payloads)

    def idle(self) -> bool:
        with self._lock:
            return not self._queue and not self._in_hand

    def _take(self) -> dict[str, Any] | None:
        with self._lock:
            if self.acked and self._rng.random() < self.duplicates:
                self._in_hand += 1
                return self._rng.choice(list(self.acked.values()))
            if not self._queue:
                return None
            self._in_hand += 1
            return self._queue.pop(0)

    def _settle(self, payload: dict[str, Any], event_id: int | None) -> None:
        with self._lock:
            self._in_hand -= 1
            if event_id is None:
                self.refused += 1
                self._queue.append(payload)
            else:
                self.acked[event_id] = payload

    def _run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=5) as client:
                while not self._stop.is_set():
                    payload = self._take()
                    if payload is None:
                        time.sleep(0.02)
                        continue
                    event_id = None
                    try:
                        answer = send(client, payload)
                        if answer.status_code == 200:
                            event_id = int(answer.json()["event_id"])
                    except httpx.HTTPError:
                        pass
                    self._settle(payload, event_id)
                    if event_id is None:
                        time.sleep(0.1)
        except BaseException as exc:  # the test reports it
            self.errors.append(exc)


# --------------------------------------------------------------------------- TCP proxy


class TcpProxy:
    """A loopback TCP proxy in front of a server (PostgreSQL), for network faults.

    `cut()` drops every open connection and refuses new ones (accepted, then
    closed at once) until `restore()`. `upstream_ports()` are the local ports of
    the proxy's connections to the server: `pg_stat_activity.client_port`.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._cut = False
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> TcpProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self._acceptor.join(timeout=5)
        self._listener.close()
        self._close_pairs()
        for thread in self._threads:
            thread.join(timeout=5)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
        self._close_pairs()

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def upstream_ports(self) -> list[int]:
        ports = []
        with self._lock:
            for _, upstream in self._pairs:
                with contextlib.suppress(OSError):
                    ports.append(upstream.getsockname()[1])
        return ports

    def _close_pairs(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(src, dst), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- PostgreSQL

POSTGRES_URL = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pg_run(coro_fn: Any, *args: Any) -> Any:
    """Run `await coro_fn(conn, *args)` on a fresh asyncpg connection to POSTGRES_URL."""
    import asyncpg

    async def main() -> Any:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            return await coro_fn(conn, *args)
        finally:
            await conn.close(timeout=5)

    return asyncio.run(main())


def pg_url(schema: str, host: str = "127.0.0.1", port: int | None = None) -> str:
    """The service's DATABASE_URL for `schema`, optionally through another host/port."""
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    url = url.set(host=host, port=port or url.port or 5432, query={"schema": schema})
    return url.render_as_string(hide_password=False)
