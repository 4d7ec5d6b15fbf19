"""`ReplayJob` against a real SQLite store and a scripted export: stop anywhere, resume,
and the counts still add up (no ticket counted twice as seen, none lost)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from app.replays.jobs import ReplayJob, ReplayProgress, ReplayStatus, load
from app.runtime.container import Services
from app.store import EventStore, NewEvent, StoreUnavailable, open_store
from app.zendesk import ExportPage

NOW = datetime(2024, 6, 12, 12, tzinfo=UTC)
PAGES = {None: ([1, 2], "c1"), "c1": ([3, 4], "c2")}


class ScriptedExport:
    """Two pages of two tickets each; records the cursor each read started from."""

    def __init__(self) -> None:
        self.started_from: list[str | None] = []

    async def incremental_tickets(
        self, *, start_time: int | None = None, cursor: str | None = None, priority: Any = None
    ) -> AsyncIterator[ExportPage]:
        self.started_from.append(cursor)
        while True:
            ids, after = PAGES[cursor]
            stamp = (NOW - timedelta(minutes=5)).isoformat()
            tickets = [{"id": i, "status": "open", "updated_at": stamp} for i in ids]
            yield ExportPage(tickets, after, end_of_stream=after == "c2")
            if after == "c2":
                return
            cursor = after


class FlakyStore:
    """The real store, except `accept` fails once for one ticket."""

    def __init__(self, store: EventStore, fail_on: int) -> None:
        self._store = store
        self.fail_on: int | None = fail_on

    async def accept(self, event: NewEvent) -> Any:
        if event.ticket_id == self.fail_on:
            self.fail_on = None
            raise StoreUnavailable("database is locked")
        return await self._store.accept(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def progress() -> ReplayProgress:
    return ReplayProgress(
        id="r1",
        status=ReplayStatus.RUNNING,
        mode="time_range",
        source="export",  # the scripted export stands for an admin's
        start=NOW - timedelta(hours=1),
        end=NOW,
        requested_by="tok_test",
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        # Fails on the first ticket of page 2: page 1 saved, nothing of page 2 queued.
        (3, {"seen": 4, "queued": 4, "duplicates": 0}),
        # Fails on the second ticket of page 2, after ticket 3 was queued: on resume
        # page 2 is read again and ticket 3 is a duplicate, seen once.
        (4, {"seen": 4, "queued": 3, "duplicates": 1}),
    ],
)
def test_failed_export_resumes_from_the_saved_page(
    tmp_path: Path, fail_on: int, expected: dict[str, int]
) -> None:
    async def scenario() -> None:
        store = await open_store(f"sqlite:///{tmp_path / 'triage.db'}")
        try:
            export = ScriptedExport()
            flaky = FlakyStore(store, fail_on)
            services = cast(Services, _Services(store=flaky, zendesk=export, clock=lambda: NOW))
            job = ReplayJob(services, progress())
            await job.run()
            failed = await load(services, "r1")
            assert failed is not None and failed.status == ReplayStatus.FAILED
            assert "database is locked" in (failed.error or "")
            assert (failed.pages, failed.seen, failed.cursor) == (1, 2, "c1")

            failed.status = ReplayStatus.RUNNING
            await ReplayJob(services, failed).run()
            done = await load(services, "r1")
            assert done is not None and done.status == ReplayStatus.DONE
            assert export.started_from == [None, "c1"]
            counts = {k: getattr(done, k) for k in expected}
            assert counts == expected
            events = await store.list_events(limit=50)
            assert sorted(e.ticket_id or 0 for e in events) == [1, 2, 3, 4]
        finally:
            await store.close()

    asyncio.run(scenario())


class _Services:
    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)
