"""Rate limits over sliding windows on an injectable clock, with Zendesk's header names.

Three counters: all API requests per minute (`X-Rate-Limit*`, `ratelimit-*`
headers on every Zendesk response), ticket updates per minute account-wide
(`Zendesk-RateLimit-tickets-update`), and updates of one ticket, 30 per 10
minutes (`Zendesk-RateLimit-per-ticket-updates` on single-ticket writes).
A per-minute limit of None is unlimited: the headers still count, against a
nominal total. Beyond a limit the answer is 429 with `Retry-After: <seconds>`,
and the refused request does not count.
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.sandbox.context import Json, synchronized

WINDOW_SECONDS = 60.0
NOMINAL_REQUESTS = 700  # Enterprise plan, requests per minute
NOMINAL_UPDATES = 100  # account-wide ticket updates per minute
PER_TICKET_UPDATES = 30  # updates of one ticket ...
PER_TICKET_WINDOW_SECONDS = 600.0  # ... per 10 minutes
_SINGLE_TICKET_WRITE = re.compile(r"^/api/v2/tickets/(\d+)(/tags)?$")

_UPDATE_PATHS = (
    ("PUT", re.compile(r"^/api/v2/tickets/(\d+|update_many)$")),
    ("POST", re.compile(r"^/api/v2/tickets/\d+/tags$")),
    ("PUT", re.compile(r"^/api/v2/tickets/\d+/tags$")),
    ("DELETE", re.compile(r"^/api/v2/tickets/\d+/tags$")),
)


def is_ticket_update(method: str, path: str) -> bool:
    """Whether the request counts against the ticket-update limit (path without .json)."""
    return any(method == m and pattern.match(path) for m, pattern in _UPDATE_PATHS)


def single_ticket_write(method: str, path: str) -> int | None:
    """The ticket a single-ticket update (PUT ticket, tag writes) touches."""
    match = _SINGLE_TICKET_WRITE.match(path)
    if match is None or not is_ticket_update(method, path):
        return None
    return int(match.group(1))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the oldest counted request leaves the window
    retry_after: int


class WindowCounter:
    def __init__(
        self,
        clock: Callable[[], float],
        limit: int | None,
        nominal: int,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.nominal = nominal
        self.window = window
        self._hits: deque[float] = deque()

    def hit(self) -> Verdict:
        """Count one request if the limit allows it."""
        now = self._prune()
        if self.limit is not None and len(self._hits) >= self.limit:
            wait = self._reset(now)
            return Verdict(False, self.limit, 0, wait, max(1, wait))
        self._hits.append(now)
        return self._verdict(now)

    def clear(self) -> None:
        self._hits.clear()

    def _verdict(self, now: float) -> Verdict:
        total = self.limit if self.limit is not None else self.nominal
        return Verdict(True, total, max(0, total - len(self._hits)), self._reset(now), 0)

    def _prune(self) -> float:
        now = self.clock()
        while self._hits and self._hits[0] <= now - self.window:
            self._hits.popleft()
        return now

    def _reset(self, now: float) -> int:
        if not self._hits:
            return int(self.window)
        return max(0, math.ceil(self._hits[0] + self.window - now))


class RateLimits:
    def __init__(
        self,
        lock: threading.RLock,
        clock: Callable[[], float],
        ticket_updates_per_minute: int | None = None,
        requests_per_minute: int | None = None,
    ) -> None:
        self._lock = lock
        self.clock = clock
        self.requests = WindowCounter(clock, requests_per_minute, NOMINAL_REQUESTS)
        self.updates = WindowCounter(clock, ticket_updates_per_minute, NOMINAL_UPDATES)
        self.per_ticket: dict[int, WindowCounter] = {}

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @synchronized
    def configure(self, /, **limits: int | None) -> Json:
        """Set `ticket_updates_per_minute` and/or `requests_per_minute` (None = unlimited)."""
        if "ticket_updates_per_minute" in limits:
            self.updates.limit = limits["ticket_updates_per_minute"]
        if "requests_per_minute" in limits:
            self.requests.limit = limits["requests_per_minute"]
        return self.settings()

    @synchronized
    def settings(self) -> Json:
        return {
            "ticket_updates_per_minute": self.updates.limit,
            "requests_per_minute": self.requests.limit,
        }

    @synchronized
    def clear(self) -> None:
        self.requests.clear()
        self.updates.clear()
        self.per_ticket.clear()

    @synchronized
    def hit_request(self) -> Verdict:
        return self.requests.hit()

    @synchronized
    def hit_update(self) -> Verdict:
        return self.updates.hit()

    @synchronized
    def hit_ticket(self, ticket_id: int) -> Verdict:
        counter = self.per_ticket.get(ticket_id)
        if counter is None:
            counter = WindowCounter(
                self.clock, PER_TICKET_UPDATES, PER_TICKET_UPDATES, PER_TICKET_WINDOW_SECONDS
            )
            self.per_ticket[ticket_id] = counter
        return counter.hit()


def request_headers(verdict: Verdict) -> dict[str, str]:
    return {
        "X-Rate-Limit": str(verdict.limit),
        "X-Rate-Limit-Remaining": str(verdict.remaining),
        "ratelimit-limit": str(verdict.limit),
        "ratelimit-remaining": str(verdict.remaining),
        "ratelimit-reset": str(verdict.reset),
    }


def update_headers(verdict: Verdict) -> dict[str, str]:
    value = f"total={verdict.limit}; remaining={verdict.remaining}; resets={verdict.reset}"
    return {"Zendesk-RateLimit-tickets-update": value}


def per_ticket_headers(verdict: Verdict) -> dict[str, str]:
    value = f"total={verdict.limit}; remaining={verdict.remaining}; resets={verdict.reset}"
    return {"Zendesk-RateLimit-per-ticket-updates": value}


def too_many(verdict: Verdict, what: str, per: str = "minute") -> tuple[int, Json, dict[str, str]]:
    body = {
        "error": "APIRateLimitExceeded",
        "description": f"Number of allowed {what} per {per} exceeded",
    }
    return 429, body, {"Retry-After": str(verdict.retry_after)}
