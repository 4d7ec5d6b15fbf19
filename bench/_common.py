"""Shared helpers of the benchmark scripts (`bench/ack.py`, `economy.py`, `latency.py`,
`memory.py`): the machine, signing, a raw HTTP/1.1 load generator (open and closed
loop), child processes and their /proc figures, the sandbox seeded from Python, and
the classification of the sandbox's request log.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import parse_qs

import httpx

from app.cli.demo_cases import DemoCase
from app.core.serving import ThreadedServer, free_port
from app.sandbox import SandboxState, create_sandbox_app
from app.store import NewEvent, open_store
from app.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
SECRET = "bench-secret"
ADMIN = "bench-admin"
ZENDESK_EMAIL = "triage@example.com"
ZENDESK_TOKEN = "demo-token"
ZENDESK_AUTH = (f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN)
WEBHOOK_PATH = "/webhooks/zendesk"
UNLIMITED = 1_000_000_000  # a sandbox rate limit so high the client never slows down

T = TypeVar("T")


# -- the machine ----------------------------------------------------------------


def machine() -> dict[str, str]:
    """nproc, RAM, CPU model, Python, kernel and the date, for the figures' footnote."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_kib = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "ram": f"{ram_kib / 1024 / 1024:.1f} GiB",
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def print_header(title: str) -> None:
    m = machine()
    print(title)
    print(
        f"machine: nproc {m['nproc']}, RAM {m['ram']}, CPU {m['cpu']}, "
        f"Python {m['python']}, Linux {m['kernel']}, {m['date']}"
    )
    print(f"load average at start: {m['load']} (other processes share these cores)")
    print()


# -- statistics -------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latency:
    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        if not seconds:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return cls(
            len(seconds),
            percentile(seconds, 50),
            percentile(seconds, 90),
            percentile(seconds, 99),
            max(seconds),
            sum(seconds) / len(seconds),
        )

    def ms(self) -> str:
        return (
            f"p50 {self.p50 * 1e3:.1f} ms, p90 {self.p90 * 1e3:.1f} ms, "
            f"p99 {self.p99 * 1e3:.1f} ms, max {self.max * 1e3:.1f} ms"
        )


# -- Zendesk-signed webhooks ---------------------------------------------------------


def stamp_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed(
    payload: Mapping[str, Any], *, secret: str = SECRET, stamp: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """Body and headers exactly as Zendesk sends them (see `app.cli.demo.signed_post`)."""
    body = json.dumps(payload).encode()
    stamp = stamp or stamp_now()
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(secret, stamp, body),
        TIMESTAMP_HEADER: stamp,
        "x-zendesk-webhook-id": "01BENCHWEBHOOK",
        "x-zendesk-webhook-invocation-id": str(time.time_ns()),
    }
    return body, headers


