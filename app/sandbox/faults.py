"""Injected failures: rules matched against each request before it is handled.

A rule matches on method and path prefix (the path as received, or without its
`.json`), fires `times` times (None = forever) with `probability` (drawn from a
seeded RNG, so a run is reproducible), and then: waits `delay_ms`; with
`timeout` holds the request `hold_seconds` (or until the faults are cleared or
the server stops) and answers 504 unprocessed; with `status` answers that
error; with only a delay lets the request through, late.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.sandbox.context import Json, synchronized

_BODIES: dict[int, Json] = {
    409: {"error": "DatabaseConflict", "description": "Database collision"},
    429: {
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed API requests per minute exceeded",
    },
    500: {"error": "InternalServerError", "description": "Something went wrong"},
    503: {"error": "ServiceUnavailable", "description": "Service temporarily unavailable"},
    504: {"error": "GatewayTimeout", "description": "The request timed out"},
}


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str | None = None
    path_prefix: str = "/"
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0)
    times: int | None = Field(default=None, ge=1)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    delay_ms: int = Field(default=0, ge=0)
    timeout: bool = False
    hold_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _has_effect(self) -> FaultRule:
        if self.status is None and not self.timeout and not self.delay_ms:
            raise ValueError("a fault rule needs a status, a delay_ms or timeout=true")
        return self

    def matches(self, method: str, paths: tuple[str, ...]) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return any(path.startswith(self.path_prefix) for path in paths)


@dataclass(frozen=True)
class FaultAnswer:
    status: int
    body: Json
    headers: dict[str, str]


def answer(rule: FaultRule) -> FaultAnswer | None:
    """The error response a fired rule gives, or None to let the request through."""
    status = rule.status or (504 if rule.timeout else None)
    if status is None:
        return None
    body = _BODIES.get(status, {"error": "InjectedFault", "description": f"Injected {status}"})
    headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
    return FaultAnswer(status, dict(body), headers)


class FaultInjector:
    def __init__(self, lock: threading.RLock, seed: int = 0) -> None:
        self._lock = lock
        self._seed = seed
        self._rng = random.Random(seed)
        self._rules: list[tuple[FaultRule, list[int | None]]] = []  # rule, [times left]
        self._generation = 0

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @synchronized
    def add(self, rules: list[FaultRule], seed: int | None = None) -> list[Json]:
        if seed is not None:
            self._rng = random.Random(seed)
        self._rules += [(rule, [rule.times]) for rule in rules]
        return self.rules()

    @synchronized
    def rules(self) -> list[Json]:
        return [{**rule.model_dump(), "remaining": left[0]} for rule, left in self._rules]

    @synchronized
    def clear(self) -> None:
        """Drop every rule, release held requests, restart the RNG from the seed."""
        self._rules = []
        self._rng = random.Random(self._seed)
        self.release()

    @synchronized
    def fire(self, method: str, *paths: str) -> FaultRule | None:
        """The first matching rule that fires for this request (using up one `times`)."""
        for rule, left in self._rules:
            if not rule.matches(method, paths):
                continue
            if rule.probability is not None and self._rng.random() >= rule.probability:
                continue
            if left[0] is not None:
                left[0] -= 1
            self._rules = [(r, n) for r, n in self._rules if n[0] is None or n[0] > 0]
            return rule
        return None

    def release(self) -> None:
        """End every `hold` in progress (on clear and on server shutdown)."""
        self._generation += 1

    async def hold(self, seconds: float) -> None:
        """Wait `seconds` or until `release()`, which other threads call (the server's
        stop), so this polls a counter rather than waiting on a loop-bound Event."""
        generation = self._generation
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._generation == generation:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
