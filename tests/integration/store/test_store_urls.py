"""Database URLs, and which errors mean "try later" (no database needed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from app.store import PostgresEventStore, SqliteEventStore, create_store
from app.store.urls import PostgresTarget, SqliteTarget, parse_database_url


def test_sqlite_urls() -> None:
    assert parse_database_url("sqlite:///./data/triage.db") == SqliteTarget(
        Path("./data/triage.db")
    )
    assert parse_database_url("sqlite:////abs/path.db") == SqliteTarget(Path("/abs/path.db"))
    assert parse_database_url("sqlite+aiosqlite:////abs/p.db?busy_timeout_ms=250") == (
        SqliteTarget(Path("/abs/p.db"), busy_timeout_ms=250)
    )
    assert isinstance(create_store("sqlite:///x.db"), SqliteEventStore)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user@db.example:5433/triage",
        "postgres://user@db.example:5433/triage",
        "postgresql+asyncpg://user@db.example:5433/triage",
    ],
)
def test_postgres_urls(url: str) -> None:
    target = parse_database_url(url)
    assert isinstance(target, PostgresTarget)
    assert target.url.render_as_string() == "postgresql+asyncpg://user@db.example:5433/triage"
    assert target.schema is None
    assert isinstance(create_store(url), PostgresEventStore)


def test_postgres_schema_option() -> None:
    target = parse_database_url("postgresql://u:secret@h/db?schema=triage&ssl=require")
    assert isinstance(target, PostgresTarget)
    assert target.schema == "triage"
    assert dict(target.url.query) == {"ssl": "require"}
    assert target.url.password == "secret"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///:memory:",
        "sqlite://",
        "sqlite:///x.db?busy_timeout_ms=soon",
        "sqlite:///x.db?journal=off",
        "mysql://u@h/db",
        "postgresql+psycopg2://u@h/db",
        "postgresql://u@h/db?schema=a;drop",
        "not a url",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_database_url(url)


def test_postgres_errors_that_mean_try_later() -> None:
    store = PostgresEventStore("postgresql://u@h/db")
    assert store._unavailable(ConnectionRefusedError("refused")) is not None
    assert store._unavailable(TimeoutError()) is not None
    assert store._unavailable(asyncpg.TooManyConnectionsError("too many")) is not None
    assert store._unavailable(asyncpg.CannotConnectNowError("starting up")) is not None
    assert store._unavailable(asyncpg.UniqueViolationError("dup")) is None
    assert store._unavailable(ValueError("bug")) is None

    class Wrapped(Exception):
        pgcode = "53100"  # disk full

    wrapped = sa_exc.DBAPIError("INSERT", None, Wrapped("could not extend file"))
    assert store._unavailable(wrapped) is not None
    syntax = type("Syntax", (Exception,), {"pgcode": "42601"})("syntax error")
    assert store._unavailable(sa_exc.DBAPIError("SELECT", None, syntax)) is None


def test_sqlite_errors_that_mean_try_later(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "x.db")

    def operational(message: str) -> sa_exc.OperationalError:
        return sa_exc.OperationalError("INSERT", None, sqlite3.OperationalError(message))

    for message in (
        "database is locked",
        "database or disk is full",
        "disk I/O error",
        "attempt to write a readonly database",
        "unable to open database file",
    ):
        unavailable = store._unavailable(operational(message))
        assert unavailable is not None and message in str(unavailable)
    assert store._unavailable(operational('near "SELEC": syntax error')) is None
    assert store._unavailable(PermissionError("read-only folder")) is not None
