"""Helpers shared by the scale tests (a module, not a conftest, so tests import it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from app.cli.demo import SandboxSeeder
from app.cli.demo_cases import hourly_case
from app.core.serving import ThreadedServer
from app.sandbox import SandboxState, create_sandbox_app
from app.sandbox.auth import basic_credentials
from app.store import EventStatus, Priority, create_store
from app.store.tables import events

POSTGRES_URL = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def connect_or_skip() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        where = make_url(POSTGRES_URL)
        pytest.skip(f"PostgreSQL not reachable at {where.host}:{where.port or 5432}: {exc!r}")


@asynccontextmanager
async def fresh_schema(prefix: str) -> AsyncIterator[str]:
    """A database URL whose tables live in a new schema, dropped on exit."""
    admin = await connect_or_skip()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await admin.close()


# -- the sandbox, seen from outside: who called what, when ---------------------------

_TICKET_PATH = re.compile(r"^/api/v2/tickets/(\d+)(?:\.json)?(?:/|$)")
_BULK_PATH = re.compile(r"^/api/v2/tickets/(show_many|update_many)(?:\.json)?$")


@dataclass(frozen=True, slots=True)
class Call:
    """One Zendesk API request as the sandbox served it (wall-clock seconds)."""

    caller: str | None  # the Basic-auth user: each worker process has its own
    method: str
    path: str
    tickets: tuple[int, ...]  # the tickets it reads or writes
    start: float
    end: float
    status: int


def _ids(raw: str | None) -> list[int]:
    return [int(part) for part in (raw or "").split(",") if part.strip().isdigit()]


def tickets_of(method: str, path: str, query: str, body: bytes) -> tuple[int, ...]:
    if match := _TICKET_PATH.match(path):
        return (int(match.group(1)),)
    if not _BULK_PATH.match(path):
        return ()
    ids = _ids(parse_qs(query).get("ids", [""])[0])
    if not ids and method == "PUT" and body:
        items = json.loads(body).get("tickets") or []
        ids = [int(item["id"]) for item in items if isinstance(item, dict) and "id" in item]
    return tuple(ids)


class RecordingApp:
    """ASGI wrapper around the sandbox: times every /api/v2 request from arrival
    to the end of its answer, with the caller and the tickets it touches."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[Call] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v2/"):
            await self.app(scope, receive, send)
            return
        start = time.time()
        body = bytearray()
        status = 0

        async def receiving() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            headers = dict(scope.get("headers") or [])
            credentials = basic_credentials(headers.get(b"authorization", b"").decode())
            method, path = scope["method"], scope["path"]
            query = scope.get("query_string", b"").decode()
            self.calls.append(
                Call(
                    caller=credentials[0].split("/")[0] if credentials else None,
                    method=method,
                    path=path,
                    tickets=tickets_of(method, path, query, bytes(body)),
                    start=start,
                    end=time.time(),
                    status=status,
                )
            )


@contextmanager
def recorded_sandbox(state: SandboxState) -> Iterator[tuple[ThreadedServer, RecordingApp]]:
    recorder = RecordingApp(create_sandbox_app(state))
    server = ThreadedServer(recorder)
    state.base_url = server.url  # job and page links point back at it
    with server:
        yield server, recorder


SEED_AUTH = ("seed@example.com/token", "seed-token")


def seed_tickets(zd: httpx.Client, count: int) -> list[int]:
    """`count` hourly dispute tickets, each on its own contract, paid 1 to 60 days
    ago (eligible for mediation or not, so the decisions differ)."""
    today = datetime.now(UTC).date()
    seeder = SandboxSeeder(zd)
    return [
        int(seeder.create(hourly_case(today, f"C-S{i}", days_since_payment=1 + i % 60))["id"])
        for i in range(count)
    ]


