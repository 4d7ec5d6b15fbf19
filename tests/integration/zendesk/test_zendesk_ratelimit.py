"""The rate budget: header reading, slowing down, live before replay."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx

from app.zendesk import Priority, RateLimiter
from app.zendesk.ratelimit import ACCOUNT, parse_limit_header
from tests.integration.zendesk.zendesk_fakes import FakeTime, MakeClient, json_response, ticket

pytestmark = pytest.mark.anyio


def limiter(fake_time: FakeTime, **kwargs: Any) -> RateLimiter:
    return RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep, **kwargs)


async def test_client_low_remaining_slows_replay_until_reset(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    headers = {"ratelimit-limit": "100", "ratelimit-remaining": "5", "ratelimit-reset": "30"}
    route = zd_api.get(path__regex=r"/api/v2/tickets/\d+").mock(
        return_value=json_response(200, {"ticket": ticket(1)}, **headers)
    )
    async with make_client() as zd:
        await zd.get_ticket(1)  # learns: 5 left of 100, reset in 30 s
        await zd.get_ticket(2, priority=Priority.LIVE)  # live: no wait
        assert fake_time.sleeps == []
        await zd.get_ticket(3, priority=Priority.REPLAY)  # replay keeps 10 % in reserve
    assert fake_time.sleeps == [5.0] * 6  # waited the 30 s to the reset, in steps
    assert zd.stats.wait_seconds == 30.0
    assert route.call_count == 3


async def test_client_budget_exhausted_live_goes_before_replay(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    order: list[int] = []

    def answer(request: httpx.Request, ticket_id: str) -> httpx.Response:
        order.append(int(ticket_id))
        left = "0" if ticket_id == "1" else "50"
        return json_response(
            200,
            {"ticket": ticket(int(ticket_id))},
            **{"ratelimit-remaining": left, "ratelimit-reset": "10"},
        )

    zd_api.get(path__regex=r"/api/v2/tickets/(?P<ticket_id>\d+)").mock(side_effect=answer)
    async with make_client() as zd:
        await zd.get_ticket(1)  # budget now exhausted for 10 s
        fake_time.auto = False
        replay = asyncio.create_task(zd.get_ticket(2, priority=Priority.REPLAY))
        await fake_time.settle()
        live = asyncio.create_task(zd.get_ticket(3, priority=Priority.LIVE))
        await fake_time.settle()
        assert order == [1] and fake_time.waiting == 2  # both wait for the reset
        await fake_time.advance(5)  # past the first steps, not yet the reset
        await fake_time.advance(5.5)
        await fake_time.advance(1)
        await asyncio.gather(replay, live)
    assert order == [1, 3, 2]


async def test_rate_limiter_reserve_lets_live_pass_and_holds_backfill(fake_time: FakeTime) -> None:
    budget = limiter(fake_time)
    budget.observe(
        {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "150", "ratelimit-reset": "20"}
    )
    assert await budget.acquire(Priority.LIVE) == 0.0
    assert await budget.acquire(Priority.REPLAY) == 0.0  # 148 > 70 reserved
    assert await budget.acquire(Priority.BACKFILL) == 20.0  # 147 <= 210 reserved


async def test_rate_limiter_counts_down_locally_between_responses(fake_time: FakeTime) -> None:
    budget = limiter(fake_time)
    budget.observe({"ratelimit-limit": "10", "ratelimit-remaining": "2", "ratelimit-reset": "60"})
    assert await budget.acquire(Priority.LIVE) == 0.0
    assert await budget.acquire(Priority.LIVE) == 0.0
    assert budget.windows[ACCOUNT].remaining == 0
    assert await budget.acquire(Priority.LIVE) == 60.0  # the third waits for the reset


async def test_rate_limiter_tickets_update_window_holds_updates_only(fake_time: FakeTime) -> None:
    budget = limiter(fake_time)
    budget.observe({"Zendesk-RateLimit-tickets-update": "total=100; remaining=0; resets=20"})
    assert await budget.acquire(Priority.LIVE) == 0.0  # a read is not held
    assert await budget.acquire(Priority.LIVE, ("tickets-update",)) == 20.0


async def test_rate_limiter_reset_passed_restores_budget(fake_time: FakeTime) -> None:
    budget = limiter(fake_time)
    budget.observe({"ratelimit-remaining": "0", "ratelimit-reset": "10"})
    fake_time.now += 11
    assert await budget.acquire(Priority.BACKFILL) == 0.0


async def test_rate_limiter_remaining_without_reset_waits_default_window(
    fake_time: FakeTime,
) -> None:
    budget = limiter(fake_time, default_reset=60.0, max_step=60.0)
    budget.observe({"X-Rate-Limit-Remaining": "0"})
    assert await budget.acquire(Priority.LIVE) == 60.0


async def test_rate_limiter_junk_headers_ignored(fake_time: FakeTime) -> None:
    budget = limiter(fake_time)
    budget.observe({"ratelimit-remaining": "lots", "zendesk-ratelimit-x": "remaining=abc"})
    assert budget.windows == {}
    assert await budget.acquire(Priority.BACKFILL) == 0.0


def test_parse_limit_header_fields_parsed_and_junk_skipped() -> None:
    assert parse_limit_header("total=30; remaining=29; resets=60") == {
        "total": 30.0,
        "remaining": 29.0,
        "resets": 60.0,
    }
    assert parse_limit_header("total=x; junk; remaining=3") == {"remaining": 3.0}
