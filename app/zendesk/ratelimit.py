"""The rate-limit budget: read Zendesk's headers, slow down before the limit,
and let live calls go before replays and backfills.

`read_headers` is the one parser of Zendesk's rate-limit headers; the
in-process `RateLimiter`, the shared PostgreSQL budget (`app/zendesk/budget`)
and the client's error mapping all use it. Variants read
(https://developer.zendesk.com/api-reference/introduction/rate-limits/ and
recordings of live accounts, tests/contract/SOURCES.md):

- account window: `ratelimit-limit` / `X-Rate-Limit`, `ratelimit-remaining` /
  `X-Rate-Limit-Remaining`, reset in seconds from `ratelimit-reset`,
  `rate-limit-reset` or `X-Rate-Limit-Reset`;
- endpoint windows: `Zendesk-RateLimit-<name>: total=100; remaining=99; resets=41`
  and the older hyphenated `Zendesk-Rate-Limit-<name>: ...`, one window per
  name (`tickets-update` 100 ticket updates/min account-wide, `tickets-index`,
  `inflight-jobs` 30 queued or running jobs); `remaining` may be negative
  (read as 0);
- the per-ticket window `Zendesk-RateLimit-per-ticket-updates: total=30;
  remaining=…; resets=…` (30 updates per ticket per 10 minutes) is about the
  ticket just written, not the account: `per_ticket_window` reads it and the
  client keeps it per ticket (`PerTicketUpdates`), never as an account window;
- when to try again after a 429 (`retry_after_from`): `Retry-After` (seconds
  or an HTTP date), else `rate-limit-reset` / `ratelimit-reset`.

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
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from app.zendesk.models import Clock, Sleep

ACCOUNT = "account"
"""The name of the account-wide window; endpoint windows use Zendesk's header suffix."""


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
        number = _number(raw)
        if number is not None:
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


ENDPOINT_PREFIXES = ("zendesk-ratelimit-", "zendesk-rate-limit-")
PER_TICKET_UPDATES = "per-ticket-updates"  # about one ticket, never an account window
DEFAULT_RESET_SECONDS = 60.0  # a header without a reset time: assume a minute
MAX_RESET_SECONDS = 600.0  # distrust larger resets
_ACCOUNT_REMAINING = ("ratelimit-remaining", "x-rate-limit-remaining")
_ACCOUNT_LIMIT = ("ratelimit-limit", "x-rate-limit")
_ACCOUNT_RESET = ("ratelimit-reset", "rate-limit-reset", "x-rate-limit-reset")


@dataclass(frozen=True, slots=True)
class Observation:
    """What one response said about one window."""

    name: str  # ACCOUNT or an endpoint window such as "tickets-update"
    remaining: int
    limit: int | None  # None: the header gave none
    resets_in: float  # seconds from the response until the window resets


def _first(lower: Mapping[str, str], names: Sequence[str]) -> float | None:
    for name in names:
        number = _number(lower.get(name))
        if number is not None:
            return number
    return None


def _reset(value: float | None, default: float, maximum: float) -> float:
    return default if value is None else min(max(value, 0.0), maximum)


