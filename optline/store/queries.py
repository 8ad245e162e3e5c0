"""Statements on the hot paths (inbound, send, append), built once per dialect.

Building a SQLAlchemy statement and its cache key costs more than running it on
SQLite; these are built with bind parameters and reused for every call.

What belongs here: ``Queries``, the statements of every concern in one object (a
transaction's ``tx.q``), and its cache per dialect. The statements are in the
``queries_*`` modules by concern (accounts, contacts, decisions, ledger, messages,
replay);
how one is prepared and run is ``queries_prepared``'s.
"""

from __future__ import annotations

from sqlalchemy.engine import Dialect

from optline.store.queries_accounts import AccountQueries
from optline.store.queries_contacts import ContactQueries
from optline.store.queries_decisions import DecisionQueries
from optline.store.queries_ledger import LedgerQueries
from optline.store.queries_messages import MessageQueries
from optline.store.queries_replay import ReplayQueries


class Queries(
    AccountQueries, ContactQueries, DecisionQueries, LedgerQueries, MessageQueries, ReplayQueries
):
    """The statements of every concern, built for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        AccountQueries.__init__(self, dialect)
        ContactQueries.__init__(self, dialect)
        DecisionQueries.__init__(self, dialect)
        LedgerQueries.__init__(self, dialect)
        MessageQueries.__init__(self, dialect)
        ReplayQueries.__init__(self, dialect)


_built: dict[str, Queries] = {}


def queries(dialect: Dialect) -> Queries:
    """The statements for ``dialect``, built on first use."""
    found = _built.get(dialect.name)
    if found is None:
        found = _built.setdefault(dialect.name, Queries(dialect))
    return found
