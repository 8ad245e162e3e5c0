"""Events without an account-wide head: the hash chains on record are sealed as they
are (each account's head keeps their last seq and hash, and the transparency log holds
them), and events recorded from now on are unchained, numbered on PostgreSQL by one
sequence for the deployment, starting past every seq on record.

Revision ID: r0019
Revises: r0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0019"
down_revision: str | None = "r0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite counts on from each account's top seq
    top = bind.execute(sa.text("SELECT coalesce(max(seq), 0) FROM events")).scalar_one()
    op.execute(sa.text(f"CREATE SEQUENCE event_seq START WITH {int(top) + 1}"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP SEQUENCE event_seq"))
