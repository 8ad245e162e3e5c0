"""Initial schema: accounts, senders, lists, triggers, contacts, consent, ledger, messages.

Revision ID: r0001
Revises:
Create Date: 2025-05-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)


def _contact_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id", "phone"],
        ["contacts.account_id", "contacts.phone"],
        ondelete="CASCADE",
        name=f"fk_{table}_account_id_contacts",
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("profile", sa.String, nullable=False),
        sa.Column("overrides", sa.JSON, nullable=False),
        sa.Column("head_seq", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "senders",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("number", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "number", name="pk_senders"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_senders_account_id_accounts",
        ),
    )
    op.create_index("ix_senders_number", "senders", ["number"], unique=True)
    op.create_table(
        "lists",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("opt_out_keyword", sa.String, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_lists"),
        sa.UniqueConstraint(
            "account_id", "opt_out_keyword", name="uq_lists_account_id_opt_out_keyword"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], ondelete="CASCADE", name="fk_lists_account_id_accounts"
        ),
    )
    op.create_table(
        "triggers",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("keyword", sa.String, nullable=False),
        sa.Column("reply", sa.String, nullable=False),
        sa.Column("unsubscribe_list", sa.String, nullable=True),
        sa.Column("subscribe_list", sa.String, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "keyword", name="pk_triggers"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_triggers_account_id_accounts",
        ),
    )
    op.create_table(
        "contacts",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column("blocked", sa.Boolean, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("texted", sa.Boolean, nullable=False),
        sa.Column("clarified", sa.Boolean, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "phone", name="pk_contacts"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_contacts_account_id_accounts",
        ),
    )
    op.create_index(
        "ix_contacts_account_id_blocked_status_phone",
        "contacts",
        ["account_id", "blocked", "status", "phone"],
    )
    op.create_table(
        "sender_consent",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "phone", "sender", name="pk_sender_consent"),
        _contact_fk("sender_consent"),
    )
    op.create_index(
        "ix_sender_consent_account_id_sender_status_phone",
        "sender_consent",
        ["account_id", "sender", "status", "phone"],
    )
    op.create_table(
        "memberships",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("list_name", sa.String, nullable=False),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column("subscribed", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "list_name", "phone", name="pk_memberships"),
        _contact_fk("memberships"),
    )
    op.create_index("ix_memberships_account_id_phone", "memberships", ["account_id", "phone"])
    op.create_index(
        "ix_memberships_account_id_list_name_subscribed_phone",
        "memberships",
        ["account_id", "list_name", "subscribed", "phone"],
    )
    op.create_table(
        "events",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("phone", sa.String, nullable=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("occurred_at", _TIMESTAMP, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "seq", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_events_account_id_accounts",
        ),
    )
    op.create_index("ix_events_account_id_phone_seq", "events", ["account_id", "phone", "seq"])
    op.create_table(
        "messages",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.Identity(), nullable=False
        ),
        sa.Column("direction", sa.String, nullable=False),
        sa.Column("provider_id", sa.String, nullable=True),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("reason", sa.String, nullable=True),
        sa.Column("list_name", sa.String, nullable=True),
        sa.Column("campaign", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.JSON, nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name="pk_messages"),
        sa.UniqueConstraint("account_id", "provider_id", name="uq_messages_account_id_provider_id"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_messages_account_id_accounts",
        ),
    )
    op.create_index("ix_messages_account_id_phone_id", "messages", ["account_id", "phone", "id"])


def downgrade() -> None:
    for table in (
        "messages",
        "events",
        "memberships",
        "sender_consent",
        "contacts",
        "triggers",
        "lists",
        "senders",
        "accounts",
    ):
        op.drop_table(table)
