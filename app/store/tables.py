"""The schema as SQLAlchemy Core tables: what the queries use at runtime.

The migrations in `migrations/versions/` create the same tables; a test checks
that the two agree. Datetimes are stored as UTC: `timestamptz` on PostgreSQL,
naive ISO text (always UTC, fixed width, so it sorts) on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from app.store.base import EventStatus

NAMING = {
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: BIGINT identity on PostgreSQL; INTEGER PRIMARY KEY (the rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")
#: JSONB on PostgreSQL, JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")

STATUS_VALUES = tuple(s.value for s in EventStatus)
STATUS_CHECK = "status IN (" + ", ".join(f"'{v}'" for v in STATUS_VALUES) + ")"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime given to the store: {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("source", String(64), nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("ticket_id", BigInteger, nullable=True),
    Column("payload", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", SmallInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # failed attempts
    # leases that ran out (the worker died with the event); never a failure
    Column("lease_expiries", Integer, nullable=False, default=0, server_default="0"),
    Column("received_at", UTCDateTime, nullable=False),
    Column("available_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(STATUS_CHECK, name="status"),
    sqlite_autoincrement=True,  # ids never reused: `before_id` paging stays stable
)
# claim: pending by (priority, available_at, id); expired leases by lease_until
Index("ix_events_claim", events.c.status, events.c.priority, events.c.available_at, events.c.id)
Index("ix_events_lease", events.c.status, events.c.lease_until)
# listing newest first by status; a ticket's events (per-ticket rule, listing)
Index("ix_events_status_id", events.c.status, events.c.id)
Index("ix_events_ticket", events.c.ticket_id, events.c.status, events.c.id)
# a time range of the console's inbox, turned into an id range
Index("ix_events_received_at", events.c.received_at)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column(
        "event_id",
        BigInteger,
        ForeignKey("events.id", ondelete="SET NULL", name="fk_decisions_event_id"),
        nullable=True,
    ),
    Column("policy_version", String(255), nullable=False),
    Column("facts", Json, nullable=False),
    Column("decision", Json, nullable=False),
    Column("writes", Json, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
Index("ix_decisions_ticket", decisions.c.ticket_id, decisions.c.decided_at)
Index("ix_decisions_decided_at", decisions.c.decided_at)

kv = Table(
    "kv",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One durable timer per (ticket, deadline kind) while a decision depends on a clock
# (docs/playbook.md, "Clocks"). Firing turns it into an event of priority TIMER in the
# same transaction (`fired_at`, `event_id`); `generation` counts re-armings (a moved
# due day) and names the event's dedupe key `timer:<id>:<generation>`.
timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("fire_at", UTCDateTime, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("what", Text, nullable=False),
    Column("then", Text, nullable=False),
    Column("policy_version", String(255), nullable=False),
    Column("decision_id", BigInteger, nullable=True),
    Column("fired_at", UTCDateTime, nullable=True),
    Column("event_id", BigInteger, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("ticket_id", "kind", name="uq_timers_ticket_kind"),
    sqlite_autoincrement=True,
)
# the poller: unfired timers by due moment; /admin/timers and the overdue gauge
Index("ix_timers_due", timers.c.fired_at, timers.c.fire_at)
Index("ix_timers_fire_at", timers.c.fire_at)
#: who did what in the ops console, and when (append-only)
console_audit = Table(
    "console_audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("who", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    sqlite_autoincrement=True,
)