def raw_request(
    method: str, path: str, body: bytes, headers: Mapping[str, str], port: int
) -> bytes:
    """One HTTP/1.1 keep-alive request, ready to write to a socket."""
    lines = [f"{method} {path} HTTP/1.1", f"host: {HOST}:{port}", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def presigned_webhooks(
    payloads: Iterable[Mapping[str, Any]], port: int, *, secret: str = SECRET
) -> list[bytes]:
    """Raw signed webhook requests, signed now (the service accepts them for 5 minutes)."""
    stamp = stamp_now()
    out = []
    for payload in payloads:
        body, headers = signed(payload, secret=secret, stamp=stamp)
        out.append(raw_request("POST", WEBHOOK_PATH, body, headers, port))
    return out


def unique_payloads(
    count: int, *, first_ticket: int = 1, tag: str = ""
) -> Iterator[dict[str, str]]:
    """Trigger bodies no two alike (ticket id + updated_at is the dedupe key)."""
    base = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for i in range(count):
        yield {
            "ticket_id": str(first_ticket + i),
            "updated_at": f"{base}.{i:06d}Z{tag}",
            "status": "new",
            "tags": "dispute web",
        }


# -- a raw HTTP/1.1 load generator ------------------------------------------------------


class HttpConnection:
    """One keep-alive connection; `request(raw)` -> status. Only what uvicorn answers:
    `content-length` bodies or `transfer-encoding: chunked`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


@dataclass
class LoadResult:
    mode: str
    offered_rps: float | None  # None: closed loop
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0  # connection errors
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds
    client_cpu: float = 0.0  # seconds of this process's CPU during the run
    acked: int = 0  # every 200, warm-up and after-the-end included (what must be stored)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def latency(self) -> Latency:
        return Latency.of(self.latencies)

    def errors(self) -> str:
        bad = {s: n for s, n in self.statuses.items() if s != 200}
        if self.failures:
            bad[0] = self.failures
        return ", ".join(f"{n}x{s or 'conn-error'}" for s, n in sorted(bad.items())) or "none"


async def open_loop(
    port: int,
    requests: Sequence[bytes],
    rate: float,
    *,
    warmup: int = 0,
    connections: int = 64,
    max_connections: int = 1024,
) -> LoadResult:
    """Send `requests` on a fixed schedule (request i at start + i/rate), whatever the
    answers do (open loop, like wrk2): latency counts from the scheduled moment, so a
    stalled server is not flattered by coordinated omission. The first `warmup`
    requests are sent on the same schedule but not measured."""
    result = LoadResult("open", rate)
    idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await HttpConnection.open(port))
    opened = connections
    tasks: set[asyncio.Task[None]] = set()
    done_at = [0.0]

    async def one(index: int, raw: bytes, scheduled: float) -> None:
        nonlocal opened
        conn: HttpConnection | None = None
        try:
            if not idle.empty():
                conn = idle.get_nowait()
            elif opened < max_connections:  # all busy: a new one, as wrk2 would not wait
                opened += 1
                conn = await HttpConnection.open(port)
            else:
                conn = await idle.get()
            status = await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            if index >= warmup:
                result.failures += 1
            if conn is not None:
                conn.close()
            opened -= 1
            return
        now = time.perf_counter()
        idle.put_nowait(conn)
        result.acked += status == 200
        if index >= warmup:
            result.statuses[status] += 1
            result.latencies.append(now - scheduled)
            done_at[0] = max(done_at[0], now)

    cpu0 = time.process_time()
    start = time.perf_counter() + 0.05
    measured_from = start + warmup / rate
    for i, raw in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, raw, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    result.client_cpu = time.process_time() - cpu0
    result.sent = len(requests) - warmup
    end_of_schedule = start + len(requests) / rate
    result.elapsed = max(done_at[0], end_of_schedule) - measured_from
    while not idle.empty():
        idle.get_nowait().close()
    return result


async def closed_loop(
    port: int, requests: Iterator[bytes], *, connections: int, duration: float, warmup: float = 1.0
) -> LoadResult:
    """`connections` clients, each sending its next request as soon as the previous one
    is answered, for `warmup + duration` seconds; only the last `duration` is measured."""
    result = LoadResult("closed", None)
    conns = [await HttpConnection.open(port) for _ in range(connections)]
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    cpu_mark: list[float] = []
    last_done = [stop_at]

    async def client(conn: HttpConnection) -> None:
        for raw in requests:
            sent = time.perf_counter()
            if sent >= stop_at:
                return
            try:
                status = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.failures += 1
                return
            now = time.perf_counter()
            last_done[0] = now
            result.acked += status == 200
            if sent >= measure_from and now <= stop_at:
                if not cpu_mark:
                    cpu_mark.append(time.process_time())
                result.sent += 1
                result.statuses[status] += 1
                result.latencies.append(now - sent)

    await asyncio.gather(*(client(c) for c in conns))
    # Fewer requests than the clients could send end the run early: measure to there.
    result.elapsed = min(duration, max(last_done[0] - measure_from, 1e-9))
    result.client_cpu = time.process_time() - (cpu_mark[0] if cpu_mark else time.process_time())
    for conn in conns:
        conn.close()
    return result


def run_async(coro: Awaitable[T]) -> T:
    """Run on uvloop when it is installed (it is, with uvicorn[standard])."""

    async def main() -> T:
        return await coro

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())


# -- child processes ------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, … of a process, in KiB (from /proc/<pid>/status)."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                values[key] = int(parts[0])
    return values


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_children(pid: int) -> list[int]:
    """Live child processes of `pid` (e.g. the service's SQLite writer)."""
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            found.extend(int(child) for child in children.read().split())
    return found


def tree_cpu_seconds(pid: int) -> float:
    """`proc_cpu_seconds` of a process and its live children: the service's CPU
    includes its SQLite writer process."""
    total = proc_cpu_seconds(pid)
    for child in proc_children(pid):
        try:
            total += proc_cpu_seconds(child)
        except FileNotFoundError:  # exited meanwhile
            pass
    return total


def service_env(sandbox_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """Environment of `python -m app serve|worker` against the sandbox (README settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "WEBHOOK_"))}
    env.update(
        {
            "ZENDESK_BASE_URL": sandbox_url,
            "ZENDESK_EMAIL": ZENDESK_EMAIL,
            "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
            "WEBHOOK_SECRETS": SECRET,
            "ADMIN_TOKENS": ADMIN,
            "MARKETPLACE_URL": f"{sandbox_url}/marketplace",
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({k.upper(): v for k, v in extra.items()})
    return env


class Child:
    """A child process (its output to a log file), stopped with SIGINT, then SIGKILL."""

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], log: Path) -> None:
        self.args = list(args)
        self.log_path = log
        self._log: IO[bytes] = open(log, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            self.args, env=dict(env), cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        """Until `url` answers 200 (the process is up and past its start-up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.args} exited: {self.tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{url} did not answer in {timeout} s: {self.tail()}")

    def tail(self, lines: int = 15) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_command(port: int, *, worker: bool) -> list[str]:
    args = [PYTHON, "-m", "app", "serve", "--host", HOST, "--port", str(port)]
    return args if worker else [*args, "--no-worker"]


# -- the sandbox, seeded from Python ----------------------------------------------------


class StateSeeder:
    """`SandboxSeeder` without HTTP: directory entries and tickets straight into the state."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        fields = state.directory.records("ticket_fields")
        self.fields = {f["title"]: f for f in fields}

    def _value(self, title: str, value: Any) -> Any:
        options = {
            o["name"]: o["value"] for o in self.fields[title].get("custom_field_options") or []
        }
        if isinstance(value, list):
            return [options.get(v, v) for v in value]
        return options.get(value, value)

    def directory(self, case: DemoCase) -> None:
        if case.contract:
            self.state.marketplace.add_contract(case.contract)
        for user in case.users:
            self.state.marketplace.add_user(user)

    def create(self, case: DemoCase, *, directory: bool = True) -> dict[str, Any]:
        if directory:
            self.directory(case)
        custom = [
            {"id": self.fields[t]["id"], "value": self._value(t, v)} for t, v in case.fields.items()
        ]
        return self.state.create_ticket(
            {
                "subject": case.subject,
                "comment": {"body": f"{case.subject} ({case.label})", "public": True},
                "via": {"channel": "voice" if case.channel == "phone" else case.channel},
                "custom_fields": custom,
                "tags": ["demo"],
            }
        )


_TICKET_PATH = re.compile(r"^/api/v2/tickets/(\d+)")


@dataclass(frozen=True)
class Timed:
    start: float  # time.monotonic() when the request arrived
    end: float
    method: str
    path: str
    status: int
    ids: tuple[int, ...] = ()  # the tickets it is about (path, `show_many` ids, bulk body)
    tickets: int = 0  # tickets a ticket write carries (1 for a PUT, n for update_many)


class TimedApp:
    """ASGI wrapper recording when each request to the sandbox arrived and ended, which
    tickets it was about, and how many tickets each ticket write carried."""

    def __init__(self, app: Callable[..., Awaitable[None]] | None = None) -> None:
        self.app: Any = app
        self.log: list[Timed] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        start = time.monotonic()
        status = 500
        method, path = scope["method"], scope["path"].removesuffix(".json")
        bulk = method == "PUT" and path.endswith("/tickets/update_many")
        body: list[bytes] = []

        async def recording(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def reading() -> Any:
            message = await receive()
            if bulk and message["type"] == "http.request":
                body.append(message.get("body", b""))
            return message

        try:
            await self.app(scope, reading, recording)
        finally:
            ids: tuple[int, ...] = ()
            tickets = 0
            if bulk:
                try:
                    items = json.loads(b"".join(body)).get("tickets") or []
                    ids = tuple(int(t["id"]) for t in items)
                except (ValueError, AttributeError, KeyError, TypeError):
                    ids = ()
                tickets = len(ids)
            elif match := _TICKET_PATH.match(path):
                ids = (int(match.group(1)),)
                tickets = 1 if method == "PUT" and call_kind(method, path) == "PUT ticket" else 0
            elif path.endswith("/tickets/show_many"):
                query = parse_qs(scope.get("query_string", b"").decode())
                ids = tuple(int(i) for i in ",".join(query.get("ids", [])).split(",") if i)
            self.log.append(
                Timed(start, time.monotonic(), method, scope["path"], status, ids, tickets)
            )


def sandbox_server(state: SandboxState, *, timed: TimedApp | None = None) -> ThreadedServer:
    """The sandbox on a free loopback port, in a thread of this process (not started)."""
    port = free_port()
    state.base_url = f"http://{HOST}:{port}"
    app: Any = create_sandbox_app(state)
    if timed is not None:
        timed.app = app
        app = timed
    return ThreadedServer(app, port=port)


# -- what the service asked Zendesk -------------------------------------------------------


def call_kind(method: str, path: str) -> str:
    """`GET ticket`, `GET macro apply`, `PUT update_many`, `GET marketplace`, …"""
    path = path.removesuffix(".json")
    if not path.startswith("/api/v2/"):
        return f"{method} marketplace" if path.startswith("/marketplace") else f"{method} {path}"
    parts = path.split("/")[3:]
    if parts[0] == "tickets" and len(parts) >= 2:
        if parts[1] in ("show_many", "update_many"):
            return f"{method} {parts[1]}"
        if len(parts) >= 5 and parts[2] == "macros" and parts[4] == "apply":
            return f"{method} macro apply"
        if len(parts) == 2:
            return f"{method} ticket"
        return f"{method} ticket {parts[2]}"
    return f"{method} {parts[0]}"


def is_zendesk(path: str) -> bool:
    return path.startswith("/api/v2/")


def is_write(method: str, path: str) -> bool:
    """A Zendesk call that changes something (GETs, including macro apply, only read)."""
    return is_zendesk(path) and method.upper() not in ("GET", "HEAD")


# -- the store ------------------------------------------------------------------------------


async def insert_backlog(database_url: str, tickets: Sequence[dict[str, Any]]) -> None:
    """A backlog of webhook events straight into the service's store (as the webhook
    would have stored them: trigger events, live priority, one per ticket state)."""
    store = await open_store(database_url)
    now = datetime.now(UTC)

    async def accept(ticket: dict[str, Any]) -> None:
        payload = {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}
        await store.accept(
            NewEvent(
                dedupe_key=f"trg:{ticket['id']}:{ticket['updated_at']}",
                source="trigger",
                event_type="trigger",
                ticket_id=int(ticket["id"]),
                payload=payload,
                received_at=now,
            )
        )

    try:
        for first in range(0, len(tickets), 64):  # 64 at a time, as concurrent webhooks
            await asyncio.gather(*(accept(t) for t in tickets[first : first + 64]))
    finally:
        await store.close()


def today() -> date:
    return datetime.now(UTC).date()
