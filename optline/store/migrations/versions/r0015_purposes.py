"""Purposes: the account's own purposes, a contact's consent per purpose, the open
(a)(12) question of which purposes a revocation meant, and the purpose of a text and of
a list.

Revision ID: r0015
Revises: r0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0015"
down_revision: str | None = "r0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purposes",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_purposes_account_id_accounts",
        ),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_purposes"),
    )
    op.create_table(
        "purpose_consent",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column("purpose", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("method", sa.String, nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_seq", sa.Integer, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "phone"],
            ["contacts.account_id", "contacts.phone"],
            ondelete="CASCADE",
            name="fk_purpose_consent_account_id_contacts",
        ),
        sa.PrimaryKeyConstraint("account_id", "phone", "purpose", name="pk_purpose_consent"),
    )
    op.create_index(
        "ix_purpose_consent_account_id_purpose_status_phone",
        "purpose_consent",
        ["account_id", "purpose", "status", "phone"],
    )
    op.add_column("contacts", sa.Column("choice_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("contacts", sa.Column("choice_purposes", sa.String, nullable=True))
    op.add_column("messages", sa.Column("purpose", sa.String, nullable=True))
    op.add_column("lists", sa.Column("purpose", sa.String, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN, as in r0011 and r0012: a batch copy would cascade on SQLite.
    op.execute("ALTER TABLE lists DROP COLUMN purpose")
    op.execute("ALTER TABLE messages DROP COLUMN purpose")
    op.execute("ALTER TABLE contacts DROP COLUMN choice_purposes")
    op.execute("ALTER TABLE contacts DROP COLUMN choice_until")
    op.drop_index("ix_purpose_consent_account_id_purpose_status_phone", "purpose_consent")
    op.drop_table("purpose_consent")
    op.drop_table("purposes")
