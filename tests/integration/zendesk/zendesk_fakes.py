"""Test doubles for the Zendesk client tests: fake time and response builders."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Any

import httpx

from app.zendesk import ZendeskClient

BASE = "https://acme.zendesk.com"
API = BASE + "/api/v2"

# The `make_client` fixture: builds a client on fake time, keyword arguments override.
MakeClient = Callable[..., ZendeskClient]


class FakeTime:
    """A monotonic clock and a sleep that never really waits.

    auto=True: `sleep` records the seconds and moves the clock at once.
    auto=False: sleepers wait until the test calls `advance`.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.auto = True
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.auto:
            self.now += seconds
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + seconds, next(self._seq), future))
        await future

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while self._timers and self._timers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._timers)
            self.now = max(self.now, deadline)
            future.set_result(None)
            await self.settle()
        self.now = target
        await self.settle()

    @property
    def waiting(self) -> int:
        return len(self._timers)


def json_response(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


def ticket(ticket_id: int, **fields: Any) -> dict[str, Any]:
    return {"id": ticket_id, "updated_at": "2025-01-01T00:00:00Z", "tags": [], **fields}
