"""Fixtures for the Zendesk client tests: respx at the transport boundary, fake time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx

from app.zendesk import ApiTokenAuth, RateLimiter, ZendeskAuth, ZendeskClient
from tests.integration.zendesk.zendesk_fakes import BASE, FakeTime, MakeClient


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def zd_api() -> Iterator[respx.MockRouter]:
    """Zendesk at the transport boundary; every declared route must be called."""
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
def make_client(fake_time: FakeTime) -> MakeClient:
    """Build a client on fake time; keyword arguments override the defaults."""

    def make(auth: ZendeskAuth | None = None, **overrides: Any) -> ZendeskClient:
        options: dict[str, Any] = {
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "budget": RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep),
        }
        options.update(overrides)
        return ZendeskClient(
            BASE, auth or ApiTokenAuth("bot@example.com", "s3cr3t-token"), **options
        )

    return make
