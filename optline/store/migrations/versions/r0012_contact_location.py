"""A contact's stored location for the send windows: a time zone and a US state.

Revision ID: r0012
Revises: r0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0012"
down_revision: str | None = "r0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("time_zone", sa.String, nullable=True))
    op.add_column("contacts", sa.Column("us_state", sa.String, nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN, as in r0011: a batch copy of contacts would cascade on SQLite
    # (to their sender consent, memberships and flags).
    op.execute("ALTER TABLE contacts DROP COLUMN us_state")
    op.execute("ALTER TABLE contacts DROP COLUMN time_zone")
