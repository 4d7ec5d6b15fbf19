"""Zendesk answers 429 with `Retry-After: 2` for a while.

The sandbox stamps nothing, so `TimedLog` (harness) records when each request
arrived and when its answer started; a 429's wait runs from its answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from app.core.serving import ThreadedServer
from tests.e2e.conftest import admin_client, send
from tests.faults.harness import FaultSandbox, Timed, new_ticket, settle, trigger

pytestmark = pytest.mark.e2e

RETRY_AFTER = 2
#: asyncio timers may fire a hair early; a request this close to its 429 was
#: already on its way before the client could read the answer.
CLOCK_SLACK = 0.05
IN_FLIGHT_GRACE = 0.1


def _rate_limited(sandbox: FaultSandbox, times: int, prefix: str = "/api/v2/") -> None:
    sandbox.inject(
        {"path_prefix": prefix, "status": 429, "retry_after": RETRY_AFTER, "times": times}
    )


def _answered_429s(requests: list[Timed]) -> list[Timed]:
    return [r for r in requests if r.status == 429 and r.end is not None]


def test_zendesk_client_429_retry_after_same_call_waits_then_all_processed(
    sandbox: FaultSandbox, zd: httpx.Client, service_factory: Callable[..., ThreadedServer]
) -> None:
    service = service_factory(worker_concurrency=4, poll_interval_seconds=0.1)
    tickets = [new_ticket(zd) for _ in range(6)]
    sandbox.log.clear()
    # Calls of one ticket (read, macro preview, write): a path names one call.
    _rate_limited(sandbox, times=8, prefix="/api/v2/tickets/51")
    with admin_client(service.url) as api:
        ids = []
        for ticket in tickets:
            answer = send(api, trigger(ticket))
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["event_id"])
            time.sleep(0.3)  # arrivals spread over the rate-limited period
        settle(api, ids, timeout=60)
    requests = sandbox.requests()
    limited = _answered_429s(requests)
    assert len(limited) == 8, "the rate limit was hit as injected"
    early = []
    for hit in limited:
        assert hit.end is not None
        same_call = [
            r
            for r in requests
            if (r.method, r.path) == (hit.method, hit.path) and r.start > hit.end
        ]
        assert same_call, f"{hit.method} {hit.path} was retried after its 429"
        waited = same_call[0].start - hit.end
        if waited < RETRY_AFTER - CLOCK_SLACK:
            early.append(f"{hit.method} {hit.path} retried {waited:.2f}s after a 429")
    assert early == []
    for ticket in tickets:
        assert len(sandbox.notes(ticket["id"])) == 1


class EarlyRequest(AssertionError):
    """The failure the test below guards against (a regression of a fixed bug)."""


def test_zendesk_client_429_retry_after_no_request_until_wait_over(
    sandbox: FaultSandbox, zd: httpx.Client, service_factory: Callable[..., ThreadedServer]
) -> None:
    """A 429 is about the account: no call of this client may go before the wait
    is over, including calls of events that arrive during it."""
    service = service_factory(worker_concurrency=4, poll_interval_seconds=0.1)
    tickets = [new_ticket(zd) for _ in range(5)]
    sandbox.log.clear()
    _rate_limited(sandbox, times=6)
    with admin_client(service.url) as api:
        ids = []
        for ticket in tickets:
            ids.append(send(api, trigger(ticket)).json()["event_id"])
            time.sleep(0.3)
        settle(api, ids, timeout=60)
    requests = sandbox.requests()
    violations = []
    for hit in _answered_429s(requests):
        assert hit.end is not None
        for r in requests:
            if hit.end + IN_FLIGHT_GRACE < r.start < hit.end + RETRY_AFTER - CLOCK_SLACK:
                violations.append(
                    f"{r.method} {r.path} sent {r.start - hit.end:.2f}s after a 429 "
                    f"(Retry-After: {RETRY_AFTER}) on {hit.method} {hit.path}"
                )
    if violations:
        raise EarlyRequest("\n".join(violations))
