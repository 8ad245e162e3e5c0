"""The review queue as a table of its own (``flags``), filled from the ledger's
``revocation_flagged`` events; and the API key's name, recorded as who made a change.

A flag already covered by a later opt-out or block of its contact (from its sender,
or from the whole account) is stored resolved by that event, as the engine resolves
one from now on; every other flag is open.

Revision ID: r0011
Revises: r0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "r0011"
down_revision: str | None = "r0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_FLAG = sa.text("resolved_seq IS NULL")


def upgrade() -> None:
    # A plain ADD COLUMN, as in r0003: a batch copy of accounts would cascade on SQLite.
    op.add_column("accounts", sa.Column("api_key_name", sa.String, nullable=True))
    op.create_table(
        "flags",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column("sender", sa.String, nullable=True),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.String, nullable=True),
        sa.Column("resolved_seq", sa.Integer, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "phone"],
            ["contacts.account_id", "contacts.phone"],
            ondelete="CASCADE",
            name="fk_flags_account_id_contacts",
        ),
        sa.PrimaryKeyConstraint("account_id", "seq", name="pk_flags"),
    )
    for name, column in (("ix_flags_open", "seq"), ("ix_flags_open_phone", "phone")):
        op.create_index(
            name,
            "flags",
            ["account_id", column],
            sqlite_where=OPEN_FLAG,
            postgresql_where=OPEN_FLAG,
        )
    _fill_flags()


def _fill_flags() -> None:
    """One row per existing flag, resolved by the first later opt-out that covers it."""
    conn = op.get_bind()
    events = sa.table(
        "events",
        sa.column("account_id"),
        sa.column("seq"),
        sa.column("type"),
        sa.column("phone"),
        sa.column("data", sa.JSON),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
    )
    query = (
        sa.select(events)
        .where(events.c.type.in_(("revocation_flagged", "opted_out", "blocked")))
        .order_by(events.c.account_id, events.c.seq)
    )
    open_flags: dict[tuple[int, str], list[dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for event in conn.execute(query):
        data = event.data if isinstance(event.data, dict) else json.loads(event.data)
        key = (event.account_id, event.phone)
        if event.type == "revocation_flagged":
            flag = {
                "account_id": event.account_id,
                "seq": event.seq,
                "phone": event.phone,
                "sender": data.get("sender"),
                "reason": data.get("reason", ""),
                "flagged_at": event.occurred_at,
                "resolution": None,
                "resolved_seq": None,
            }
            rows.append(flag)
            open_flags.setdefault(key, []).append(flag)
            continue
        whole = event.type == "blocked" or data.get("scope") != "sender"
        still_open = []
        for flag in open_flags.get(key, []):
            if whole or flag["sender"] == data.get("sender"):
                flag.update(resolution="opted_out", resolved_seq=event.seq)
            else:
                still_open.append(flag)
        open_flags[key] = still_open
    if rows:
        table = sa.table(
            "flags",
            *(sa.column(name) for name in rows[0] if name != "flagged_at"),
            sa.column("flagged_at", sa.DateTime(timezone=True)),
        )
        conn.execute(sa.insert(table), rows)


def downgrade() -> None:
    op.drop_index("ix_flags_open_phone", table_name="flags")
    op.drop_index("ix_flags_open", table_name="flags")
    op.drop_table("flags")
    op.execute("ALTER TABLE accounts DROP COLUMN api_key_name")
