"""What every repository holds: its transaction and that transaction's connection, and
the one way SQLite numbers an account's rows."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from optline.store.queries import Queries
from optline.store.queries_prepared import Driver, Prepared
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

    def _numbers(
        self, cache: dict[int, int], top: Prepared, account_id: int, count: int
    ) -> list[int]:
        """SQLite: the account's next ``count`` numbers after its top one (``top``), read
        once per transaction (which holds the write lock from its start; a group's
        transactions share ``cache``) and counted on here. A rolled-back transaction
        leaves its numbers unused."""
        first = cache.get(account_id)
        if first is None:
            row = top.first(self._driver, {"account": account_id})
            first = (row[0] if row is not None and row[0] is not None else 0) + 1
        cache[account_id] = first + count
        return list(range(first, first + count))
