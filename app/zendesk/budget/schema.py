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

from sqlalchemy.engine import make_url

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
    the store reports a bad URL itself). Accepts what the store accepts:
    `postgresql://`, `postgres://`, `postgresql+asyncpg://`, and `?schema=`."""
    try:
        url = make_url(database_url)
    except Exception:  # sqlalchemy.exc.ArgumentError
        return None
    backend, _, driver = url.drivername.partition("+")
    if backend not in ("postgresql", "postgres") or driver not in ("", "asyncpg"):
        return None
    query = dict(url.query)
    schema = query.pop("schema", None)
    if schema is not None and (not isinstance(schema, str) or not schema.isidentifier()):
        return None
    for option in _SQLALCHEMY_ONLY:
        query.pop(option, None)
    plain = url.set(drivername="postgresql", query=query)
    return PostgresTarget(
        dsn=plain.render_as_string(hide_password=False),
        schema=schema if isinstance(schema, str) else None,
        redacted=plain.render_as_string(hide_password=True),
    )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
