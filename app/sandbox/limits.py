"""Rate limits over sliding 60-second windows on an injectable clock.

Two counters: all API requests (`X-Rate-Limit*`, `ratelimit-*` headers on every
Zendesk response) and ticket updates (`Zendesk-RateLimit-tickets-update`).
A limit of None is unlimited: the headers still count, against a nominal total.
Beyond a limit the answer is 429 with `Retry-After: <seconds>`, and the refused
request does not count.
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

_UPDATE_PATHS = (
    ("PUT", re.compile(r"^/api/v2/tickets/(\d+|update_many)$")),
    ("POST", re.compile(r"^/api/v2/tickets/\d+/tags$")),
    ("PUT", re.compile(r"^/api/v2/tickets/\d+/tags$")),
    ("DELETE", re.compile(r"^/api/v2/tickets/\d+/tags$")),
)


def is_ticket_update(method: str, path: str) -> bool:
    """Whether the request counts against the ticket-update limit (path without .json)."""
    return any(method == m and pattern.match(path) for m, pattern in _UPDATE_PATHS)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the oldest counted request leaves the window
    retry_after: int


class WindowCounter:
    def __init__(self, clock: Callable[[], float], limit: int | None, nominal: int) -> None:
        self.clock = clock
        self.limit = limit
        self.nominal = nominal
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
        while self._hits and self._hits[0] <= now - WINDOW_SECONDS:
            self._hits.popleft()
        return now

    def _reset(self, now: float) -> int:
        if not self._hits:
            return int(WINDOW_SECONDS)
        return max(0, math.ceil(self._hits[0] + WINDOW_SECONDS - now))


class RateLimits:
    def __init__(
        self,
        lock: threading.RLock,
        clock: Callable[[], float],
        ticket_updates_per_minute: int | None = None,
        requests_per_minute: int | None = None,
    ) -> None:
        self._lock = lock
        self.requests = WindowCounter(clock, requests_per_minute, NOMINAL_REQUESTS)
        self.updates = WindowCounter(clock, ticket_updates_per_minute, NOMINAL_UPDATES)

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

    @synchronized
    def hit_request(self) -> Verdict:
        return self.requests.hit()

    @synchronized
    def hit_update(self) -> Verdict:
        return self.updates.hit()


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


def too_many(verdict: Verdict, what: str) -> tuple[int, Json, dict[str, str]]:
    body = {
        "error": "APIRateLimitExceeded",
        "description": f"Number of allowed {what} per minute exceeded",
    }
    return 429, body, {"Retry-After": str(verdict.retry_after)}
