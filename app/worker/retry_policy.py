"""Pure: what to do with an event whose processing raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.marketplace.client import MarketplaceError
from app.store import StoreUnavailable
from app.worker.pipeline import ConflictStorm
from app.zendesk import (
    UnknownName,
    ZendeskPermanentError,
    ZendeskTransientError,
    ZendeskTransportError,
)

# UnknownName: the catalog is refreshed before the retry (Zendesk ids can change).
TRANSIENT = (
    StoreUnavailable,  # the database blinked; the retry finds the marker, records a no-op
    ZendeskTransientError,
    ZendeskTransportError,
    MarketplaceError,
    ConflictStorm,
    UnknownName,
)
BASE_DELAY = 2.0
MAX_DELAY = 900.0


@dataclass(frozen=True, slots=True)
class RetryDecision:
    dead: bool
    reason: str
    retry_at: datetime | None = None


def describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


def decide_retry(
    exc: BaseException,
    *,
    attempts: int,
    max_attempts: int,
    now: datetime,
    retry_after: float | None = None,
) -> RetryDecision:
    """Transient errors back off exponentially (or as Zendesk asked) until
    `max_attempts`; permanent errors and bugs go to dead letters at once, where an
    operator can retry them after the fix."""
    reason = describe(exc)
    if not isinstance(exc, TRANSIENT):
        kind = "permanent" if isinstance(exc, ZendeskPermanentError) else "unexpected"
        return RetryDecision(dead=True, reason=f"{kind}: {reason}")
    if attempts + 1 >= max_attempts:
        return RetryDecision(dead=True, reason=f"gave up after {attempts + 1} attempts: {reason}")
    delay = min(MAX_DELAY, BASE_DELAY * 2**attempts)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return RetryDecision(dead=False, reason=reason, retry_at=now + timedelta(seconds=delay))
