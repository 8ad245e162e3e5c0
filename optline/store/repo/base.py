"""What every repository holds: its transaction and that transaction's connection."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from optline.store.queries import Driver, Queries
from optline.store.state import TxState


class Repository:
    """Queries of one concern, run in the transaction ``tx``."""

    __slots__ = ("_conn", "_driver", "_postgres", "_q", "_tx")

    def __init__(self, tx: TxState) -> None:
        self._tx = tx
        # The transaction's own, held here too: the hot paths read them on every call.
        self._conn: Connection = tx.conn
        self._driver: Driver = tx.driver
        self._q: Queries = tx.q
        self._postgres: bool = tx.postgres
