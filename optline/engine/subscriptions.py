"""Event webhooks: subscriptions to ledger event types, and the calls of the outbox
worker that delivers them (claim the due deliveries, record each attempt's result).

Belongs here: what an event-webhook subscription may ask for, and the retry schedule.
Notifications are queued with their events, in the same transaction
(``Context._append``); the HTTP delivery is :mod:`optline.notify`'s.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from optline.domain import inputs
from optline.engine.context import AccountRef
from optline.engine.directory import Directory
from optline.errors import BadInput
from optline.store import CHECKPOINT_EVENT, Deliveries, Notification, SubscriptionRow

#: Event types an event-webhook subscription may ask for: ledger events of its account,
#: and the transparency log's signed checkpoints (``checkpoint``, the deployment's).
SUBSCRIBABLE = frozenset(
    {
        "opted_out",
        "opted_in",
        "blocked",
        "unblocked",
        "list_unsubscribed",
        "list_subscribed",
        "revocation_flagged",
        "send_refused",
        "consent_recorded",
        CHECKPOINT_EVENT,
    }
)


# Event-webhook retries: 5 s, 10 s, 20 s, ... capped at an hour; given up after 15 tries
# (about half a day), after which the delivery stays on record as failed.
NOTIFY_BASE_DELAY = 5


NOTIFY_MAX_DELAY = 3600


NOTIFY_MAX_ATTEMPTS = 15


class Subscriptions(Directory):
    """Event-webhook subscriptions and the outbox worker's calls."""

    def add_subscription(
        self, account: AccountRef, url: str, events: Sequence[str]
    ) -> tuple[int, str]:
        """Subscribe ``url`` to event types; returns its id and signing secret (once)."""
        url = inputs.subscription_url(url)
        if not events:
            raise BadInput(f"events: name at least one of {', '.join(sorted(SUBSCRIBABLE))}")
        unknown = sorted(set(events) - SUBSCRIBABLE)
        if unknown:
            raise BadInput(f"unknown event types: {', '.join(unknown)}")
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            return tx.outbox.add_subscription(row.id, url, secret, sorted(set(events))), secret

    def subscriptions(self, account: AccountRef) -> list[SubscriptionRow]:
        with self.store.read() as tx:
            return tx.outbox.subscriptions(self._account(tx, account).id)

    def deliveries(self, account: AccountRef) -> dict[int, Deliveries]:
        """Each subscription's notifications by delivery state (by subscription id)."""
        with self.store.read() as tx:
            return tx.outbox.deliveries(self._account(tx, account).id)

    def claim_notifications(self, limit: int, lease_seconds: int = 60) -> list[Notification]:
        """Due event-webhook deliveries, leased to this worker for ``lease_seconds``."""
        now = self._clock()
        # An idle outbox costs a read, not a turn at the write lock that every consent
        # change and inbound text of this process queues for.
        with self.store.read() as tx:
            if not tx.outbox.any_due(now):
                return []
        with self.store.transaction() as tx:
            return tx.outbox.claim(now, limit, lease_seconds)

    def notification_result(self, notification: Notification, error: str | None) -> None:
        """Record a delivery attempt: done, retried later with backoff, or given up."""
        now = self._clock()
        with self.store.transaction() as tx:
            if error is None:
                tx.outbox.delivered(notification.id, now)
                return
            attempts = notification.attempts + 1
            delay = min(NOTIFY_BASE_DELAY * 2 ** (attempts - 1), NOTIFY_MAX_DELAY)
            tx.outbox.retry(
                notification.id,
                attempts,
                now + timedelta(seconds=delay),
                error[:500],
                give_up=attempts >= NOTIFY_MAX_ATTEMPTS,
            )
