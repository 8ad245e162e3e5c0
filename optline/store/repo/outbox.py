"""The transactional outbox of event webhooks: an account's subscriptions, the
notifications queued for them in the transaction that appends the events (or, for the
transparency log's checkpoints, in the sequencer's transaction that signs them), and
their delivery (leased to a worker, then delivered, retried or given up)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from optline.store.checkpoint import Checkpoint
from optline.store.ledger import timestamp
from optline.store.repo.base import Repository
from optline.store.rows import (
    Deliveries,
    Notification,
    StoredEvent,
    SubscriptionRow,
    json_value,
)
from optline.store.schema import notifications, subscriptions

#: The event-webhook type that publishes the transparency log's signed checkpoints.
CHECKPOINT_EVENT = "checkpoint"

# An account's event-webhook subscriptions and the version of them they are.


class Outbox(Repository):
    __slots__ = ()

    # -- subscriptions -----------------------------------------------------------------

    def add_subscription(
        self, account_id: int, url: str, secret: str, event_types: Sequence[str]
    ) -> int:
        tx = self._tx
        tx.check_writable()
        # First, so that (on PostgreSQL) the changes that would notify the account's
        # subscriptions (ledger.append) are done before the new one is added, and those
        # after it wait for it to commit, then read the new version.
        if self._postgres:
            self._conn.execute(self._q.lock_subscriptions, {"account": account_id})
        self._conn.execute(self._q.bump_subscriptions, {"account": account_id})
        tx.subscriptions_written.add(account_id)
        tx.subscriptions_version.pop(account_id, None)
        tx.read_subscriptions.pop(account_id, None)
        s = subscriptions
        last = self._conn.execute(
            sa.select(sa.func.max(s.c.id)).where(s.c.account_id == account_id)
        ).scalar_one_or_none()
        sub_id = (last or 0) + 1
        self._conn.execute(
            sa.insert(s).values(
                account_id=account_id,
                id=sub_id,
                url=url,
                secret=tx.sealer.seal_text(secret),
                events=list(event_types),
                created_at=datetime.now(UTC),
            )
        )
        tx.subscriptions.pop(account_id, None)
        return sub_id

    def subscriptions(self, account_id: int) -> list[SubscriptionRow]:
        rows = self._q.subscriptions.all(self._driver, {"account": account_id})
        return [SubscriptionRow(id, url, list(json_value(events))) for id, url, events in rows]

    def _current_subscriptions(self, account_id: int) -> list[SubscriptionRow]:
        tx = self._tx
        version = tx.subscriptions_version.get(account_id)
        if version is None or account_id in tx.subscriptions_written:
            return self.subscriptions(account_id)
        known = tx.known_subscriptions.get(account_id)
        if known is not None and known[0] == version:
            return known[1]
        subs = self.subscriptions(account_id)
        tx.read_subscriptions[account_id] = (version, subs)
        return subs

    # -- notifications -----------------------------------------------------------------

    def enqueue(self, account_id: int, stored: Sequence[StoredEvent], at: datetime) -> None:
        """Queue a notification per subscription that asked for each event's type.

        The subscriptions are those committed when ``ledger.append`` read their version
        (under the shared lock on them, on PostgreSQL); this process reads them again
        only when that version has changed.
        """
        if not stored:
            return
        subs = self._tx.subscriptions.get(account_id)
        if subs is None:
            subs = self._current_subscriptions(account_id)
            self._tx.subscriptions[account_id] = subs
        rows = [
            _queued(account_id, sub.id, _payload(event), at, event_seq=event.seq)
            for event in stored
            for sub in subs
            if event.type in sub.events
        ]
        self._queue(rows)

    def enqueue_checkpoint(
        self, checkpoint: Checkpoint, text: str, public_keys: Sequence[str], at: datetime
    ) -> int:
        """Queue a signed checkpoint for every subscription, of any account, that asked
        for ``checkpoint`` events; returns how many were queued."""
        s = subscriptions
        payload = {
            "id": f"checkpoint-{checkpoint.size}",
            "type": CHECKPOINT_EVENT,
            "checkpoint": text,
            "size": checkpoint.size,
            "root": checkpoint.root.hex(),
            "time": timestamp(checkpoint.time),
            "public_keys": list(public_keys),
        }
        # Few subscriptions, and JSON containment differs between the databases: the
        # event types are matched here.
        rows = [
            _queued(account_id, sub_id, payload, at, checkpoint_size=checkpoint.size)
            for account_id, sub_id, events in self._conn.execute(
                sa.select(s.c.account_id, s.c.id, s.c.events)
            )
            if CHECKPOINT_EVENT in json_value(events)
        ]
        self._queue(rows)
        return len(rows)

    def _queue(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._tx.check_writable()
            self._conn.execute(sa.insert(notifications), rows)

    def any_due(self, now: datetime) -> bool:
        return self._conn.execute(_due(now, 1)).first() is not None

    def claim(self, now: datetime, limit: int, lease_seconds: int) -> list[Notification]:
        """Lease up to ``limit`` due notifications to the caller (other workers skip them)."""
        self._tx.check_writable()
        n, s = notifications, subscriptions
        due = _due(now, limit)
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        keys = [key for (key,) in self._conn.execute(due)]
        if not keys:
            return []
        until = now + timedelta(seconds=lease_seconds)
        self._conn.execute(sa.update(n).where(n.c.id.in_(keys)).values(leased_until=until))
        stmt = (
            sa.select(
                n.c.id,
                n.c.account_id,
                n.c.subscription_id,
                n.c.payload,
                n.c.attempts,
                s.c.url,
                s.c.secret,
            )
            .join(s, sa.and_(s.c.account_id == n.c.account_id, s.c.id == n.c.subscription_id))
            .where(n.c.id.in_(keys))
            .order_by(n.c.next_attempt_at)
        )
        sealer = self._tx.sealer
        return [
            Notification(
                r.id,
                r.account_id,
                r.subscription_id,
                r.url,
                sealer.open_text(r.secret),
                dict(r.payload),
                r.attempts,
            )
            for r in self._conn.execute(stmt)
        ]

    def delivered(self, key: int, at: datetime) -> None:
        self._update(key, state="done", delivered_at=at, leased_until=None)

    def retry(
        self,
        key: int,
        attempts: int,
        next_at: datetime,
        error: str,
        *,
        give_up: bool,
    ) -> None:
        self._update(
            key,
            attempts=attempts,
            next_attempt_at=next_at,
            last_error=error,
            leased_until=None,
            state="failed" if give_up else "pending",
        )

    def notifications(self, account_id: int) -> list[dict[str, Any]]:
        """Every notification of the account with its delivery state (oldest first)."""
        n = notifications
        stmt = sa.select(n).where(n.c.account_id == account_id).order_by(n.c.id)
        return [dict(r._mapping) for r in self._conn.execute(stmt)]

    def deliveries(self, account_id: int) -> dict[int, Deliveries]:
        """Each subscription's notifications counted by delivery state, with the time
        of its last delivery (subscriptions with none are left out)."""
        n = notifications
        stmt = (
            sa.select(
                n.c.subscription_id, n.c.state, sa.func.count(), sa.func.max(n.c.delivered_at)
            )
            .where(n.c.account_id == account_id)
            .group_by(n.c.subscription_id, n.c.state)
        )
        found: dict[int, Deliveries] = {}
        for sub_id, state, count, last in self._conn.execute(stmt):
            seen = found.setdefault(sub_id, Deliveries())
            seen.counts[state] = count
            if last is not None:  # a done row's time (UTCDateTime: max keeps the type)
                seen.last_delivered = last
        return found

    def _update(self, key: int, **values: Any) -> None:
        self._tx.check_writable()
        n = notifications
        self._conn.execute(sa.update(n).where(n.c.id == key).values(values))


def _queued(
    account_id: int,
    subscription_id: int,
    payload: dict[str, Any],
    at: datetime,
    *,
    event_seq: int | None = None,
    checkpoint_size: int | None = None,
) -> dict[str, Any]:
    """A new outbox row, due at ``at``."""
    return {
        "account_id": account_id,
        "subscription_id": subscription_id,
        "event_seq": event_seq,
        "checkpoint_size": checkpoint_size,
        "payload": payload,
        "attempts": 0,
        "next_attempt_at": at,
        "leased_until": None,
        "state": "pending",
        "last_error": None,
        "delivered_at": None,
    }


def _payload(event: StoredEvent) -> dict[str, Any]:
    """A notification's body: the event as its webhook delivers it."""
    return {
        "id": f"{event.account_id}-{event.seq}",
        "type": event.type,
        "phone": event.phone,
        "data": event.data,
        "occurred_at": event.occurred_at.isoformat(),
        "seq": event.seq,
        "hash": event.hash,
    }


def _due(now: datetime, limit: int) -> sa.Select[tuple[int]]:
    """The keys of up to ``limit`` notifications due at ``now`` and not leased."""
    n = notifications
    return (
        sa.select(n.c.id)
        .where(
            n.c.state == "pending",
            n.c.next_attempt_at <= now,
            sa.or_(n.c.leased_until.is_(None), n.c.leased_until < now),
        )
        .order_by(n.c.next_attempt_at)
        .limit(limit)
    )
