"""A version number on each account's triggers and lists (its account keywords).

Revision ID: r0005
Revises: r0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0005"
down_revision: str | None = "r0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, as in r0003: a batch copy of accounts would cascade on SQLite.
    op.add_column(
        "accounts",
        sa.Column("keywords_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE accounts DROP COLUMN keywords_version")
