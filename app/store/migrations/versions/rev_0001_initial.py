"""events, decisions and kv

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in app/store/tables.py (migrations must not change
# when the runtime model does).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
STATUSES = ("pending", "leased", "done", "dead", "discarded", "ignored")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("received_at"),
        _ts("available_at"),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _ts("lease_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("dedupe_key", name="uq_events_dedupe_key"),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
            name="ck_events_status",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_claim", "events", ["status", "priority", "available_at", "id"])
    op.create_index("ix_events_lease", "events", ["status", "lease_until"])
    op.create_index("ix_events_status_id", "events", ["status", "id"])
    op.create_index("ix_events_ticket", "events", ["ticket_id", "status", "id"])

    op.create_table(
        "decisions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("policy_version", sa.String(255), nullable=False),
        sa.Column("facts", JSON, nullable=False),
        sa.Column("decision", JSON, nullable=False),
        sa.Column("writes", JSON, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        _ts("decided_at"),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_decisions_event_id", ondelete="SET NULL"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_decisions_ticket", "decisions", ["ticket_id", "decided_at"])
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])

    op.create_table(
        "kv",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_kv"),
    )


def downgrade() -> None:
    op.drop_table("kv")
    op.drop_index("ix_decisions_decided_at", table_name="decisions")
    op.drop_index("ix_decisions_ticket", table_name="decisions")
    op.drop_table("decisions")
    for name in ("ix_events_ticket", "ix_events_status_id", "ix_events_lease"):
        op.drop_index(name, table_name="events")
    op.drop_index("ix_events_claim", table_name="events")
    op.drop_table("events")
