"""Fixtures for the security tests: an in-process sandbox Zendesk over real HTTP
(the service's Zendesk and marketplace clients need a URL) and the service
in-process on a temporary SQLite database, or a fresh PostgreSQL schema."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.core.serving import ThreadedServer
from app.sandbox import SandboxState, create_sandbox_app
from tests.security.harness import ZD_EMAIL, InProcessService, security_settings, sqlite_url

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def sandbox_state() -> SandboxState:
    return SandboxState()


@pytest.fixture(scope="module")
def sandbox(sandbox_state: SandboxState) -> Iterator[ThreadedServer]:
    with ThreadedServer(create_sandbox_app(sandbox_state)) as server:
        yield server


@pytest.fixture
def zd(sandbox: ThreadedServer) -> Iterator[httpx.Client]:
    """The sandbox's own API and `/_sandbox` controls (faults are cleared afterwards)."""
    with httpx.Client(base_url=sandbox.url, auth=(f"{ZD_EMAIL}/token", "x"), timeout=10) as client:
        yield client
        client.delete("/_sandbox/faults")


@pytest.fixture(scope="module")
def module_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_url(tmp_path_factory.mktemp("security") / "triage.db")


@pytest.fixture(scope="module")
def intake(sandbox: ThreadedServer, module_db: str) -> Iterator[InProcessService]:
    """Webhook intake and admin API without a worker: for fast, many-request tests."""
    settings = security_settings(sandbox.url, module_db)
    with InProcessService.create(settings, run_worker=False) as service:
        yield service


@pytest.fixture
def service_factory(
    sandbox: ThreadedServer, tmp_path: Path
) -> Iterator[Callable[..., InProcessService]]:
    """Start services on `tmp_path`'s database (worker on); all stopped afterwards."""
    started: list[InProcessService] = []

    def start(
        *, database_url: str | None = None, run_worker: bool = True, clock: Any = None, **kw: Any
    ) -> InProcessService:
        url = database_url or sqlite_url(tmp_path / "triage.db")
        settings = security_settings(sandbox.url, url, **kw)
        service = InProcessService.create(settings, run_worker=run_worker, clock=clock)
        started.append(service.__enter__())
        return service

    yield start
    for service in reversed(started):
        service.__exit__(None, None, None)


async def _postgres(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A database URL: a SQLite file in `folder`, or a fresh PostgreSQL schema
    (dropped afterwards; the test is skipped when the server does not answer)."""
    if backend == "sqlite":
        yield sqlite_url(folder / "triage.db")
        return
    schema = f"sec_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_postgres(f'CREATE SCHEMA "{schema}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc!r}")
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        asyncio.run(_postgres(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on SQLite and on PostgreSQL."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def backend_intake(
    request: pytest.FixtureRequest,
    sandbox: ThreadedServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, InProcessService]]:
    """(backend name, intake without worker) for tests parametrized `indirect` over
    "sqlite" / "postgres"; one service per backend and module."""
    backend: str = request.param
    with database(backend, tmp_path_factory.mktemp(backend)) as url:
        settings = security_settings(sandbox.url, url)
        with InProcessService.create(settings, run_worker=False) as service:
            yield backend, service


@pytest.fixture(scope="module")
def backend_service(
    request: pytest.FixtureRequest,
    sandbox: ThreadedServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, InProcessService]]:
    """Like `backend_intake`, with the worker running (2 attempts, then a dead letter)."""
    backend: str = request.param
    with database(backend, tmp_path_factory.mktemp(f"{backend}-worker")) as url:
        settings = security_settings(sandbox.url, url, max_attempts=2)
        with InProcessService.create(settings) as service:
            yield backend, service