def _endpoint_windows(lower: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Endpoint windows by name, both header spellings; the newer one wins a tie."""
    found: dict[str, dict[str, float]] = {}
    for prefix in reversed(ENDPOINT_PREFIXES):
        for key, value in lower.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                found[key.removeprefix(prefix)] = parse_limit_header(value)
    return found


def read_headers(
    headers: Mapping[str, str],
    *,
    default_reset: float = DEFAULT_RESET_SECONDS,
    max_reset: float = MAX_RESET_SECONDS,
) -> list[Observation]:
    """Every account-wide window the headers speak of (see the module docstring);
    junk values are skipped, the per-ticket window is left out."""
    lower = {key.lower(): value for key, value in headers.items()}
    found: list[Observation] = []
    remaining = _first(lower, _ACCOUNT_REMAINING)
    if remaining is not None:
        limit = _first(lower, _ACCOUNT_LIMIT)
        found.append(
            Observation(
                ACCOUNT,
                max(int(remaining), 0),
                None if limit is None else int(limit),
                _reset(_first(lower, _ACCOUNT_RESET), default_reset, max_reset),
            )
        )
    for name, parsed in _endpoint_windows(lower).items():
        if name == PER_TICKET_UPDATES or "remaining" not in parsed:
            continue
        total = parsed.get("total")
        found.append(
            Observation(
                name,
                max(int(parsed["remaining"]), 0),
                None if total is None else int(total),
                _reset(parsed.get("resets"), default_reset, max_reset),
            )
        )
    return found


def per_ticket_window(headers: Mapping[str, str]) -> Observation | None:
    """`Zendesk-RateLimit-per-ticket-updates` of a ticket write, if sent."""
    lower = {key.lower(): value for key, value in headers.items()}
    parsed = _endpoint_windows(lower).get(PER_TICKET_UPDATES)
    if not parsed or "remaining" not in parsed:
        return None
    total = parsed.get("total")
    return Observation(
        PER_TICKET_UPDATES,
        max(int(parsed["remaining"]), 0),
        None if total is None else int(total),
        _reset(parsed.get("resets"), MAX_RESET_SECONDS, MAX_RESET_SECONDS),
    )


def endpoint_reset(headers: Mapping[str, str], name: str) -> float | None:
    """`resets=` of one endpoint window (e.g. `inflight-jobs`), either spelling."""
    lower = {key.lower(): value for key, value in headers.items()}
    return _endpoint_windows(lower).get(name, {}).get("resets")


def retry_after_from(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait after a 429/503: `Retry-After`, else a rate-limit reset header."""
    lower = {key.lower(): value for key, value in headers.items()}
    retry_after = parse_retry_after(lower.get("retry-after"))
    if retry_after is not None:
        return retry_after
    reset = _first(lower, ("rate-limit-reset", "ratelimit-reset"))
    return None if reset is None else max(reset, 0.0)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP date).

    Defensive: garbage, NaN or an empty value gives None; negatives give 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    seconds = _number(text)
    if seconds is None:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


class PerTicketUpdates:
    """Zendesk allows 30 updates per ticket per 10 minutes (per user). This
    process never sends more: it counts its own writes per ticket and honours
    `Zendesk-RateLimit-per-ticket-updates` when Zendesk sends it (other
    processes and agents' apps count too). `blocked_for` says how long a ticket
    must wait; the client then answers `RateLimited` without calling Zendesk."""

    def __init__(
        self,
        *,
        limit: int = 30,
        window_seconds: float = 600.0,
        clock: Clock = time.monotonic,
        max_tickets: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._max_tickets = max_tickets
        self._writes: dict[int, list[float]] = {}
        self._held: dict[int, float] = {}  # ticket -> clock time Zendesk said it resets

    def blocked_for(self, ticket_id: int) -> float:
        now = self._clock()
        writes = [t for t in self._writes.get(ticket_id, []) if t > now - self.window]
        self._writes[ticket_id] = writes
        waits = [self._held.get(ticket_id, now) - now]
        if len(writes) >= self.limit:
            waits.append(writes[len(writes) - self.limit] + self.window - now)
        return max(0.0, *waits)

    def record(self, ticket_id: int, headers: Mapping[str, str], *, wrote: bool = True) -> None:
        """After a write's answer: count it (`wrote`) and read Zendesk's per-ticket header."""
        now = self._clock()
        if len(self._writes) >= self._max_tickets and ticket_id not in self._writes:
            self._forget_idle(now)
        if wrote:
            self._writes.setdefault(ticket_id, []).append(now)
        seen = per_ticket_window(headers)
        if seen is not None and seen.remaining <= 0:
            self._held[ticket_id] = now + seen.resets_in
        else:
            self._held.pop(ticket_id, None)

    def _forget_idle(self, now: float) -> None:
        idle = [t for t, w in self._writes.items() if not w or w[-1] <= now - self.window]
        for ticket_id in idle:
            self._writes.pop(ticket_id, None)
            self._held.pop(ticket_id, None)


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
        limits = {"default_reset": self._default_reset, "max_reset": self._max_reset}
        for seen in read_headers(headers, **limits):
            self._update(seen.name, seen.remaining, seen.limit, seen.resets_in, now)

    def _update(
        self, name: str, remaining: int, limit: int | None, reset: float, now: float
    ) -> None:
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
