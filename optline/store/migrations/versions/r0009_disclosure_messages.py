"""Outbound texts marked as the first-text disclosure sent as a text of its own.

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
    # A plain ADD COLUMN on both databases (a batch operation would copy the messages
    # table on SQLite). Every message stored before is not one: the form is new.
    op.add_column(
        "messages",
        sa.Column("disclosure", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE messages DROP COLUMN disclosure")
