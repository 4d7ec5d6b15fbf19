"""Fixtures: the same store tests run on SQLite (a temp file) and PostgreSQL.

PostgreSQL: 127.0.0.1:5432, user postgres, database `test` (override with
TRIAGE_TEST_POSTGRES_URL). Each test gets a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.store import SqlEventStore
from tests.integration.store.store_test_helpers import POSTGRES_URL, Backend

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def postgres_database() -> AsyncIterator[Backend]:
    """A fresh schema in the test database (skips when the server does not answer)."""
    try:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        where = make_url(POSTGRES_URL)
        pytest.skip(f"PostgreSQL not reachable at {where.host}:{where.port or 5432}: {exc!r}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    backend = Backend("postgres", f"{POSTGRES_URL}?schema={schema}")
    try:
        yield backend
    finally:
        try:
            await backend.close_all()
        finally:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await admin.close()


@asynccontextmanager
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Backend]:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'data' / 'triage.db'}")
    try:
        yield backend
    finally:
        await backend.close_all()


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, anyio_backend: str
) -> AsyncIterator[Backend]:
    """Each test runs once on SQLite and once on PostgreSQL."""
    database = sqlite_database(tmp_path) if request.param == "sqlite" else postgres_database()
    async with database as backend:
        yield backend


@pytest.fixture
async def sqlite_backend(tmp_path: Path, anyio_backend: str) -> AsyncIterator[Backend]:
    async with sqlite_database(tmp_path) as backend:
        yield backend


@pytest.fixture
async def postgres_backend(anyio_backend: str) -> AsyncIterator[Backend]:
    """For tests marked `postgres` that are about PostgreSQL only."""
    async with postgres_database() as backend:
        yield backend


@pytest.fixture
async def store(backend: Backend) -> SqlEventStore:
    return await backend.open()