async def insert_events(url: str, tickets: list[int], per_ticket: int) -> list[int]:
    """Event `n` of every ticket, interleaved (ticket 1, 2, …, then again), pending.

    One multi-row INSERT of exactly the row `EventStore.accept` writes: through
    `accept` (one transaction each, ~2-5 ms of CPU) 5,000 events alone would
    take 10-25 s of a two-CPU machine.
    """
    store = create_store(url)
    await store.open()  # migrations to head
    now = datetime.now(UTC)
    rows = [
        {
            "dedupe_key": f"scale:{ticket}:{n}",
            "source": "trigger",
            "event_type": "trigger",
            "ticket_id": ticket,
            "payload": {"ticket_id": str(ticket)},
            "status": EventStatus.PENDING.value,
            "priority": int(Priority.LIVE),
            "attempts": 0,
            "received_at": now,
            "available_at": now,
            "updated_at": now,
        }
        for n in range(per_ticket)
        for ticket in tickets
    ]
    try:
        async with store.engine.begin() as conn:
            await conn.execute(insert(events), rows)
            result = await conn.execute(select(events.c.id).order_by(events.c.id))
            return [int(i) for i in result.scalars()]
    finally:
        await store.close()


def worker_env(sandbox_url: str, database_url: str, caller: str, **extra: str) -> dict[str, str]:
    return os.environ | {
        "ZENDESK_BASE_URL": sandbox_url,
        "ZENDESK_EMAIL": caller,
        "ZENDESK_API_TOKEN": "scale-token",
        "WEBHOOK_SECRETS": "scale-secret",
        "DATABASE_URL": database_url,
        "MARKETPLACE_URL": f"{sandbox_url}/marketplace",
        "LOG_LEVEL": "WARNING",
        # the shared budget, once wired: never the bottleneck here
        "ZENDESK_RATE_LIMIT_PER_MINUTE": "1000000",
        **extra,
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


# -- lease windows: who held which event when, on the database's clock ---------------

LEASE_LOG_DDL = (
    """
    CREATE TABLE lease_log (
        id bigserial PRIMARY KEY,
        event_id bigint NOT NULL,
        ticket_id bigint,
        status text NOT NULL,
        owner text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    """
    CREATE FUNCTION lease_log_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO lease_log (event_id, ticket_id, status, owner)
        VALUES (NEW.id, NEW.ticket_id, NEW.status, NEW.lease_owner);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER lease_log AFTER UPDATE ON events FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.lease_owner IS DISTINCT FROM NEW.lease_owner)
    EXECUTE FUNCTION lease_log_row()
    """,
)


@dataclass(frozen=True, slots=True)
class Lease:
    """An event held by one worker: from the claim to the next change of the
    event's status or owner (completion, failure, release, or a re-claim by
    another worker after the lease ran out)."""

    event_id: int
    ticket_id: int
    owner: str
    start: float
    end: float  # inf: still held when the log was read


def lease_windows(log: Sequence[tuple[int, int, str, str | None, float]]) -> list[Lease]:
    """`log`: (event_id, ticket_id, status, owner, epoch seconds) in lease_log order.

    Rows of one event are in the order their updates took the row lock, so a
    window closes at the next row of its event."""
    held: dict[int, tuple[int, str, float]] = {}
    windows: list[Lease] = []
    for event_id, ticket_id, status, owner, at in log:
        if (previous := held.pop(event_id, None)) is not None:
            windows.append(Lease(event_id, previous[0], previous[1], previous[2], at))
        if status == EventStatus.LEASED.value and owner is not None:
            held[event_id] = (ticket_id, owner, at)
    windows.extend(
        Lease(event_id, ticket, owner, start, float("inf"))
        for event_id, (ticket, owner, start) in held.items()
    )
    return windows


def overlapping(windows: list[Lease]) -> list[tuple[Lease, Lease]]:
    """Pairs of windows of one ticket that overlap in time."""
    by_ticket: dict[int, list[Lease]] = {}
    for window in windows:
        by_ticket.setdefault(window.ticket_id, []).append(window)
    clashes = []
    for held in by_ticket.values():
        held.sort(key=lambda w: w.start)
        latest = held[0]
        for window in held[1:]:
            if window.start < latest.end:
                clashes.append((latest, window))
            if window.end > latest.end:
                latest = window
    return clashes


def pid_of(owner: str) -> int:
    """Worker owners are `host:pid:random` (`app.worker.runner.default_owner`)."""
    return int(owner.split(":")[-2])
