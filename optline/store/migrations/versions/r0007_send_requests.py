"""Sends made with an Idempotency-Key, so that a retried request sends one text.

Revision ID: r0007
Revises: r0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0007"
down_revision: str | None = "r0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_requests",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("fingerprint", sa.String, nullable=False),
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_send_requests_account_id_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "message_id"],
            ["messages.account_id", "messages.id"],
            ondelete="CASCADE",
            name="fk_send_requests_account_id_messages",
        ),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_send_requests"),
    )


def downgrade() -> None:
    op.drop_table("send_requests")
