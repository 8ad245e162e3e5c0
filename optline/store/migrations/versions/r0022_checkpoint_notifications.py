"""Event webhooks publish the transparency log's checkpoints: a notification reports an
account's event (``event_seq``) or a signed checkpoint (``checkpoint_size``), so the
outbox is keyed by a row id of its own.

Existing notifications keep their rows and states, numbered in the order they were due.

Revision ID: r0022
Revises: r0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r0022"
down_revision: str | None = "r0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_COLUMNS = (
    "account_id, subscription_id, event_seq, payload, attempts, next_attempt_at,"
    " leased_until, state, last_error, delivered_at"
)


def _create(*, by_event: bool) -> None:
    """The outbox as it is after this revision (``by_event``: as it was before)."""
    key: list[sa.schema.SchemaItem] = (
        [
            sa.PrimaryKeyConstraint(
                "account_id", "subscription_id", "event_seq", name="pk_notifications"
            )
        ]
        if by_event
        else [
            sa.PrimaryKeyConstraint("id", name="pk_notifications"),
            sa.UniqueConstraint(
                "account_id",
                "subscription_id",
                "event_seq",
                name="uq_notifications_account_id_subscription_id_event_seq",
            ),
            sa.UniqueConstraint(
                "account_id",
                "subscription_id",
                "checkpoint_size",
                name="uq_notifications_account_id_subscription_id_checkpoint_size",
            ),
            sa.CheckConstraint(
                "(event_seq IS NULL) <> (checkpoint_size IS NULL)",
                name="one_subject",  # named by the convention: ck_notifications_one_subject
            ),
        ]
    )
    subject: list[sa.Column[int]] = (
        [sa.Column("event_seq", sa.Integer, nullable=False, autoincrement=False)]
        if by_event
        else [
            sa.Column(
                "id",
                sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                sa.Identity(),
                nullable=False,
            ),
            sa.Column("event_seq", sa.Integer, nullable=True),
            sa.Column("checkpoint_size", sa.BigInteger, nullable=True),
        ]
    )
    op.create_table(
        "notifications",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("subscription_id", sa.Integer, nullable=False, autoincrement=False),
        *subject,
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TIMESTAMP, nullable=False),
        sa.Column("leased_until", _TIMESTAMP, nullable=True),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("last_error", sa.String, nullable=True),
        sa.Column("delivered_at", _TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            ondelete="CASCADE",
            name="fk_notifications_account_id_accounts",
        ),
        *key,
    )


def _rebuild(*, by_event: bool, keep: str) -> None:
    """Copy the outbox's rows (those ``keep`` selects) into its new form and swap it in:
    the one way to change a primary key on SQLite, and on PostgreSQL it numbers the
    rows in the order they were due."""
    op.drop_index("ix_notifications_state_next_attempt_at", table_name="notifications")
    op.rename_table("notifications", "notifications_old")
    if op.get_bind().dialect.name == "postgresql":  # constraint names are the schema's
        op.execute("ALTER TABLE notifications_old RENAME CONSTRAINT pk_notifications TO pk_old")
        op.execute(
            "ALTER TABLE notifications_old RENAME CONSTRAINT"
            " fk_notifications_account_id_accounts TO fk_old"
        )
    _create(by_event=by_event)
    op.execute(
        f"INSERT INTO notifications ({_COLUMNS}) SELECT {_COLUMNS} FROM notifications_old"
        f" WHERE {keep} ORDER BY next_attempt_at, account_id, subscription_id, event_seq"
    )
    op.drop_table("notifications_old")
    op.create_index(
        "ix_notifications_state_next_attempt_at", "notifications", ["state", "next_attempt_at"]
    )


def upgrade() -> None:
    _rebuild(by_event=False, keep="1 = 1")


def downgrade() -> None:
    # Checkpoint notifications have no place in the old outbox: they go.
    _rebuild(by_event=True, keep="event_seq IS NOT NULL")
