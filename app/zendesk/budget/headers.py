"""Zendesk's rate-limit headers as observations a shared budget can store (pure).

Reads the same headers as the in-process `RateLimiter.observe`
(`app/zendesk/ratelimit.py`): the account window (`ratelimit-*` /
`X-Rate-Limit*`) and the endpoint windows (`Zendesk-RateLimit-<name>: total=…;
remaining=…; resets=…`). A 429's `Retry-After` is not read here: the client
hands it to `RateBudget.penalize`, which holds every call until then.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from app.zendesk.ratelimit import ACCOUNT, parse_limit_header

ENDPOINT_PREFIX = "zendesk-ratelimit-"
DEFAULT_RESET_SECONDS = 60.0  # a header without a reset time: assume a minute
MAX_RESET_SECONDS = 600.0  # distrust larger resets (the in-process limiter's bound)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one response said about one window."""

    name: str  # ACCOUNT or an endpoint window such as "tickets-update"
    remaining: int
    limit: int | None  # None: the header gave none
    resets_in: float  # seconds from the response until the window resets


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _reset(value: float | None, default: float, maximum: float) -> float:
    return default if value is None else min(max(value, 0.0), maximum)


def read_headers(
    headers: Mapping[str, str],
    *,
    default_reset: float = DEFAULT_RESET_SECONDS,
    max_reset: float = MAX_RESET_SECONDS,
) -> list[Observation]:
    """Every window the headers speak of; junk values are skipped."""
    lower = {key.lower(): value for key, value in headers.items()}
    found: dict[str, Observation] = {}
    remaining = _number(lower.get("ratelimit-remaining") or lower.get("x-rate-limit-remaining"))
    if remaining is not None:
        limit = _number(lower.get("ratelimit-limit") or lower.get("x-rate-limit"))
        found[ACCOUNT] = Observation(
            ACCOUNT,
            int(remaining),
            None if limit is None else int(limit),
            _reset(_number(lower.get("ratelimit-reset")), default_reset, max_reset),
        )
    for key, value in lower.items():
        if not key.startswith(ENDPOINT_PREFIX):
            continue
        parsed = parse_limit_header(value)
        if "remaining" not in parsed:
            continue
        name = key.removeprefix(ENDPOINT_PREFIX)
        total = parsed.get("total")
        found[name] = Observation(
            name,
            int(parsed["remaining"]),
            None if total is None else int(total),
            _reset(parsed.get("resets"), default_reset, max_reset),
        )
    return list(found.values())
