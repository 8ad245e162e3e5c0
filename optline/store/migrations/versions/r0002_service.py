"""The HTTP service: API keys, provider senders, event-webhook subscriptions and outbox.

Revision ID: r0002
Revises: r0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0002"
down_revision: str | None = "r0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], ondelete="CASCADE", name=f"fk_{table}_account_id_accounts"
    )


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("api_key_hash", sa.String(64), nullable=True))
        batch.create_index("ix_accounts_api_key_hash", ["api_key_hash"], unique=True)
    with op.batch_alter_table("senders") as batch:
        batch.add_column(sa.Column("provider", sa.String, nullable=True))
        batch.add_column(
            sa.Column("credentials", sa.JSON, nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(
            sa.Column("provider_replies", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("senders") as batch:
        batch.alter_column("credentials", server_default=None)
        batch.alter_column("provider_replies", server_default=None)
    op.create_table(
        "subscriptions",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("url", sa.String, nullable=False),
        sa.Column("secret", sa.String, nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        _account_fk("subscriptions"),
        sa.PrimaryKeyConstraint("account_id", "id", name="pk_subscriptions"),
    )
    op.create_table(
        "notifications",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("subscription_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("event_seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TIMESTAMP, nullable=False),
        sa.Column("leased_until", _TIMESTAMP, nullable=True),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("last_error", sa.String, nullable=True),
        sa.Column("delivered_at", _TIMESTAMP, nullable=True),
        _account_fk("notifications"),
        sa.PrimaryKeyConstraint(
            "account_id", "subscription_id", "event_seq", name="pk_notifications"
        ),
    )
    op.create_index(
        "ix_notifications_state_next_attempt_at", "notifications", ["state", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_state_next_attempt_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("subscriptions")
    with op.batch_alter_table("senders") as batch:
        batch.drop_column("provider_replies")
        batch.drop_column("credentials")
        batch.drop_column("provider")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_index("ix_accounts_api_key_hash")
        batch.drop_column("api_key_hash")
