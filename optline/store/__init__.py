"""Persistence: SQLAlchemy Core schema, migrations and the hash-chained ledger.

Only this package touches the database. SQLite (WAL) by default, PostgreSQL in
production; :meth:`Store.open` migrates either to the newest schema.
"""

from optline.store.database import Store
from optline.store.rows import (
    AccountRow,
    Conflict,
    DuplicateDelivery,
    ListRow,
    MessageRow,
    SenderRow,
    StoredEvent,
    VerifyResult,
)
from optline.store.tx import Tx

__all__ = [
    "AccountRow",
    "Conflict",
    "DuplicateDelivery",
    "ListRow",
    "MessageRow",
    "SenderRow",
    "Store",
    "StoredEvent",
    "Tx",
    "VerifyResult",
]
