"""Database URLs as the service is configured with them, turned into adapter settings.

Accepted:
- ``sqlite:///./data/triage.db`` (relative to the working directory),
  ``sqlite:////abs/path.db``, also spelled ``sqlite+aiosqlite://``. Query option
  ``busy_timeout_ms`` (default 5000).
- ``postgresql://user@host:port/db``, ``postgres://…``, ``postgresql+asyncpg://…``.
  Query option ``schema`` (tables live in that schema, created if missing);
  other query options are passed to the asyncpg dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

DEFAULT_BUSY_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    path: Path
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    url: URL  # postgresql+asyncpg://…, without our own query options
    schema: str | None = None


def parse_database_url(database_url: str) -> SqliteTarget | PostgresTarget:
    """Raise ValueError for anything the store cannot use."""
    try:
        url = make_url(database_url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise ValueError(f"not a database URL: {_redact(database_url)}") from exc
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite":
        if driver not in ("", "aiosqlite", "pysqlite"):
            raise ValueError(f"unsupported SQLite driver {driver!r} (the store uses aiosqlite)")
        return _sqlite_target(url)
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "asyncpg"):
            raise ValueError(f"unsupported PostgreSQL driver {driver!r} (the store uses asyncpg)")
        return _postgres_target(url)
    raise ValueError(
        f"unsupported database URL scheme {url.drivername!r}: use sqlite or postgresql"
    )


def _sqlite_target(url: URL) -> SqliteTarget:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise ValueError(
            "the event store needs a SQLite file (in-memory databases are not durable)"
        )
    query = dict(url.query)
    busy = query.pop("busy_timeout_ms", str(DEFAULT_BUSY_TIMEOUT_MS))
    if query:
        raise ValueError(f"unknown SQLite URL options: {sorted(query)}")
    if not isinstance(busy, str) or not busy.isdigit():
        raise ValueError(f"busy_timeout_ms must be a whole number of milliseconds, got {busy!r}")
    return SqliteTarget(path=Path(database), busy_timeout_ms=int(busy))


def _postgres_target(url: URL) -> PostgresTarget:
    query = dict(url.query)
    schema = query.pop("schema", None)
    if schema is not None and (not isinstance(schema, str) or not schema.isidentifier()):
        raise ValueError(f"schema must be a plain identifier, got {schema!r}")
    url = url.set(drivername="postgresql+asyncpg", query=query)
    return PostgresTarget(url=url, schema=schema)


def _redact(database_url: str) -> str:
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable>"
