"""PostgreSQL adapter (asyncpg): several processes or machines share the work.

- Claim: one READ COMMITTED transaction. (1) read the first claimable event of
  each ticket, (2) take ``pg_try_advisory_xact_lock`` on those tickets (skip
  the ones another claimer holds), (3) read again, now under the ticket locks,
  with ``FOR UPDATE SKIP LOCKED``, (4) lease. Step 3 is a new statement, so its
  snapshot sees every lease committed by whoever held a ticket lock before us;
  since every claimer of a ticket holds its lock until commit, no two events
  of one ticket are ever leased at once. Events without a ticket rely on
  SKIP LOCKED alone.
- `accept` (and `release`, `retry_dead`) send ``NOTIFY triage_events`` in their
  transaction; `wait_for_work` LISTENs on a dedicated connection.
- Connection errors, timeouts, and server states that mean "not now"
  (SQLSTATE classes 08, 53, 57, 58; serialization failures, deadlocks, lock
  timeouts) raise `StoreUnavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import BigInteger, and_, bindparam, or_, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.core import textsafe
from app.store.base import StoreUnavailable
from app.store.migrate import upgrade_to_head
from app.store.sql_store import (
    InsertFactory,
    SqlEventStore,
    claim_candidates,
    lockable_candidates,
)

log = logging.getLogger("app.store.postgres")

CHANNEL = "triage_events"
APPLICATION_NAME = "dispute-triage"  # pg_stat_activity.application_name
#: (classid, objid) of the advisory lock that serializes migrations
MIGRATION_LOCK = (0x74726961, 1)  # "tria"
#: ticket locks use the single-bigint key space, namespaced by hashing
TICKET_LOCK_PREFIX = "triage_events:ticket:"

_LOCK_TICKETS = text(
    "SELECT t FROM unnest(:tickets) AS t "
    "WHERE pg_try_advisory_xact_lock(hashtextextended(:prefix || t::text, 0))"
).bindparams(bindparam("tickets", type_=postgresql.ARRAY(BigInteger())))

#: connect() arguments the SQLAlchemy adapter consumes itself
_SQLALCHEMY_CONNECT_ARGS = ("prepared_statement_cache_size", "prepared_statement_name_func")

_UNAVAILABLE_CLASSES = {"08", "53", "57", "58"}
_UNAVAILABLE_CODES = {"40001", "40P01", "55P03"}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresEventStore(SqlEventStore):
    insert: InsertFactory = staticmethod(postgresql.insert)

    def __init__(
        self,
        url: URL | str,
        *,
        schema: str | None = None,
        pool_size: int = 5,
        max_overflow: int = 10,
        connect_timeout: float = 10.0,
        command_timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self.url = make_url(url).set(drivername="postgresql+asyncpg")
        self.schema = schema
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self._listener: asyncpg.Connection | None = None

    def __repr__(self) -> str:
        return f"PostgresEventStore({self.url.render_as_string(hide_password=True)!r})"

    # ------------------------------------------------------------------ engine

    def _server_settings(self) -> dict[str, str]:
        settings = {"application_name": APPLICATION_NAME}
        if self.schema:
            settings["search_path"] = _quote_ident(self.schema)
        return settings

    def _create_engine(self) -> AsyncEngine:
        return create_async_engine(
            self.url,
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
            pool_timeout=self.connect_timeout,
            pool_pre_ping=True,  # replace connections that died (server restart)
            isolation_level="READ COMMITTED",  # the claim relies on per-statement snapshots
            json_serializer=textsafe.dumps,  # jsonb refuses NUL, lone surrogates, NaN
            connect_args={
                "timeout": self.connect_timeout,
                "command_timeout": self.command_timeout,
                "server_settings": self._server_settings(),
            },
        )

    async def _connect_raw(self) -> asyncpg.Connection:
        """A plain asyncpg connection (outside the pool) with the engine's settings."""
        _, params = self.engine.dialect.create_connect_args(self.url)
        for sqlalchemy_only in _SQLALCHEMY_CONNECT_ARGS:
            params.pop(sqlalchemy_only, None)
        params.update(timeout=self.connect_timeout, server_settings=self._server_settings())
        return await asyncpg.connect(**params)

    @asynccontextmanager
    async def _begin_write(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    async def _migrate(self) -> None:
        if self.schema:
            # before the engine's first connection, so its default schema exists
            raw = await self._connect_raw()
            try:
                exists = "SELECT 1 FROM pg_namespace WHERE nspname = $1"
                if await raw.fetchval(exists, self.schema) is None:
                    async with raw.transaction():
                        await raw.execute("SELECT pg_advisory_xact_lock($1, $2)", *MIGRATION_LOCK)
                        if await raw.fetchval(exists, self.schema) is None:
                            await raw.execute(f"CREATE SCHEMA {_quote_ident(self.schema)}")
            finally:
                await raw.close()
        async with self._write() as conn:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:a, :b)"),
                {"a": MIGRATION_LOCK[0], "b": MIGRATION_LOCK[1]},
            )
            await conn.run_sync(upgrade_to_head)

    async def _close_extra(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(Exception):
                await listener.close(timeout=2)

    # ------------------------------------------------------------------ claiming

    async def _pick_claimable(
        self, conn: AsyncConnection, *, limit: int, now: datetime
    ) -> list[int]:
        first = claim_candidates(now, limit * 2)
        seen = (await conn.execute(first)).all()
        if not seen:
            return []
        tickets = sorted({int(row.ticket_id) for row in seen if row.ticket_id is not None})
        loose = [int(row.id) for row in seen if row.ticket_id is None]
        locked: list[int] = []
        if tickets:
            result = await conn.execute(
                _LOCK_TICKETS, {"tickets": tickets, "prefix": TICKET_LOCK_PREFIX}
            )
            locked = [int(t) for t in result.scalars()]
        if not locked and not loose:
            return []
        query, e = lockable_candidates(now, limit)
        scope = []
        if locked:
            scope.append(e.c.ticket_id.in_(locked))
        if loose:
            scope.append(and_(e.c.ticket_id.is_(None), e.c.id.in_(loose)))
        query = query.where(or_(*scope)).with_for_update(of=e, skip_locked=True)
        return [int(row.id) for row in (await conn.execute(query)).all()]

    # ------------------------------------------------------------------ wake-ups

    async def _announce_work(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    def _on_notify(self, *_args: Any) -> None:
        self._work.set()

    async def _listen(self) -> bool:
        """Make sure we LISTEN; True when the listener was (re)started just now."""
        if self._listener is not None and not self._listener.is_closed():
            return False
        await self._close_extra()
        listener = await self._connect_raw()
        try:
            await listener.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            await listener.close(timeout=2)
            raise
        self._listener = listener
        return True

    async def wait_for_work(self, timeout: float) -> None:  # noqa: ASYNC109 - the interface
        """Return on NOTIFY triage_events (from any process) or after `timeout`.

        When the listener has just been (re)started, returns at once: anything
        announced while nobody listened would otherwise be missed.
        """
        if self._engine is None:
            raise RuntimeError("the store is not open")
        try:
            if await self._listen():
                self._work.clear()
                return
        except Exception as exc:  # fall back to polling; claim() reports the outage
            log.warning("cannot LISTEN %s, polling instead: %s", CHANNEL, exc)
        await self._wait_for_local_work(timeout)

    # ------------------------------------------------------------------ errors

    def _unavailable(self, exc: BaseException) -> StoreUnavailable | None:
        if isinstance(exc, sa_exc.TimeoutError):  # connection pool exhausted
            return StoreUnavailable(f"PostgreSQL unavailable: {exc}")
        if isinstance(exc, sa_exc.DBAPIError):
            if exc.connection_invalidated:
                return StoreUnavailable(f"PostgreSQL connection lost: {exc.orig}")
            # the asyncpg error the adapter wrapped, if any
            chain = [exc.orig, getattr(exc.orig, "__cause__", None)]
        else:
            chain = [exc]  # errors while connecting arrive unwrapped
        for error in chain:
            if _means_unavailable(error):
                return StoreUnavailable(f"PostgreSQL unavailable: {error!r}")
        return None


def _means_unavailable(error: object) -> bool:
    """Network trouble, timeouts, and server states that mean "not now": SQLSTATE
    classes 08 (connection), 53 (resources: disk full, too many connections),
    57 (shutdown, cannot connect now), 58 (I/O); serialization failure,
    deadlock, lock timeout."""
    if isinstance(error, (OSError, TimeoutError, asyncpg.PostgresConnectionError)):
        return True
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(code, str) and (
        code[:2] in _UNAVAILABLE_CLASSES or code in _UNAVAILABLE_CODES
    )
