"""Alembic environment of the event store.

At runtime `app.store.migrate.upgrade_to_head` hands over an open connection
(inside a transaction, under the store's migration lock) in
`config.attributes["connection"]`. From the command line (developers), pass the
database URL with ``-x url=...`` or ``TRIAGE_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.store.tables import metadata
from app.store.urls import PostgresTarget, parse_database_url

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER via table copy
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def _cli_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "TRIAGE_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database with -x url=... or TRIAGE_DATABASE_URL")
    target = parse_database_url(url)
    if isinstance(target, PostgresTarget):
        if target.schema:
            raise SystemExit("?schema= is not supported from the alembic command line")
        return target.url.render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{target.path}"


async def _run_cli_online() -> None:
    engine = create_async_engine(_cli_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


given: Connection | None = config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=_cli_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif given is not None:
    _run(given)
else:
    asyncio.run(_run_cli_online())
