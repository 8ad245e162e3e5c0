"""The inbox's read markers: the last message the account has read in each conversation.

Revision ID: r0018
Revises: r0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0018"
down_revision: str | None = "r0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "read_markers",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_read_markers_account_id_accounts"
            ),
            nullable=False,
        ),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column(
            "last_read_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "phone", name="pk_read_markers"),
    )


def downgrade() -> None:
    op.drop_table("read_markers")
