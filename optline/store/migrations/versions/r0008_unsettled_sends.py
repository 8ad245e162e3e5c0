"""An index of the texts not yet settled with a provider (queued or sending), by account.

Revision ID: r0008
Revises: r0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0008"
down_revision: str | None = "r0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSETTLED = sa.text("status IN ('queued', 'sending')")


def upgrade() -> None:
    op.create_index(
        "ix_messages_unsettled",
        "messages",
        ["account_id", "status", "id"],
        sqlite_where=UNSETTLED,
        postgresql_where=UNSETTLED,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_unsettled", table_name="messages")
