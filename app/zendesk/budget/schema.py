"""Where the shared budget lives: the service's PostgreSQL database (same schema
as the event store), in three small tables created idempotently at start.

- `zendesk_rate_windows`: one row per (scope, window): the row lock that
  serializes grants, the latest Zendesk headers any process observed, and (on
  the account row) until when a 429's Retry-After holds every call.
- `zendesk_rate_grants`: the sliding log of calls granted (own limits only),
  purged as entries leave the window.
- `zendesk_rate_waiters`: who waits on which window at which priority, until
  when (an entry outlives a crashed process by a few seconds at most).

`scope` keeps apart the budgets of several Zendesk accounts in one database
(it is the account's base URL).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store.urls import PostgresTarget as StorePostgresTarget
from app.store.urls import parse_database_url

#: advisory lock (single bigint key space, hashed) serializing the DDL below
DDL_LOCK_KEY = "dispute-triage:zendesk_budget:ddl"
#: connect() options the SQLAlchemy URL may carry that asyncpg must not see
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")

DDL = (
    """
    CREATE TABLE IF NOT EXISTS zendesk_rate_windows (
        scope text NOT NULL,
        name text NOT NULL,
        observed_remaining integer,
        observed_limit integer,
        observed_reset_at timestamptz,
        observed_at timestamptz,
        penalty_until timestamptz,
        CONSTRAINT pk_zendesk_rate_windows PRIMARY KEY (scope, name)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS zendesk_rate_grants (
        scope text NOT NULL,
        name text NOT NULL,
        granted_at timestamptz NOT NULL
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS ix_zendesk_rate_grants
        ON zendesk_rate_grants (scope, name, granted_at)
    """,
    """
    CREATE TABLE IF NOT EXISTS zendesk_rate_waiters (
        scope text NOT NULL,
        name text NOT NULL,
        waiter text NOT NULL,
        priority smallint NOT NULL,
        until timestamptz NOT NULL,
        CONSTRAINT pk_zendesk_rate_waiters PRIMARY KEY (scope, name, waiter)
    )
    """,
)


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    dsn: str  # postgresql://… for asyncpg (password included: never log it)
    schema: str | None
    redacted: str  # for logs and repr


def postgres_target(database_url: str) -> PostgresTarget | None:
    """The PostgreSQL database behind `DATABASE_URL`; None for SQLite (or junk:
    the store reports a bad URL itself). The URL is read by the store's one parser
    (`app/store/urls.py`), so the budget accepts exactly what the store accepts."""
    try:
        target = parse_database_url(database_url)
    except ValueError:
        return None
    if not isinstance(target, StorePostgresTarget):
        return None
    query = dict(target.url.query)
    for option in _SQLALCHEMY_ONLY:
        query.pop(option, None)
    plain = target.url.set(drivername="postgresql", query=query)
    return PostgresTarget(
        dsn=plain.render_as_string(hide_password=False),
        schema=target.schema,
        redacted=plain.render_as_string(hide_password=True),
    )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
