"""When a call may go, from the shared state of its windows (pure; no I/O).

Each window a call counts against (the account window, and endpoint windows
such as `tickets-update`) has up to two limits:

- our own: at most `limit` calls granted in any `window_seconds` span, by all
  processes together (a sliding log of grants in PostgreSQL);
- Zendesk's: the latest `remaining` any process read in a response's headers,
  counted down by every call granted since, until the window resets.

A call of a given priority goes only while every window keeps that priority's
reserve, as in the in-process `RateLimiter`: LIVE uses the whole window,
REPLAY leaves 10 % of it, BACKFILL 30 %. And it yields to callers of a higher
priority that are waiting on one of its windows, in any process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.zendesk import Priority
from app.zendesk.ratelimit import DEFAULT_RESERVES

DEFAULT_REQUESTS_PER_MINUTE = 700  # Zendesk Enterprise; Team 200, Growth/Professional 400
MIN_STEP = 0.01  # never spin: the shortest wait before asking again


def reserve(fraction: float, limit: int) -> int:
    """Calls of the window a priority leaves to higher priorities."""
    return math.ceil(fraction * limit)


def own_cap(fraction: float, limit: int) -> int:
    """Grants in the window after which a priority waits (at least 1: a small
    limit must not shut a priority out for good)."""
    return max(1, limit - reserve(fraction, limit))


@dataclass(frozen=True, slots=True)
class WindowState:
    """One window as one caller sees it, read under the window's row lock."""

    name: str
    own_limit: int | None = None  # None: only Zendesk's headers limit this window
    used: int = 0  # our grants in the last window_seconds, all processes
    frees_in: float | None = None  # seconds until `used` drops below this caller's cap
    observed_remaining: int | None = None  # None: no current observation
    observed_limit: int | None = None
    observed_resets_in: float = 0.0  # seconds; the observation lapses then
    outranked: bool = False  # a higher priority waits on this window
    penalty_in: float = 0.0  # seconds a 429's Retry-After still holds every call


def window_delay(state: WindowState, fraction: float) -> float:
    """Seconds this caller must wait for the window (0: it may go now)."""
    delay = max(0.0, state.penalty_in)
    if state.own_limit is not None and state.used >= own_cap(fraction, state.own_limit):
        delay = max(delay, state.frees_in if state.frees_in is not None else MIN_STEP, MIN_STEP)
    if state.observed_remaining is not None and state.observed_resets_in > 0:
        limit = max(state.observed_limit or 0, state.observed_remaining)
        if state.observed_remaining <= reserve(fraction, limit):
            delay = max(delay, state.observed_resets_in)
    return delay


@dataclass(frozen=True, slots=True)
class Verdict:
    blocking: dict[str, float]  # window -> seconds to wait
    outranked: bool

    @property
    def go(self) -> bool:
        return not self.blocking and not self.outranked

    def step(self, tick: float, max_step: float) -> float:
        """How long to sleep before asking again."""
        wanted = max(self.blocking.values(), default=tick)
        return max(MIN_STEP, min(wanted, max_step))

    def waiting_on(self, names: Iterable[str]) -> list[str]:
        """The windows to announce a wait on: the blocking ones, else all of them
        (an outranked caller still outranks lower priorities)."""
        return sorted(self.blocking) if self.blocking else sorted(names)


def verdict(
    states: Iterable[WindowState],
    priority: Priority,
    reserves: Mapping[Priority, float] = DEFAULT_RESERVES,
) -> Verdict:
    fraction = reserves.get(priority, 0.0)
    states = list(states)
    blocking = {s.name: d for s in states if (d := window_delay(s, fraction)) > 0}
    return Verdict(blocking, any(s.outranked for s in states))
