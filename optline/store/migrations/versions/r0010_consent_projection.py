"""Consent as a projection of the ledger: ``no_consent``, and each scope's method,
time and event.

Adds ``method``, ``since`` and ``event_seq`` to contacts and sender_consent, and
``inbound`` (the contact has texted the account) to contacts; then rewrites every
contact's consent as its account's events replay it (:mod:`optline.domain.projection`
as of this revision). A contact with no consent event (one only ever texted, or
imported as opted in without evidence) has nothing on record: ``no_consent``, where
it used to read ``opted_in`` by default. The events themselves are not touched, so
their chain verifies as before.

Revision ID: r0010
Revises: r0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from optline.domain.projection import Projection, replay
from optline.store.schema import UTCDateTime

revision: str = "r0010"
down_revision: str | None = "r0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARKS = ("method", "since", "event_seq")


def _mark_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("method", sa.String, nullable=True),
        sa.Column("since", UTCDateTime, nullable=True),
        sa.Column("event_seq", sa.Integer, nullable=True),
    ]


def upgrade() -> None:
    for table in ("contacts", "sender_consent"):
        with op.batch_alter_table(table) as batch:
            for column in _mark_columns():
                batch.add_column(column)
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column("inbound", sa.Boolean, nullable=False, server_default=sa.false())
        )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE contacts SET inbound = :yes WHERE EXISTS (SELECT 1 FROM messages m"
            " WHERE m.account_id = contacts.account_id AND m.phone = contacts.phone"
            " AND m.direction = 'in')"
        ),
        {"yes": True},
    )
    accounts = conn.execute(sa.text("SELECT id FROM accounts")).scalars().all()
    for account_id in accounts:
        _rewrite(conn, account_id)


def _rewrite(conn: sa.Connection, account_id: int) -> None:
    """Every contact of the account as its events replay it."""
    events = sa.table(
        "events",
        sa.column("account_id"),
        sa.column("seq"),
        sa.column("type"),
        sa.column("phone"),
        sa.column("data", sa.JSON),
        sa.column("occurred_at", UTCDateTime),
    )
    rows = conn.execute(
        sa.select(events).where(events.c.account_id == account_id).order_by(events.c.seq)
    )
    replayed = replay(rows)
    contacts = sa.table(
        "contacts",
        sa.column("account_id"),
        sa.column("phone"),
        sa.column("blocked"),
        sa.column("status"),
        sa.column("method"),
        sa.column("since", UTCDateTime),
        sa.column("event_seq"),
    )
    # Nothing on record first, in one statement each; then the contacts with events.
    conn.execute(
        sa.update(contacts)
        .where(contacts.c.account_id == account_id)
        .values(blocked=False, status="no_consent", method=None, since=None, event_seq=None)
    )
    conn.execute(sa.text("DELETE FROM sender_consent WHERE account_id = :a"), {"a": account_id})
    for found in replayed.values():
        if found == Projection(found.phone):
            continue  # events that change no consent (help, refused sends)
        mark = found.account
        conn.execute(
            sa.update(contacts)
            .where(contacts.c.account_id == account_id, contacts.c.phone == found.phone)
            .values(
                blocked=found.blocked,
                status=found.account_status.value,
                method=None if mark is None or mark.method is None else mark.method.value,
                since=None if mark is None else mark.since,
                event_seq=None if mark is None else mark.event_seq,
            )
        )
        _insert_senders(conn, account_id, found)


def _insert_senders(conn: sa.Connection, account_id: int, found: Projection) -> None:
    sender_consent = sa.table(
        "sender_consent",
        sa.column("account_id"),
        sa.column("phone"),
        sa.column("sender"),
        sa.column("status"),
        sa.column("method"),
        sa.column("since", UTCDateTime),
        sa.column("event_seq"),
    )
    if found.senders:
        conn.execute(
            sa.insert(sender_consent),
            [
                {
                    "account_id": account_id,
                    "phone": found.phone,
                    "sender": sender,
                    "status": mark.status.value,
                    "method": None if mark.method is None else mark.method.value,
                    "since": mark.since,
                    "event_seq": mark.event_seq,
                }
                for sender, mark in found.senders.items()
            ],
        )


def downgrade() -> None:
    conn = op.get_bind()
    # Before this revision a contact with nothing on record read as opted in.
    conn.execute(sa.text("UPDATE contacts SET status = 'opted_in' WHERE status = 'no_consent'"))
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("inbound")
    for table in ("contacts", "sender_consent"):
        with op.batch_alter_table(table) as batch:
            for name in _MARKS:
                batch.drop_column(name)
