"""The transparency log: the queue of events awaiting a position, the positions, the
Merkle tree's nodes, the signed checkpoints and the stored signing key.

Every event already on record is queued, account by account in chain order, so the
sequencer's first batch gives them positions and seals them under the first signed
checkpoint; their hash chains stay as they are, and verifiable.

Revision ID: r0014
Revises: r0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "r0014"
down_revision: str | None = "r0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            sa.Identity(),
            primary_key=True,
        ),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "log_entries",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.UniqueConstraint("account_id", "seq", name="uq_log_entries_account_id_seq"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "log_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seed", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The chains on record, queued in order: the first batch seals them.
    # SQLite stores UTC as naive text (optline.store.schema.UTCDateTime).
    now = datetime.now(UTC)
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.get_bind().execute(
        sa.text(
            "INSERT INTO log_queue (account_id, seq, queued_at)"
            " SELECT account_id, seq, :at FROM events ORDER BY account_id, seq"
        ),
        {"at": now.replace(tzinfo=None).isoformat(" ") if sqlite else now},
    )


def downgrade() -> None:
    for table in ("log_keys", "log_checkpoints", "log_nodes", "log_entries", "log_queue"):
        op.drop_table(table)
