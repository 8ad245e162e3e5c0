"""A version number on each account's event-webhook subscriptions.

Revision ID: r0003
Revises: r0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0003"
down_revision: str | None = "r0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch operation would copy the accounts
    # table on SQLite, and dropping the old copy cascades to every account's rows.
    op.add_column(
        "accounts",
        sa.Column("subscriptions_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE accounts DROP COLUMN subscriptions_version")
