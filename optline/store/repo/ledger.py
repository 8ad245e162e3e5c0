"""The account's ledger in the database: chaining events onto it, moving its head and
queueing them for the transparency log (the only writes), reading its events, and
verifying the stored chain. The hash itself is computed by :mod:`optline.store.ledger`,
which needs no database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from optline.domain.consent import Event
from optline.store.ledger import GENESIS, event_hash, plain, utc
from optline.store.repo.base import Repository
from optline.store.rows import StoredEvent, VerifyResult, event_values, stored_event
from optline.store.schema import accounts, events
from optline.store.state import Head


class Ledger(Repository):
    __slots__ = ()

    def append(self, account_id: int, items: Sequence[Event], at: datetime) -> list[StoredEvent]:
        """Chain ``items`` onto the account's ledger and move its head, in this transaction.

        The UPDATE that moves the head also locks the account row until commit (on
        PostgreSQL), so appends to one account take turns. It moves the head only
        from the head this process last committed; if another writer has moved it
        since, the head is read under lock and the chain rebuilt from there. Lock
        order: the contact first (``contacts.get`` with ``for_update``), then the account.
        """
        self._tx.check_writable()
        if not items:
            return []
        stored = self._extend_chain(account_id, items, utc(at))
        rows = [event_values(e) for e in stored]
        if len(rows) == 1:
            self._q.insert_events.run(self._driver, rows[0])
        else:
            self._q.insert_events.run_many(self._driver, rows)
        self._tx.moved_heads[account_id] = (stored[-1].seq, stored[-1].hash)
        # Queued for the transparency log's sequencer (optline.store.repo.log).
        queued = [
            {"account_id": account_id, "seq": e.seq, "queued_at": e.occurred_at} for e in stored
        ]
        if len(queued) == 1:
            self._q.queue_event.run(self._driver, queued[0])
        else:
            self._q.queue_event.run_many(self._driver, queued)
        return stored

    def _extend_chain(
        self, account_id: int, items: Sequence[Event], at: datetime
    ) -> list[StoredEvent]:
        """Chain ``items`` after the account's head and move the head past them."""
        tx = self._tx
        guess = tx.moved_heads.get(account_id) or tx.heads.get(account_id)
        if guess is not None:
            stored = _chain(account_id, guess, items, at)
            params = {"account": account_id, "old_seq": guess[0], "old_hash": guess[1]}
            params.update(seq=stored[-1].seq, hash=stored[-1].hash)
            moved = self._q.move_head_from.first(self._driver, params)
            if moved is not None:
                tx.subscriptions_version[account_id] = moved[0]
                return stored
            # Another writer has moved it since: read it, under lock.
        head = self._conn.execute(self._q.head, {"account": account_id}).first()
        if head is None:
            raise LookupError(f"no account with id {account_id}")
        tx.subscriptions_version[account_id] = head.subscriptions_version
        stored = _chain(account_id, (head.head_seq, head.head_hash), items, at)
        params = {"account": account_id, "seq": stored[-1].seq, "hash": stored[-1].hash}
        self._q.move_head.run(self._driver, params)
        return stored

    def events(self, account_id: int, phone: str | None = None) -> list[StoredEvent]:
        stmt = sa.select(events).where(events.c.account_id == account_id)
        if phone is not None:
            stmt = stmt.where(events.c.phone == phone)
        return [stored_event(r) for r in self._conn.execute(stmt.order_by(events.c.seq))]

    def events_of(self, account_id: int, phones: Sequence[str]) -> list[StoredEvent]:
        """The events of these contacts, in seq order: read through the phone index, a
        few hundred contacts a statement."""
        found: list[StoredEvent] = []
        for at in range(0, len(phones), 500):
            stmt = sa.select(events).where(
                events.c.account_id == account_id, events.c.phone.in_(phones[at : at + 500])
            )
            found.extend(stored_event(r) for r in self._conn.execute(stmt))
        return sorted(found, key=lambda e: e.seq)

    def changed_since(self, account_id: int, phone: str, since: datetime) -> bool:
        """Whether the contact's ledger has any event after ``since``."""
        e = events
        stmt = (
            sa.select(e.c.seq)
            .where(e.c.account_id == account_id, e.c.phone == phone, e.c.occurred_at > since)
            .limit(1)
        )
        return self._conn.execute(stmt).first() is not None

    def verify(self, account_id: int) -> VerifyResult:
        """Walk the account's chain in seq order; name the first event that is wrong.

        The head and the events are read by one statement, so a concurrent append
        cannot make a sound chain look broken.
        """
        e = events
        stmt = (
            sa.select(accounts.c.name, accounts.c.head_seq, accounts.c.head_hash, e)
            .select_from(accounts.outerjoin(e, e.c.account_id == accounts.c.id))
            .where(accounts.c.id == account_id)
            .order_by(e.c.seq)
            .execution_options(yield_per=2000)
        )
        result = self._conn.execute(stmt)
        head: Row[Any] | None = None
        expected, prev = 1, GENESIS
        for row in result:
            head = row
            if row.seq is None:  # no events yet
                break
            problem = _link_problem(account_id, row, expected, prev)
            if problem is not None:
                result.close()
                return VerifyResult(False, row.name, expected - 1, *problem)
            expected, prev = expected + 1, row.hash
        if head is None:
            raise LookupError(f"no account with id {account_id}")
        last = expected - 1
        wrong_end = _head_problem(last, prev, head.head_seq, head.head_hash)
        if wrong_end is not None:
            bad_seq, what = wrong_end
            return VerifyResult(False, head.name, (bad_seq or 1) - 1, bad_seq, what)
        return VerifyResult(True, head.name, last, None, None)


def _chain(account_id: int, head: Head, items: Sequence[Event], at: datetime) -> list[StoredEvent]:
    """``items`` as the events that follow ``head`` in the account's chain."""
    seq, prev = head
    stored: list[StoredEvent] = []
    for item in items:
        seq += 1
        kind, data = str(item.type), plain(item.data)
        digest = event_hash(prev, account_id, seq, kind, item.phone, data, at)
        stored.append(StoredEvent(account_id, seq, kind, item.phone, data, at, prev, digest))
        prev = digest
    return stored


def _link_problem(
    account_id: int, row: Row[Any], expected: int, prev: str
) -> tuple[int, str] | None:
    """What is wrong with ``row`` as the event after the one hashed ``prev``, if anything."""
    if row.seq != expected:
        return expected, f"event {expected} is missing (the next stored event is {row.seq})"
    if row.prev_hash != prev:
        after = "the genesis hash" if expected == 1 else f"event {expected - 1}"
        return expected, f"event {expected} does not link to {after} (prev_hash differs)"
    digest = event_hash(prev, account_id, row.seq, row.type, row.phone, row.data, row.occurred_at)
    if digest != row.hash:
        return expected, f"event {expected} was altered: its content does not match its hash"
    return None


def _head_problem(
    last: int, last_hash: str, head_seq: int, head_hash: str
) -> tuple[int | None, str] | None:
    """Does the chain end where the account's head says it does?"""
    if last < head_seq:
        return last + 1, f"event {last + 1} is missing: the ledger's head is event {head_seq}"
    if last > head_seq:
        return head_seq + 1, f"event {head_seq + 1} was inserted past the head (event {head_seq})"
    if last_hash != head_hash:
        return (last or None), f"the ledger's head hash does not match event {last}"
    return None
