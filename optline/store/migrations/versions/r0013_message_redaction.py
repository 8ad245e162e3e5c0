"""A message body may be redacted on a deletion request: when it was (NULL: never).

Revision ID: r0013
Revises: r0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0013"
down_revision: str | None = "r0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN, as in r0012: a batch copy of messages would cascade on SQLite
    # (to their send requests).
    op.execute("ALTER TABLE messages DROP COLUMN redacted_at")
