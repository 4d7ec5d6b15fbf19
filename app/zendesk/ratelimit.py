"""The rate-limit budget: read Zendesk's headers, slow down before the limit,
and let live calls go before replays and backfills.

Headers read (https://developer.zendesk.com/api-reference/introduction/rate-limits/):

- account window: `X-Rate-Limit` / `ratelimit-limit`, `X-Rate-Limit-Remaining` /
  `ratelimit-remaining`, `ratelimit-reset` (seconds until the window resets);
- endpoint windows: `Zendesk-RateLimit-<name>: total=100; remaining=99; resets=41`,
  e.g. `tickets-update` (100 ticket updates/min account-wide), `tickets-index`,
  `inflight-jobs` (30 queued or running jobs).

Policy of the in-process `RateLimiter`: every priority keeps a reserve, a
fraction of the window's limit (LIVE 0, REPLAY 10 %, BACKFILL 30 % by default).
A call waits until the window resets while `remaining <= reserve`, so replay
and backfill stop early and leave the rest of the minute to live traffic; and
when callers of several priorities wait on the same window, the higher
priority goes first. 429s still happen (other clients share the account);
the client then honours `Retry-After`.

`RateBudget` is the seam: a PostgreSQL-backed budget shared by every worker
can replace `RateLimiter` without touching the client.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.zendesk.models import Clock, Sleep

ACCOUNT = "account"
"""The name of the account-wide window; endpoint windows use Zendesk's header suffix."""

_ENDPOINT_PREFIX = "zendesk-ratelimit-"


class Priority(enum.IntEnum):
    """Lower value goes first."""

    LIVE = 0  # a webhook is waiting for this ticket to be routed
    REPLAY = 1  # an operator re-runs stored events
    BACKFILL = 2  # bulk catch-up from the incremental export


class RateBudget(Protocol):
    """Decides when a call may go. Implementations must be safe for concurrent tasks."""

    async def acquire(self, priority: Priority, limits: Sequence[str] = ()) -> float:
        """Wait until a call of `priority` may go; return the seconds waited.

        `limits` names the endpoint windows the call counts against besides the
        account window (e.g. `("tickets-update",)`).
        """
        ...

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the remaining budget from a response's headers."""
        ...

    def penalize(self, seconds: float) -> None:
        """Zendesk answered 429 with Retry-After: no call of any priority before then."""
        ...


DEFAULT_RESERVES: Mapping[Priority, float] = {
    Priority.LIVE: 0.0,
    Priority.REPLAY: 0.1,
    Priority.BACKFILL: 0.3,
}


@dataclass(slots=True)
class Window:
    remaining: int
    limit: int  # the header's limit, else the highest `remaining` seen
    resets_at: float  # clock time


def parse_limit_header(value: str) -> dict[str, float]:
    """`"total=30; remaining=29; resets=60"` -> {"total": 30.0, ...}; junk is skipped."""
    parsed: dict[str, float] = {}
    for part in value.replace(",", ";").split(";"):
        key, sep, raw = part.partition("=")
        if not sep:
            continue
        try:
            number = float(raw.strip())
        except ValueError:
            continue
        if math.isfinite(number):
            parsed[key.strip().lower()] = number
    return parsed


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class RateLimiter:
    """In-process `RateBudget` (one per process; see the module docstring)."""

    def __init__(
        self,
        *,
        reserves: Mapping[Priority, float] = DEFAULT_RESERVES,
        default_reset: float = 60.0,  # when a header gives no reset time
        max_reset: float = 600.0,  # distrust larger resets
        max_step: float = 5.0,  # re-check at least this often while waiting
        tick: float = 0.05,  # how long a lower priority yields to a higher one
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._reserves = {p: reserves.get(p, 0.0) for p in Priority}
        self._default_reset = default_reset
        self._max_reset = max_reset
        self._max_step = max_step
        self._tick = tick
        self._clock = clock
        self._sleep = sleep
        self.windows: dict[str, Window] = {}
        self.waited_seconds = 0.0
        self._waiters: dict[object, tuple[Priority, frozenset[str]]] = {}
        # Kept apart from the windows: a later observe() from calls already in
        # flight must not lift a Retry-After.
        self._penalty_until = 0.0

    def penalize(self, seconds: float) -> None:
        until = self._clock() + min(max(seconds, 0.0), self._max_reset)
        self._penalty_until = max(self._penalty_until, until)

    # -- observe -------------------------------------------------------------

    def observe(self, headers: Mapping[str, str]) -> None:
        now = self._clock()
        lower = {key.lower(): value for key, value in headers.items()}
        remaining = _number(lower.get("ratelimit-remaining") or lower.get("x-rate-limit-remaining"))
        if remaining is not None:
            limit = _number(lower.get("ratelimit-limit") or lower.get("x-rate-limit"))
            self._update(ACCOUNT, remaining, limit, _number(lower.get("ratelimit-reset")), now)
        for key, value in lower.items():
            if not key.startswith(_ENDPOINT_PREFIX):
                continue
            parsed = parse_limit_header(value)
            if "remaining" in parsed:
                self._update(
                    key.removeprefix(_ENDPOINT_PREFIX),
                    parsed["remaining"],
                    parsed.get("total"),
                    parsed.get("resets"),
                    now,
                )

    def _update(
        self, name: str, remaining: float, limit: float | None, reset: float | None, now: float
    ) -> None:
        reset = self._default_reset if reset is None else min(max(reset, 0.0), self._max_reset)
        previous = self._current(name, now)
        seen = max(int(remaining), previous.limit if previous else 0)
        self.windows[name] = Window(
            remaining=int(remaining),
            limit=int(limit) if limit is not None else seen,
            resets_at=now + reset,
        )

    # -- acquire -------------------------------------------------------------

    async def acquire(self, priority: Priority, limits: Sequence[str] = ()) -> float:
        names = (ACCOUNT, *limits)
        token = object()
        waited = 0.0
        try:
            while True:
                now = self._clock()
                blocking = {n: d for n in names if (d := self._delay(n, priority, now)) > 0}
                if now < self._penalty_until:
                    blocking["retry-after"] = self._penalty_until - now
                if not blocking and not self._outranked(priority, names):
                    self._consume(names, now)
                    return waited
                step = min(max(blocking.values(), default=self._tick), self._max_step)
                self._waiters[token] = (priority, frozenset(blocking or names))
                await self._sleep(step)
                waited += step
                self.waited_seconds += step
        finally:
            self._waiters.pop(token, None)

    def _current(self, name: str, now: float) -> Window | None:
        window = self.windows.get(name)
        if window is None or now >= window.resets_at:
            return None  # unknown, or a fresh window
        return window

    def reserve(self, priority: Priority, window: Window) -> int:
        return math.ceil(self._reserves[priority] * window.limit)

    def _delay(self, name: str, priority: Priority, now: float) -> float:
        window = self._current(name, now)
        if window is None or window.remaining > self.reserve(priority, window):
            return 0.0
        return window.resets_at - now

    def _outranked(self, priority: Priority, names: Sequence[str]) -> bool:
        wanted = set(names)
        return any(p < priority and waits & wanted for p, waits in self._waiters.values())

    def _consume(self, names: Sequence[str], now: float) -> None:
        for name in names:
            window = self._current(name, now)
            if window is not None:
                window.remaining -= 1
