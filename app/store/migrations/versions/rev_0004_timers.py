"""timers: one durable timer per (ticket, deadline kind)

Revision ID: 0004_timers
Revises: 0003_lease_expiries
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_timers"
down_revision: str | Sequence[str] | None = "0003_lease_expiries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in app/store/tables.py.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _ts("fire_at"),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("then", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.String(255), nullable=False),
        sa.Column("decision_id", sa.BigInteger(), nullable=True),
        _ts("fired_at", nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        sa.UniqueConstraint("ticket_id", "kind", name="uq_timers_ticket_kind"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_timers_due", "timers", ["fired_at", "fire_at"])
    op.create_index("ix_timers_fire_at", "timers", ["fire_at"])


def downgrade() -> None:
    op.drop_index("ix_timers_fire_at", table_name="timers")
    op.drop_index("ix_timers_due", table_name="timers")
    op.drop_table("timers")
