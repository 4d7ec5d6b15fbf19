"""`/readyz`: ready only when every dependency of a decision answers.

- `policy`: loaded (its version);
- `database`: the store answers a ping;
- `zendesk`: the policy's names resolved to ids (tried again here while they are not);
- `marketplace`: the directory answers as the directory does (an unknown contract is
  404 `not_found`, not a wrong path or no answer).

Each check is bounded by `PROBE_SECONDS`; the body names the failing ones and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from app.core.failures import network_cause
from app.runtime.container import Services

PROBE_SECONDS = 3.0


async def _check(probe: Awaitable[object], failed: str) -> str:
    try:
        await asyncio.wait_for(probe, PROBE_SECONDS)
    except TimeoutError:
        return f"{failed}: no answer within {PROBE_SECONDS:g} s"
    except Exception as exc:  # a readiness probe reports, never raises
        return f"{failed}: {network_cause(exc) or str(exc).splitlines()[0] or type(exc).__name__}"
    return "ok"


async def readiness(services: Services) -> tuple[bool, dict[str, str]]:
    """(ready, {check: "ok" | what failed}); `policy` holds the loaded policy's version."""
    checks = {"policy": services.policy.version}
    checks["database"] = await _check(services.store.ping(), "unavailable")
    checks["zendesk"] = (
        "ok"
        if services.catalog.loaded
        else await _check(services.catalog.get(), "names not resolved")
    )
    checks["marketplace"] = await _check(services.marketplace.check(), "unavailable")
    ready = all(value == "ok" for key, value in checks.items() if key != "policy")
    return ready, checks
