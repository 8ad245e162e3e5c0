"""Users and roles: an account's named users, their API keys, the web UI's sessions.

Revision ID: r0020
Revises: r0022
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0020"
down_revision: str | None = "r0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _account(table: str) -> sa.Column[int]:
    fk = sa.ForeignKey("accounts.id", ondelete="CASCADE", name=f"fk_{table}_account_id_accounts")
    return sa.Column("account_id", sa.Integer, fk, nullable=False)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id", "user_name"],
        ["users.account_id", "users.name"],
        ondelete="CASCADE",
        name=f"fk_{table}_account_id_users",
    )


def upgrade() -> None:
    op.create_table(
        "users",
        _account("users"),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("password_hash", sa.String, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String, nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_users"),
    )
    op.create_table(
        "user_keys",
        _account("user_keys"),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key_hash", name="pk_user_keys"),
        _user_fk("user_keys"),
    )
    op.create_index("ix_user_keys_key_hash", "user_keys", ["key_hash"], unique=True)
    op.create_table(
        "ui_sessions",
        _account("ui_sessions"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String, nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=True),
        sa.Column("csrf", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "token_hash", name="pk_ui_sessions"),
        _user_fk("ui_sessions"),
    )
    op.create_index("ix_ui_sessions_token_hash", "ui_sessions", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_table("ui_sessions")
    op.drop_table("user_keys")
    op.drop_table("users")
