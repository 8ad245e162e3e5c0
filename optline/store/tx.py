"""One database transaction: the unit of work every read and write of the engine uses.

A :class:`Tx` holds the connection, whether it may write, and what this transaction
has read or moved (caches that live as long as it does); its queries are in the
repositories it exposes, one per concern, each in :mod:`optline.store.repo`:

- ``tx.accounts``: accounts, their policy, API keys and held rows;
- ``tx.senders``: senders, lists, triggers (keywords) and stored secrets;
- ``tx.contacts``: contact state, sender consent, list memberships, suppression;
- ``tx.messages``: inbound and outbound texts, statuses, unsettled sends, send requests;
- ``tx.ledger``: the hash-chained events: append, read, verify;
- ``tx.outbox``: event-webhook subscriptions and their queued notifications.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from optline.domain.consent import ContactState
from optline.store.queries import Driver, insert, queries
from optline.store.repo.accounts import Accounts
from optline.store.repo.contacts import Contacts
from optline.store.repo.ledger import Head, Ledger
from optline.store.repo.messages import Messages
from optline.store.repo.outbox import Outbox, Subscriptions
from optline.store.repo.senders import Senders
from optline.store.rows import AccountRow, Conflict, SubscriptionRow
from optline.store.sealed import Sealer

__all__ = ["Head", "Subscriptions", "Tx"]


class Tx:
    """Reads and writes inside one transaction; see :class:`optline.store.Store`."""

    def __init__(
        self,
        conn: Connection,
        *,
        writable: bool,
        heads: Mapping[int, Head] | None = None,
        subscriptions: Mapping[int, Subscriptions] | None = None,
        sealer: Sealer | None = None,
        accounts: dict[int, AccountRow] | None = None,
        message_ids: dict[int, int] | None = None,
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
        # Contacts as read in this transaction, so contacts.save writes only what changed.
        self.seen: dict[tuple[int, str], ContactState | None] = {}
        # Ledger heads as last committed by this process: a guess, checked by the
        # UPDATE that moves the head, which saves reading it first.
        self.heads = {} if heads is None else heads
        # Heads this transaction moved, for the store to remember once it commits.
        self.moved_heads: dict[int, Head] = {}
        # Event-webhook subscriptions read in this transaction, by account.
        self.subscriptions: dict[int, list[SubscriptionRow]] = {}
        # Subscriptions as this process last read them (committed), by account; valid
        # while the account's subscriptions_version is the one they carry.
        self.known_subscriptions = {} if subscriptions is None else subscriptions
        # The subscriptions' version as moving the ledger's head read it, by account.
        self.subscriptions_version: dict[int, int] = {}
        # Accounts whose subscriptions this transaction changed (never remembered).
        self.subscriptions_written: set[int] = set()
        # Subscriptions read here with their version, for the store to keep on commit.
        self.read_subscriptions: dict[int, Subscriptions] = {}

        # The repositories hold this transaction by a weak proxy: a strong reference
        # back would make a cycle of every transaction, freed only by the garbage
        # collector (whose runs then cost every request), where now the last
        # reference gone frees it. A repository is the transaction's: it is not
        # used once the transaction is gone.
        me: Tx = weakref.proxy(self)
        self.accounts = Accounts(me)
        self.senders = Senders(me)
        self.contacts = Contacts(me)
        self.messages = Messages(me)
        self.ledger = Ledger(me)
        self.outbox = Outbox(me)

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
