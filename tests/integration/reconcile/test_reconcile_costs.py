"""The reconciliation sweep against the sandbox over HTTP and a real SQLite store:
one list call per page of changed tickets, nothing per ticket; decided, queued and
closed tickets are not queued again; the cursor survives a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli.demo import demo_settings
from app.runtime.lifespan import services_lifespan
from app.sandbox import SandboxServer
from app.store import EventStatus, NewEvent, Priority
from app.worker.reconcile import CURSOR_KEY, Reconciler


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture
def sandbox(server: SandboxServer) -> SandboxServer:
    server.state.reset()
    return server


def inquiry(sandbox: SandboxServer) -> dict[str, Any]:
    """A custom field value setting the policy's Inquiry Type (the trigger's condition)."""
    [field] = [
        f for f in sandbox.state.directory.records("ticket_fields") if f["title"] == "Inquiry Type"
    ]
    return {"id": field["id"], "value": field["custom_field_options"][0]["value"]}


def new_ticket(
    sandbox: SandboxServer, n: int, *, triage: bool = True, **extra: Any
) -> dict[str, Any]:
    fields = [inquiry(sandbox)] if triage else []
    return sandbox.state.create_ticket(
        {"subject": f"case {n}", "comment": {"body": "hi"}, "custom_fields": fields, **extra}
    )


def api_calls(sandbox: SandboxServer) -> list[str]:
    return [f"{e['method']} {e['path']}" for e in sandbox.state.request_log()]


def sweep_twice(sandbox: SandboxServer, db: Path, role: str) -> tuple[Any, Any, list[str]]:
    """Two sweeps in two processes' worth of services (the cursor is in the store)."""
    sandbox.state.service_user_role = role
    settings = demo_settings(sandbox.url, f"sqlite:///{db}", reconcile_interval_seconds=3600)

    async def go() -> tuple[Any, Any, list[str]]:
        async with services_lifespan(settings) as services:
            sandbox.state.requests.clear()
            first = await Reconciler(services, interval=3600).sweep()
            calls = api_calls(sandbox)
            events = await services.store.list_events(limit=1000)
            assert await services.store.get_kv(CURSOR_KEY) is not None
        async with services_lifespan(settings) as services:
            second = await Reconciler(services, interval=3600).sweep()
            again = await services.store.list_events(limit=1000)
            assert len(again) == len(events)  # nothing queued twice
        return first, second, calls

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("role", "list_call", "per_page"),
    [
        ("agent", "GET /api/v2/search", 100),
        ("admin", "GET /api/v2/incremental/tickets/cursor", 1000),
    ],
)
def test_one_list_call_per_page_and_nothing_per_ticket(
    sandbox: SandboxServer, tmp_path: Path, role: str, list_call: str, per_page: int
) -> None:
    tickets = [new_ticket(sandbox, n) for n in range(150)]
    new_ticket(sandbox, 998, status="solved")
    new_ticket(sandbox, 999, triage=False)  # no Inquiry Type: the trigger would not fire
    first, second, calls = sweep_twice(sandbox, tmp_path / "triage.db", role)
    pages = -(-152 // per_page)
    assert (first.pages, first.seen, first.queued, first.skipped) == (pages, 152, 150, 2)
    assert [c for c in calls if c != "GET /api/v2/users/me"] == [list_call] * pages
    assert second.queued == 0  # the same states again: already queued
    assert len(tickets) == 150


def test_decided_and_already_queued_tickets_are_not_queued(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    waiting = new_ticket(sandbox, 1)
    fresh = new_ticket(sandbox, 2)
    settings = demo_settings(sandbox.url, f"sqlite:///{tmp_path / 'triage.db'}")

    async def go() -> list[Any]:
        async with services_lifespan(settings) as services:
            await services.store.accept(
                NewEvent(
                    dedupe_key="trg:live",
                    source="trigger",
                    event_type="trigger",
                    ticket_id=waiting["id"],
                    payload={"ticket_id": waiting["id"]},
                    received_at=services.clock(),
                )
            )
            result = await Reconciler(services, interval=60).sweep()
            assert (result.queued, result.skipped) == (1, 1)
            return await services.store.list_events(status=EventStatus.PENDING, limit=10)

    pending = asyncio.run(go())
    swept = [e for e in pending if e.source == "reconcile"]
    assert [(e.ticket_id, e.priority) for e in swept] == [(fresh["id"], Priority.BACKFILL)]


def test_one_process_of_many_holds_the_sweep_lease(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = demo_settings(sandbox.url, f"sqlite:///{tmp_path / 'triage.db'}")

    async def go() -> list[bool]:
        async with services_lifespan(settings) as services:
            first, second = (Reconciler(services, interval=60) for _ in range(2))
            return [
                await first.take_lease(),
                await second.take_lease(),  # held by the first for two intervals
                await first.take_lease(),  # the holder renews it
            ]

    assert asyncio.run(go()) == [True, False, True]
