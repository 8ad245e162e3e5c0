"""Persistence: SQLAlchemy Core schema, migrations and the hash-chained ledger.

Only this package touches the database. SQLite (WAL) by default, PostgreSQL in
production; :meth:`Store.open` migrates either to the newest schema. A :class:`Store`
hands out transactions (:class:`Tx`), whose queries are in its repositories
(``tx.accounts``, ``tx.senders``, ``tx.contacts``, ``tx.messages``, ``tx.ledger``,
``tx.outbox``: :mod:`optline.store.repo`).
"""

from optline.store.database import Store
from optline.store.group_commit import CommitFailed
from optline.store.repo.contacts import StoredLocation
from optline.store.repo.outbox import CHECKPOINT_EVENT
from optline.store.rows import (
    AccountRow,
    Conflict,
    Deliveries,
    DuplicateDelivery,
    ListRow,
    MessageRow,
    Notification,
    SenderRow,
    StoredEvent,
    SubscriptionRow,
    VerifyResult,
)
from optline.store.tx import Tx

__all__ = [
    "CHECKPOINT_EVENT",
    "AccountRow",
    "CommitFailed",
    "Conflict",
    "Deliveries",
    "DuplicateDelivery",
    "ListRow",
    "MessageRow",
    "Notification",
    "SenderRow",
    "Store",
    "StoredEvent",
    "StoredLocation",
    "SubscriptionRow",
    "Tx",
    "VerifyResult",
]
