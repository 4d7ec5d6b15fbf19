"""`PostgresRateBudget`: one Zendesk budget for several processes.

Each budget instance below has its own connection pool, as a separate process
would; they meet only in PostgreSQL. Windows are shortened to about a second
so the tests wait for real (the budget runs on the database's clock).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxServer
from app.zendesk import ApiTokenAuth, Priority, ZendeskClient
from app.zendesk.budget import (
    PostgresRateBudget,
    WindowState,
    budget_for,
    postgres_target,
    read_headers,
    verdict,
)
from app.zendesk.ratelimit import ACCOUNT

pytestmark = pytest.mark.anyio

MakeBudget = Callable[..., Awaitable[PostgresRateBudget]]


@pytest.fixture
async def budgets(pg_url: str) -> AsyncIterator[MakeBudget]:
    """`await make(limit=…, window=…)` -> an open budget on the test schema."""
    target = postgres_target(pg_url)
    assert target is not None
    async with AsyncExitStack() as stack:

        async def make(limit: int = 10, window: float = 1.0, **options: Any) -> PostgresRateBudget:
            budget = PostgresRateBudget(
                target.dsn,
                schema=target.schema,
                scope="https://acme.zendesk.com",
                limits={ACCOUNT: limit},
                window_seconds=window,
                **options,
            )
            await stack.enter_async_context(budget)
            return budget

        yield make


def most_in_any_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered))


@pytest.mark.postgres
async def test_two_instances_share_one_limit(budgets: MakeBudget) -> None:
    """30 calls through two instances, 10 per second between them: never more
    than 10 in any second, and both instances get calls through."""
    first, second = await budgets(limit=10, window=1.0), await budgets(limit=10, window=1.0)
    granted: list[tuple[str, float]] = []

    async def call(name: str, budget: PostgresRateBudget) -> None:
        await budget.acquire(Priority.LIVE)
        granted.append((name, time.monotonic()))

    started = time.monotonic()
    await asyncio.gather(
        *(call("a", first) for _ in range(15)), *(call("b", second) for _ in range(15))
    )
    elapsed = time.monotonic() - started
    times = [t for _, t in granted]
    # Grants are timed on return (a little after the database granted them).
    assert most_in_any_window(times, 1.0 - 0.05) <= 10
    assert elapsed >= 1.9  # 30 calls at 10 per second: the third batch waits ~2 s
    assert {name for name, _ in granted} == {"a", "b"}
    assert first.grants + second.grants == 30
    assert first.fallbacks == second.fallbacks == 0


@pytest.mark.postgres
async def test_live_goes_before_replay_when_scarce(budgets: MakeBudget) -> None:
    """The window is spent; replay callers (one process) and live callers
    (another) wait for it. When it frees, every live call goes first, though the
    replay side asks again every 20 ms and the live side only when the window frees."""
    live_side = await budgets(limit=4, window=1.0)
    replay_side = await budgets(limit=4, window=1.0, max_step=0.02, tick=0.02)
    for _ in range(4):
        await live_side.acquire(Priority.LIVE)  # spent for the next second
    order: list[str] = []

    async def call(budget: PostgresRateBudget, priority: Priority) -> None:
        await budget.acquire(priority)
        order.append(priority.name)

    replays = [asyncio.create_task(call(replay_side, Priority.REPLAY)) for _ in range(3)]
    await asyncio.sleep(0.1)  # the replays wait first
    lives = [asyncio.create_task(call(live_side, Priority.LIVE)) for _ in range(3)]
    await asyncio.gather(*replays, *lives)
    assert order == ["LIVE"] * 3 + ["REPLAY"] * 3


@pytest.mark.postgres
async def test_backfill_keeps_the_reserve_that_live_may_use(budgets: MakeBudget) -> None:
    budget = await budgets(limit=10, window=30.0)
    for _ in range(7):
        assert await budget.acquire(Priority.BACKFILL) == 0.0
    # 3 of 10 left: backfill keeps 30 % for others, live and replay go on
    assert await budget.acquire(Priority.REPLAY) == 0.0
    assert await budget.acquire(Priority.LIVE) == 0.0
    backfill = asyncio.create_task(budget.acquire(Priority.BACKFILL))
    await asyncio.sleep(0.3)
    assert not backfill.done()
    backfill.cancel()
    with pytest.raises(asyncio.CancelledError):
        await backfill


@pytest.mark.postgres
async def test_headers_seen_by_one_process_slow_down_the_other(budgets: MakeBudget) -> None:
    seer, other = await budgets(limit=1000), await budgets(limit=1000)
    seer.observe({"ratelimit-limit": "700", "ratelimit-remaining": "0", "ratelimit-reset": "1"})
    await seer.flush()
    started = time.monotonic()
    waited = await other.acquire(Priority.LIVE)
    elapsed = time.monotonic() - started
    assert 0.7 <= elapsed <= 2.0 and waited > 0.5


@pytest.mark.postgres
async def test_remaining_from_headers_is_counted_down_by_every_grant(budgets: MakeBudget) -> None:
    seer, other = await budgets(limit=1000), await budgets(limit=1000)
    seer.observe({"ratelimit-limit": "100", "ratelimit-remaining": "12", "ratelimit-reset": "30"})
    await seer.flush()
    assert await other.acquire(Priority.REPLAY) == 0.0  # 12 > 10 reserved: goes, 11 left
    assert await seer.acquire(Priority.REPLAY) == 0.0  # 11 > 10: goes, 10 left
    replay = asyncio.create_task(other.acquire(Priority.REPLAY))  # 10 <= 10: waits
    await asyncio.sleep(0.3)
    assert not replay.done()
    assert await seer.acquire(Priority.LIVE) == 0.0  # live may spend the reserve
    replay.cancel()
    with pytest.raises(asyncio.CancelledError):
        await replay


@pytest.mark.postgres
async def test_a_429_in_one_process_pauses_all(budgets: MakeBudget) -> None:
    """The client hands a 429's Retry-After to `penalize`; headers read later
    (from calls already in flight) do not lift it."""
    seer, other = await budgets(limit=1000), await budgets(limit=1000)
    seer.penalize(1.0)
    seer.observe({"ratelimit-limit": "700", "ratelimit-remaining": "650"})
    await seer.flush()
    started = time.monotonic()
    await other.acquire(Priority.LIVE)
    assert time.monotonic() - started >= 0.7
    assert await other.acquire(Priority.BACKFILL) == 0.0  # and then it is over


@pytest.mark.postgres
async def test_clients_in_two_processes_wait_out_one_429(budgets: MakeBudget) -> None:
    """Two Zendesk clients on the sandbox, each with its own budget: the first
    gets a 429 with Retry-After: 1, and the second, which got none, waits too."""
    first, second = await budgets(limit=1000), await budgets(limit=1000)
    async with SandboxServer() as sandbox:
        async with httpx.AsyncClient(base_url=sandbox.url) as control:
            rule = {
                "method": "GET",
                "path_prefix": "/api/v2/groups",
                "status": 429,
                "retry_after": 1,
                "times": 1,
            }
            (await control.post("/_sandbox/faults", json={"rules": [rule]})).raise_for_status()
        auth = ApiTokenAuth("triage@example.com", "token")
        async with (
            ZendeskClient(sandbox.url, auth, budget=first) as limited,
            ZendeskClient(sandbox.url, auth, budget=second) as other,
        ):
            refused = asyncio.create_task(limited.list_groups())  # 429, retried after 1 s
            for _ in range(500):  # the 429 is answered
                if limited.stats.rate_limited:
                    break
                await asyncio.sleep(0.01)
            await first.flush()
            started = time.monotonic()
            await other.list_groups()
            assert time.monotonic() - started >= 0.7
            await refused
    assert other.stats.rate_limited == 0 and other.stats.wait_seconds >= 0.7


@pytest.mark.postgres
async def test_endpoint_window_holds_only_calls_counted_against_it(budgets: MakeBudget) -> None:
    seer, other = await budgets(limit=1000), await budgets(limit=1000)
    seer.observe({"Zendesk-RateLimit-tickets-update": "total=100; remaining=0; resets=1"})
    await seer.flush()
    assert await other.acquire(Priority.LIVE) == 0.0  # a read is not held
    started = time.monotonic()
    await other.acquire(Priority.LIVE, ("tickets-update",))
    assert time.monotonic() - started >= 0.7


@pytest.mark.postgres
async def test_older_headers_do_not_overwrite_newer_ones(budgets: MakeBudget) -> None:
    first, second = await budgets(limit=1000), await budgets(limit=1000)
    first.observe({"ratelimit-remaining": "0", "ratelimit-reset": "30"})  # read first
    await asyncio.sleep(0.05)
    second.observe({"ratelimit-remaining": "500", "ratelimit-reset": "30"})  # read later
    await second.flush()
    await first.flush()  # arrives last, but is older
    assert await first.acquire(Priority.BACKFILL) == 0.0


@pytest.mark.postgres
async def test_tables_created_once_by_concurrent_instances(budgets: MakeBudget) -> None:
    instances = await asyncio.gather(*(budgets() for _ in range(5)))
    for budget in instances:
        assert await budget.acquire(Priority.LIVE) == 0.0


async def test_database_down_falls_back_to_the_in_process_budget() -> None:
    budget = PostgresRateBudget(
        "postgresql://postgres@127.0.0.1:1/test", connect_timeout=1.0, retry_db_after=60.0
    )
    try:
        started = time.monotonic()
        assert await budget.acquire(Priority.LIVE) == 0.0
        assert await budget.acquire(Priority.LIVE) == 0.0  # no second connection attempt
        assert time.monotonic() - started < 2.0
        assert budget.degraded and budget.fallbacks == 2
        budget.observe({"ratelimit-remaining": "0", "ratelimit-reset": "0.2"})
        assert await budget.acquire(Priority.LIVE) == pytest.approx(0.2, abs=0.05)
    finally:
        await budget.aclose()


# -- pure parts: no database ------------------------------------------------------


class FakeSettings:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.zendesk_url = "https://acme.zendesk.com"


def test_budget_for_postgres_only() -> None:
    assert budget_for(FakeSettings("sqlite:///./data/triage.db")) is None
    budget = budget_for(
        FakeSettings("postgresql://u:secret@db:5432/triage?schema=ops"), requests_per_minute=400
    )
    assert isinstance(budget, PostgresRateBudget)
    assert budget.scope == "https://acme.zendesk.com"
    assert "secret" not in repr(budget) and "400" in repr(budget)
    target = postgres_target("postgresql+asyncpg://u:secret@db/triage?schema=ops&sslmode=require")
    assert target is not None
    assert (
        target.schema == "ops" and target.dsn == "postgresql://u:secret@db/triage?sslmode=require"
    )
    assert postgres_target("postgresql://db/triage?schema=no-t-an-identifier") is None


def test_headers_read_like_the_in_process_limiter() -> None:
    seen = {
        o.name: o
        for o in read_headers(
            {
                "X-Rate-Limit": "700",
                "X-Rate-Limit-Remaining": "5",
                "Zendesk-RateLimit-tickets-update": "total=100; remaining=0; resets=20",
                "Zendesk-RateLimit-junk": "remaining=lots",
            }
        )
    }
    assert set(seen) == {ACCOUNT, "tickets-update"}
    assert (seen[ACCOUNT].remaining, seen[ACCOUNT].limit, seen[ACCOUNT].resets_in) == (5, 700, 60)
    assert seen["tickets-update"].resets_in == 20


def test_retry_after_is_left_to_penalize() -> None:
    assert read_headers({"Retry-After": "7"}) == []


def test_verdict_reserves_and_outranking() -> None:
    full = WindowState(ACCOUNT, own_limit=10, used=7)
    assert verdict([full], Priority.LIVE).go
    assert verdict([full], Priority.REPLAY).go  # 7 < 10 - 1
    assert not verdict([full], Priority.BACKFILL).go  # 7 >= 10 - 3
    observed = WindowState(
        "tickets-update", observed_remaining=3, observed_limit=10, observed_resets_in=20
    )
    assert verdict([observed], Priority.REPLAY).go
    assert verdict([observed], Priority.BACKFILL).blocking == {"tickets-update": 20}
    outranked = WindowState(ACCOUNT, own_limit=10, used=0, outranked=True)
    assert not verdict([outranked], Priority.REPLAY).go
    held = WindowState(ACCOUNT, own_limit=10, used=0, penalty_in=3.0)
    assert verdict([held], Priority.LIVE).blocking == {ACCOUNT: 3.0}
    tiny = WindowState(ACCOUNT, own_limit=1, used=0)
    assert verdict([tiny], Priority.BACKFILL).go  # a tiny limit never shuts a priority out
