"""Replies marked as such, and an index of those the provider's API must still send.

Revision ID: r0006
Revises: r0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0006"
down_revision: str | None = "r0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_REPLY = sa.text("reply AND status IN ('queued', 'sending')")


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column("reply", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_messages_pending_replies",
        "messages",
        ["created_at"],
        sqlite_where=PENDING_REPLY,
        postgresql_where=PENDING_REPLY,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_pending_replies", table_name="messages")
    op.execute("ALTER TABLE messages DROP COLUMN reply")
