"""A contact's stored location for the send windows: a time zone and a US state.

Revision ID: r0009
Revises: r0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0009"
down_revision: str | None = "r0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("time_zone", sa.String, nullable=True))
    op.add_column("contacts", sa.Column("us_state", sa.String, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("us_state")
        batch.drop_column("time_zone")
