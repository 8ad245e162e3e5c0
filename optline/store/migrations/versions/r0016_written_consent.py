"""Prior express written consent: the consent language, kept once per version by its
SHA-256; the purposes with written consent on record, on each contact (a projection of
the ledger's ``consent_recorded`` events); and a trigger's double opt-in purpose.

Revision ID: r0016
Revises: r0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0016"
down_revision: str | None = "r0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_texts",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_consent_texts_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "sha256", name="pk_consent_texts"),
    )
    # Existing contacts have no written consent on record: an opt-in made before
    # counts only once its written consent is recorded (docs/api.md).
    op.add_column("contacts", sa.Column("written", sa.String, nullable=True))
    op.add_column("triggers", sa.Column("confirm_purpose", sa.String, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN, as in r0012: a batch copy of contacts would cascade on SQLite.
    op.execute("ALTER TABLE triggers DROP COLUMN confirm_purpose")
    op.execute("ALTER TABLE contacts DROP COLUMN written")
    op.drop_table("consent_texts")
