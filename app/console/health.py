"""The health page's figures: the Zendesk rate budget, queues, workers, merges."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from app.merges.log import merge_log
from app.runtime.container import Services
from app.store import EventStatus
from app.zendesk.budget import PostgresRateBudget
from app.zendesk.ratelimit import RateLimiter


def budget_rows(services: Services) -> dict[str, Any]:
    """The rate windows Zendesk's headers reported, and how much of each is in use."""
    budget = services.zendesk.budget
    limit = services.settings.zendesk_rate_limit_per_minute
    info: dict[str, Any] = {"configured_per_minute": limit, "windows": [], "kind": "in-process"}
    limiter = budget if isinstance(budget, RateLimiter) else None
    if isinstance(budget, PostgresRateBudget):
        info["kind"] = "shared on PostgreSQL" + (" (degraded)" if budget.degraded else "")
        limiter = budget.local  # Zendesk's headers as this process last read them
    if limiter is not None:
        now = time.monotonic()
        for name, window in sorted(limiter.windows.items()):
            current = window.resets_at > now  # else the window has reset since it was read
            used = max(0, window.limit - window.remaining) if current else 0
            info["windows"].append(
                {
                    "name": name,
                    "limit": window.limit,
                    "remaining": window.remaining if current else window.limit,
                    "used": used,
                    "percent": int(100 * used / window.limit) if window.limit else 0,
                    "resets_in": max(0.0, window.resets_at - now),
                }
            )
    return info


async def workers_seen(services: Services, this_process: str | None) -> list[dict[str, Any]]:
    """Workers holding leases now (any process), and this process's worker."""
    leased = await services.store.list_events(status=EventStatus.LEASED, limit=500)
    holding = Counter(e.lease_owner for e in leased if e.lease_owner)
    owners = set(holding) | ({this_process} if this_process else set())
    return [
        {"owner": owner, "leases": holding.get(owner, 0), "here": owner == this_process}
        for owner in sorted(owners)
    ]


async def merge_counts(services: Services) -> dict[str, int]:
    entries = await merge_log(services.store, services.clock).entries()
    counted = Counter(str(e.get("kind")) for e in entries)
    return {kind: counted.get(kind, 0) for kind in ("blocked", "performed", "detected", "repaired")}
