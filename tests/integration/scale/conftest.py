"""Fixtures for the scale tests: PostgreSQL at 127.0.0.1:5432 (database `test`,
override with TRIAGE_TEST_POSTGRES_URL), one fresh schema per test, dropped after."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.scale.scale_helpers import fresh_schema


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def pg_url(anyio_backend: str) -> AsyncIterator[str]:
    """`postgresql://…/test?schema=<fresh>` (skips when no server answers)."""
    async with fresh_schema("budget") as url:
        yield url
