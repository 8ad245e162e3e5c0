"""Who sent a text, and who changed a user: the actor of an outbound message sent by a
person or an API key (NULL on automatic answers and on texts sent before), and the
account's record of its users added, disabled, enabled, and their keys issued and
revoked.

Revision ID: r0023
Revises: r0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0023"
down_revision: str | None = "r0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sent_by", sa.String, nullable=True))
        batch.add_column(sa.Column("sent_via", sa.String, nullable=True))
    fk = sa.ForeignKey(
        "accounts.id", ondelete="CASCADE", name="fk_user_changes_account_id_accounts"
    )
    op.create_table(
        "user_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, fk, nullable=False),
        sa.Column("user_name", sa.String, nullable=False),
        sa.Column("change", sa.String, nullable=False),
        sa.Column("by", sa.String, nullable=False),
        sa.Column("via", sa.String, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_user_changes_account_id_id", "user_changes", ["account_id", "id"])


def downgrade() -> None:
    op.drop_table("user_changes")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sent_via")
        batch.drop_column("sent_by")
