"""Fixtures of the fault suite: the e2e fixtures (`zd`, `service_factory`, `api`),
over a sandbox that also times every request and exposes its state.

Overriding `sandbox` here is enough: the imported e2e fixtures ask for it by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.conftest import api, service, service_factory, zd  # noqa: F401  (fixtures)
from tests.faults.harness import POSTGRES_URL, FaultSandbox, pg_run

if TYPE_CHECKING:
    import asyncpg


@pytest.fixture
def sandbox() -> Iterator[FaultSandbox]:
    server = FaultSandbox().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the PostgreSQL test database, dropped afterwards; skips
    the test when the server does not answer."""

    async def ping(conn: asyncpg.Connection) -> None:
        await conn.fetchval("SELECT 1")

    try:
        pg_run(ping)
    except Exception as exc:
        where = make_url(POSTGRES_URL)
        pytest.skip(f"PostgreSQL not reachable at {where.host}:{where.port or 5432}: {exc!r}")
    schema = f"faults_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:

        async def drop(conn: asyncpg.Connection) -> None:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        pg_run(drop)
