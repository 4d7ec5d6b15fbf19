"""Migrations: head on open, idempotent, and the same schema as `tables.py`."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from app.store.migrate import MIGRATIONS_DIR, alembic_config, current_revision
from app.store.tables import metadata
from tests.integration.store.store_test_helpers import Backend, new_event

pytestmark = pytest.mark.anyio


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_open_runs_migrations_to_head_and_twice_is_harmless(backend: Backend) -> None:
    first = await backend.open()
    accepted = await first.accept(new_event("kept"))
    await first.close()

    again = await backend.open()  # upgrade head on an up-to-date database
    also = await backend.open()
    assert (await again.get_event(accepted.event_id)) is not None
    assert (await also.accept(new_event("kept"))).duplicate
    async with again.engine.connect() as conn:
        assert await conn.run_sync(current_revision) == _head()
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"events", "decisions", "kv", "timers", "alembic_version"} <= tables


async def test_migrations_match_the_runtime_tables(backend: Backend) -> None:
    store = await backend.open()

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(context, metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


def test_migrations_ship_with_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert _head() == "0004_timers"  # after 0003_lease_expiries: timers (the case clock)
