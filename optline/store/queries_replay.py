"""The statements that read contacts back for ``verify``'s replay
(:mod:`optline.engine.consistency`): their events and their stored projection (own
row, sender and purpose consents, list memberships), of a whole account or of a list
of its contacts. A verify reads thousands of rows: they run on the driver and come
back as it returns them, with no SQLAlchemy processing per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from optline.store.queries_prepared import Driver, Prepared
from optline.store.schema import contacts, events, memberships, purpose_consent, sender_consent


class ContactRows:
    """One statement's rows of an account's contacts: of all of them, or of a list (one
    parameter however long: PostgreSQL an array, SQLite the list as JSON text walked by
    ``json_each``, through ``index`` where SQLite's planner would otherwise scan all the
    account's rows)."""

    def __init__(
        self, stmt: sa.Select[Any], table: sa.Table, dialect: Dialect, index: str | None = None
    ) -> None:
        account = table.c.account_id == sa.bindparam("account", type_=sa.Integer)
        self._all = Prepared(stmt.where(account), dialect)
        listed: sa.Executable
        if dialect.name == "postgresql":
            phones = sa.bindparam("phones", type_=postgresql.ARRAY(sa.String))
            listed = stmt.where(account, table.c.phone == sa.any_(phones))
        else:
            # SQLite ignores SQLAlchemy's table hints: the statement is written out.
            names = ", ".join(column.name for column in stmt.selected_columns)
            indexed = f" INDEXED BY {index}" if index else ""
            listed = sa.text(
                f"SELECT {names} FROM {table.name}{indexed} WHERE account_id = :account"
                " AND phone IN (SELECT value FROM json_each(:phones))"
            ).bindparams(
                sa.bindparam("account", type_=sa.Integer), sa.bindparam("phones", type_=sa.JSON)
            )
        self._listed = Prepared(listed, dialect)

    def rows(
        self, driver: Driver, account_id: int, phones: Sequence[str] | None = None
    ) -> list[tuple[Any, ...]]:
        if phones is None:
            return self._all.all(driver, {"account": account_id})
        return self._listed.all(driver, {"account": account_id, "phones": list(phones)})


class ReplayQueries:
    def __init__(self, dialect: Dialect) -> None:
        e, c, sc, pc, ms = events, contacts, sender_consent, purpose_consent, memberships
        self.contact_events = ContactRows(
            sa.select(*e.c),  # the event's row as rows.driver_event reads it
            e,
            dialect,
            "ix_events_account_id_phone_seq",
        )
        self.contact_marks = ContactRows(
            sa.select(
                c.c.phone,
                c.c.blocked,
                c.c.status,
                c.c.method,
                c.c.since,
                c.c.event_seq,
                c.c.written,
            ),
            c,
            dialect,
        )
        self.sender_marks = ContactRows(
            sa.select(
                sc.c.phone, sc.c.sender, sc.c.status, sc.c.method, sc.c.since, sc.c.event_seq
            ),
            sc,
            dialect,
        )
        self.purpose_marks = ContactRows(
            sa.select(
                pc.c.phone, pc.c.purpose, pc.c.status, pc.c.method, pc.c.since, pc.c.event_seq
            ),
            pc,
            dialect,
        )
        self.list_marks = ContactRows(
            sa.select(ms.c.phone, ms.c.list_name, ms.c.subscribed),
            ms,
            dialect,
            "ix_memberships_account_id_phone",
        )
