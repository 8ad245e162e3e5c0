"""The state of one transaction that its repositories read: the connection, the
prepared statements, the sealer, and the caches a transaction (or a group of them)
keeps. :class:`optline.store.tx.Tx` adds the repositories, which see only this state,
so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from optline.domain.consent import ContactState
from optline.store.queries import queries
from optline.store.queries_prepared import Driver, insert
from optline.store.rows import AccountRow, Conflict, SubscriptionRow
from optline.store.sealed import Sealer

Subscriptions = tuple[int, list[SubscriptionRow]]  # (version, subscriptions) of an account


class TxState:
    """What one transaction holds besides its repositories."""

    def __init__(
        self,
        conn: Connection,
        *,
        writable: bool,
        subscriptions: Mapping[int, Subscriptions] | None = None,
        sealer: Sealer | None = None,
        accounts: dict[int, AccountRow] | None = None,
        message_ids: dict[int, int] | None = None,
        event_seqs: dict[int, int] | None = None,
        driver: Driver | None = None,
    ) -> None:
        self.conn = conn
        # The prepared statements run on the DB-API connection itself (``driver``, when
        # the caller has it at hand).
        if driver is None:
            driver = conn.connection.driver_connection
            assert driver is not None  # a connection checked out, not yet closed
        self.driver: Driver = driver
        self._writable = writable
        self.postgres = conn.dialect.name == "postgresql"
        self.q = queries(conn.dialect)
        # Provider credentials and signing secrets: sealed as written, opened as read.
        self.sealer = sealer or Sealer()

        # Accounts by id as read in a group's transaction (Store.write_grouped), shared
        # by its writes: it holds the write lock from its first read to its commit, so
        # an account changes under it only by a write of its own, which forgets it.
        self.account_cache = accounts
        # SQLite: each account's next message number, once read (messages.new_ids); a
        # group's writes share it as they share the accounts.
        self.message_ids = {} if message_ids is None else message_ids
        # SQLite: each account's next event seq, once read (ledger.append), shared alike.
        self.event_seqs = {} if event_seqs is None else event_seqs
        # Contacts as read in this transaction, so contacts.save writes only what changed.
        self.seen: dict[tuple[int, str], ContactState | None] = {}
        # Event-webhook subscriptions read in this transaction, by account.
        self.subscriptions: dict[int, list[SubscriptionRow]] = {}
        # Subscriptions as this process last read them (committed), by account; valid
        # while the account's subscriptions_version is the one they carry.
        self.known_subscriptions = {} if subscriptions is None else subscriptions
        # The subscriptions' version as ledger.append read it, by account.
        self.subscriptions_version: dict[int, int] = {}
        # Accounts whose subscriptions this transaction changed (never remembered).
        self.subscriptions_written: set[int] = set()
        # Subscriptions read here with their version, for the store to keep on commit.
        self.read_subscriptions: dict[int, Subscriptions] = {}

    @property
    def writable(self) -> bool:
        return self._writable

    def check_writable(self) -> None:
        """Refuse a write in a read-only transaction."""
        if not self._writable:
            raise RuntimeError("this is a read-only transaction")

    def insert_or_conflict(self, table: sa.Table, values: Mapping[str, Any], what: str) -> None:
        """Insert one row, raising Conflict on a unique key (the transaction stays usable)."""
        stmt = insert(table, self.postgres).values(values).on_conflict_do_nothing()
        if self.conn.execute(stmt.returning(*table.primary_key)).first() is None:
            raise Conflict(f"{what} already exists")
