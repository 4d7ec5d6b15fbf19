"""events.lease_expiries: leases that ran out (a worker died), counted apart from failures

`attempts` counts failed attempts only (what the retry policy and dead letters
go by); a lease that expires because its worker was killed is counted here, so
crashes alone never use up an event's attempts.

Revision ID: 0003_lease_expiries
Revises: 0002
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_lease_expiries"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("lease_expiries", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("lease_expiries")
