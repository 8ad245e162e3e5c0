"""The account's ledger in the database: recording events and queueing them for the
transparency log (the only writes), reading them, and verifying the sealed hash chain
and each event's hash. The hashes themselves are computed by
:mod:`optline.store.ledger`, which needs no database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from optline.domain.consent import Event
from optline.store.ledger import GENESIS, UNCHAINED, event_hash, plain, utc
from optline.store.repo.base import Repository
from optline.store.rows import (
    StoredEvent,
    VerifyResult,
    driver_event,
    event_values,
    stored_event,
)
from optline.store.schema import accounts, events


class Ledger(Repository):
    __slots__ = ()

    def append(self, account_id: int, items: Sequence[Event], at: datetime) -> list[StoredEvent]:
        """Record ``items`` as the account's next events in this transaction, and queue
        them for the transparency log's sequencer (:mod:`.log`).

        Nothing account-wide is locked or moved, so changes to different contacts of one
        account never wait for each other: the events are :data:`UNCHAINED`, their order
        and their integrity are the log's. Their seqs come from one sequence for the
        deployment (PostgreSQL: an account's seqs have gaps) or from the account's top
        seq, read once per transaction (SQLite, whose write transaction holds the write
        lock from its start). The caller locks the contact first (``contacts.get`` with
        ``for_update``), so one contact's events are numbered in the order they commit.
        """
        self._tx.check_writable()
        if not items:
            return []
        at = utc(at)
        seqs = self._hold_and_number(account_id, len(items))
        stored = [_unchained(account_id, s, item, at) for s, item in zip(seqs, items, strict=True)]
        rows = [event_values(e) for e in stored]
        if self._postgres:  # each event inserted and queued by one statement
            if len(rows) == 1:
                self._q.insert_and_queue_event.run(self._driver, rows[0])
            else:
                self._q.insert_and_queue_event.run_many(self._driver, rows)
            return stored
        queued = [
            {"account_id": account_id, "seq": e.seq, "queued_at": e.occurred_at} for e in stored
        ]
        if len(rows) == 1:
            self._q.insert_events.run(self._driver, rows[0])
            self._q.queue_event.run(self._driver, queued[0])
        else:
            self._q.insert_events.run_many(self._driver, rows)
            self._q.queue_event.run_many(self._driver, queued)
        return stored

    def _hold_and_number(self, account_id: int, count: int) -> list[int]:
        """The next ``count`` seqs; first in the transaction, the version of the
        account's event-webhook subscriptions read for ``outbox.enqueue``.

        On PostgreSQL the version is read under a shared advisory lock held to commit,
        which appends share and adding a subscription takes alone
        (``outbox.add_subscription``): a subscription commits wholly before a change
        that would notify it, or wholly after. The lock is its own statement, so the
        next one (the version, with the seqs from the deployment's sequence) sees what
        committed before the lock was granted: two round trips for the transaction's
        first append, one for each later one. SQLite's seqs are counted on from the
        account's top seq, read once per transaction (whose write lock it holds from its
        start)."""
        tx, q = self._tx, self._q
        if account_id in tx.subscriptions_version:
            if not self._postgres:
                return self._numbers(tx.event_seqs, q.top_event_seq, account_id, count)
            taken = q.event_seqs.first(self._driver, {"count": count})
            assert taken is not None  # an aggregate's one row
            return sorted(taken[0])
        if self._postgres:
            q.share_subscriptions.run(self._driver, {"account": account_id})
            row = q.version_and_seqs.first(self._driver, {"account": account_id, "count": count})
        else:
            row = q.subscriptions_version.first(self._driver, {"account": account_id})
        if row is None:
            raise LookupError(f"no account with id {account_id}")
        tx.subscriptions_version[account_id] = row[0]
        if self._postgres:
            return sorted(row[1])
        return self._numbers(tx.event_seqs, q.top_event_seq, account_id, count)

    def events(self, account_id: int, phone: str | None = None) -> list[StoredEvent]:
        stmt = sa.select(events).where(events.c.account_id == account_id)
        if phone is not None:
            stmt = stmt.where(events.c.phone == phone)
        return [stored_event(r) for r in self._conn.execute(stmt.order_by(events.c.seq))]

    def events_of(self, account_id: int, phones: Sequence[str]) -> list[StoredEvent]:
        """The events of these contacts, in seq order: read through the phone index by
        one statement, rows as the driver returns them."""
        rows = self._q.contact_events.rows(self._driver, account_id, phones)
        return sorted(map(driver_event, rows), key=lambda e: e.seq)

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
        """Walk the account's events in seq order; name the first that is wrong.

        The sealed chain (the events recorded before the log: seq 1 up to the account's
        head) must be whole, each event linked to the one before and hashing to its
        content, and end at the head; every later event must be unchained and hash to its
        content (holding it in its place is the log's work: ``verify_log``). The head
        and the events are read by one statement.
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
        expected, prev, checked = 1, GENESIS, 0
        problem: tuple[int | None, str] | None
        for row in result:
            head = row
            if row.seq is None:  # no events yet
                break
            if expected <= row.head_seq:  # in the sealed chain
                problem = _link_problem(account_id, row, expected, prev)
                if problem is None:
                    expected, prev, checked = expected + 1, row.hash, checked + 1
                    continue
            else:
                problem = _unchained_problem(account_id, row, expected - 1, prev)
                if problem is None:
                    checked += 1
                    continue
            result.close()
            bad_seq, what = problem
            return VerifyResult(False, row.name, _sound_before(checked, bad_seq), bad_seq, what)
        if head is None:
            raise LookupError(f"no account with id {account_id}")
        wrong_end = _head_problem(expected - 1, prev, head.head_seq, head.head_hash)
        if wrong_end is not None:
            bad_seq, what = wrong_end
            return VerifyResult(False, head.name, _sound_before(checked, bad_seq), bad_seq, what)
        return VerifyResult(True, head.name, checked, None, None)


def _sound_before(checked: int, bad_seq: int | None) -> int:
    """How many events were found sound before the bad one (a head that does not match
    its last event makes that event the bad one)."""
    return checked if bad_seq is None else min(checked, bad_seq - 1)


def _unchained(account_id: int, seq: int, item: Event, at: datetime) -> StoredEvent:
    kind, data = str(item.type), plain(item.data)
    digest = event_hash(UNCHAINED, account_id, seq, kind, item.phone, data, at)
    return StoredEvent(account_id, seq, kind, item.phone, data, at, UNCHAINED, digest)


def _unchained_problem(
    account_id: int, row: Row[Any], last: int, last_hash: str
) -> tuple[int | None, str] | None:
    """What is wrong with ``row`` as an event recorded after the chain (whose last
    event, ``last``, hashed ``last_hash``) was sealed."""
    if row.prev_hash != UNCHAINED:
        return row.seq, f"event {row.seq} was inserted past the head (event {row.head_seq})"
    wrong_end = _head_problem(last, last_hash, row.head_seq, row.head_hash)
    if wrong_end is not None:
        return wrong_end
    digest = event_hash(
        UNCHAINED, account_id, row.seq, row.type, row.phone, row.data, row.occurred_at
    )
    if digest != row.hash:
        return row.seq, f"event {row.seq} was altered: its content does not match its hash"
    return None


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
