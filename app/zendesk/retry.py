"""The one retry policy of the Zendesk client (tenacity).

What is retried (`classify`, pure):

- 429 and 503 with `Retry-After`: wait exactly that long, at most
  `max_rate_limit_waits` times per call; a `Retry-After` above
  `max_retry_after` is not waited inline, the error goes to the caller (a
  worker can reschedule the event instead of holding a slot).
- TooManyJobs without `Retry-After`: wait `too_many_jobs_wait` (jobs take a while).
- transport errors, 5xx, 429/503 without `Retry-After`: exponential backoff
  with jitter, `max_attempts` attempts in all.
- Non-idempotent requests (a POST creating a ticket, a job submission) are
  retried only when Zendesk certainly did not act: 429, 503 with
  `Retry-After`, or a request that never left (connect errors). A read timeout
  after a POST may have created the ticket; retrying could create two.
- Never: 409 Conflict (the caller re-reads and decides again), other 4xx,
  malformed bodies.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from app.zendesk.errors import (
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TooManyJobs,
    ZendeskTransportError,
)
from app.zendesk.models import Sleep


class RetryKind(enum.Enum):
    NO = "no"
    AFTER = "after"  # Zendesk said when (Retry-After)
    BACKOFF = "backoff"  # exponential backoff with jitter


@dataclass(frozen=True, slots=True)
class RetrySettings:
    max_attempts: int = 4  # attempts in all for errors retried with backoff
    backoff_initial: float = 0.5
    backoff_max: float = 20.0
    backoff_jitter: float = 0.5
    max_rate_limit_waits: int = 5  # Retry-After waits honoured per call
    max_retry_after: float = 120.0  # a longer Retry-After goes to the caller
    too_many_jobs_wait: float = 10.0


def classify(exc: BaseException, *, idempotent: bool) -> RetryKind:
    """How (whether) to retry after `exc`."""
    if isinstance(exc, TooManyJobs):
        return RetryKind.AFTER
    if isinstance(exc, RateLimited):
        return RetryKind.BACKOFF if exc.retry_after is None else RetryKind.AFTER
    if isinstance(exc, ServiceUnavailable) and exc.retry_after is not None:
        return RetryKind.AFTER
    if isinstance(exc, ServiceUnavailable | ServerError):
        return RetryKind.BACKOFF if idempotent else RetryKind.NO
    if isinstance(exc, ZendeskTransportError):
        return RetryKind.BACKOFF if idempotent or not exc.request_sent else RetryKind.NO
    return RetryKind.NO


class _Policy:
    """Per-call state: how many Retry-After waits and backoffs were spent."""

    def __init__(self, settings: RetrySettings, idempotent: bool) -> None:
        self.settings = settings
        self.idempotent = idempotent
        self.waits = 0
        self.backoffs = 0
        self.kind = RetryKind.NO
        self.delay = 0.0

    def should_retry(self, exc: BaseException) -> bool:
        """tenacity asks this first, once per failed attempt: count here, so that
        `stop` and `wait` do not depend on the order tenacity calls them in."""
        self.kind = classify(exc, idempotent=self.idempotent)
        if self.kind is RetryKind.AFTER:
            self.waits += 1
            self.delay = self._after(exc)
        elif self.kind is RetryKind.BACKOFF:
            self.backoffs += 1
            self.delay = self.backoff(self.backoffs)
        return self.kind is not RetryKind.NO

    def _after(self, exc: BaseException) -> float:
        retry_after = getattr(exc, "retry_after", None)
        return self.settings.too_many_jobs_wait if retry_after is None else float(retry_after)

    def stop(self, state: RetryCallState) -> bool:
        if self.kind is RetryKind.AFTER:
            return (
                self.waits > self.settings.max_rate_limit_waits
                or self.delay > self.settings.max_retry_after
            )
        return self.backoffs >= self.settings.max_attempts

    def wait(self, state: RetryCallState) -> float:
        return self.delay

    def backoff(self, n: int) -> float:
        """Exponential backoff with jitter before the n-th retry (n >= 1)."""
        s = self.settings
        return min(s.backoff_max, s.backoff_initial * 2.0 ** (n - 1)) + random.uniform(
            0, s.backoff_jitter
        )


def retrying(
    settings: RetrySettings,
    *,
    idempotent: bool,
    sleep: Sleep,
    before_sleep: Callable[[RetryCallState], Awaitable[None] | None] | None = None,
) -> AsyncRetrying:
    """A fresh `AsyncRetrying` for one call (`async for attempt in retrying(...)`)."""
    policy = _Policy(settings, idempotent)
    return AsyncRetrying(
        sleep=sleep,
        retry=retry_if_exception(policy.should_retry),
        stop=policy.stop,
        wait=policy.wait,
        before_sleep=before_sleep,
        reraise=True,
    )
