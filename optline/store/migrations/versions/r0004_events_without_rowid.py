"""SQLite: the ledger's events stored in their primary key's order (WITHOUT ROWID).

An appended event then writes its row and its phone-index entry, instead of a row in
the table, an entry in the primary key's index and one in the phone index: one page
fewer in every consent change's commit. PostgreSQL is unchanged.

Revision ID: r0004
Revises: r0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0004"
down_revision: str | None = "r0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_events_account_id_phone_seq"
_COLUMNS = "account_id, seq, type, phone, data, occurred_at, prev_hash, hash"


def _events(with_rowid: bool) -> sa.Table:
    metadata = sa.MetaData()
    sa.Table("accounts", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "events",
        metadata,
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("phone", sa.String, nullable=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "seq", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_events_account_id_accounts",
        ),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild(with_rowid: bool) -> None:
    """Copy the events into a new table, the old one renamed out of the way first.

    Not a batch operation: nothing references the events table, so dropping the old
    copy cascades nowhere, and the rows are copied exactly as stored.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.drop_index(_INDEX, table_name="events")
    op.rename_table("events", "_events_old")
    _events(with_rowid).create(bind)
    op.execute(f"INSERT INTO events ({_COLUMNS}) SELECT {_COLUMNS} FROM _events_old")
    op.drop_table("_events_old")
    op.create_index(_INDEX, "events", ["account_id", "phone", "seq"])


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
