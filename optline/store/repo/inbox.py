"""The inbox: the account's conversations (one a contact, newest first) with their
unread counts, the read markers that count them, and the ledger's events in a span of
time (for the dashboard's tallies).

Belongs here: queries over messages, read markers and events that list or count
across contacts. A contact's own texts and events are read by ``messages`` and
``ledger``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from optline.store.ledger import utc
from optline.store.queries_prepared import insert
from optline.store.repo.base import Repository
from optline.store.rows import MessageRow, message_row
from optline.store.schema import contacts, events, messages, read_markers


@dataclass(frozen=True)
class Conversation:
    """One contact's texts as the inbox lists them: the latest message in or out, how
    many of the contact's visible texts came after the account last read there, and
    whether the contact is blocked now (its texts are then hidden)."""

    phone: str
    last: MessageRow
    unread: int
    blocked: bool


@dataclass(frozen=True)
class EventFact:
    """An event as the dashboard tallies it: its type, data and time."""

    type: str
    data: dict[str, Any]
    occurred_at: datetime


class Inbox(Repository):
    __slots__ = ()

    def _unread(self) -> sa.ColumnElement[int]:
        """1 for a visible inbound text after the conversation's read marker, else 0."""
        m, r = messages, read_markers
        after_marker = m.c.id > sa.func.coalesce(r.c.last_read_id, 0)
        counted = sa.and_(m.c.direction == "in", m.c.hidden.is_(False), after_marker)
        return sa.case((counted, 1), else_=0)

    def conversations(
        self, account_id: int, limit: int, before: int | None = None, blocked: bool = False
    ) -> list[Conversation]:
        """Up to ``limit`` conversations, the one with the newest message first; with
        ``before``, those whose newest message is older than that message id; with
        ``blocked``, those of blocked contacts too."""
        m, r, c = messages, read_markers, contacts
        is_blocked = sa.func.coalesce(c.c.blocked, sa.false())
        last_id = sa.func.max(m.c.id).label("last_id")
        stmt = (
            sa.select(m.c.phone, last_id, sa.func.sum(self._unread()).label("unread"), is_blocked)
            .select_from(
                m.outerjoin(
                    r, sa.and_(r.c.account_id == m.c.account_id, r.c.phone == m.c.phone)
                ).outerjoin(c, sa.and_(c.c.account_id == m.c.account_id, c.c.phone == m.c.phone))
            )
            .where(m.c.account_id == account_id)
            .group_by(m.c.phone, is_blocked)
            .order_by(last_id.desc())
            .limit(limit)
        )
        if not blocked:
            stmt = stmt.where(is_blocked.is_(False))
        if before is not None:
            stmt = stmt.having(sa.func.max(m.c.id) < before)
        found = self._conn.execute(stmt).all()
        lasts = self._messages(account_id, [row.last_id for row in found])
        return [
            Conversation(row.phone, lasts[row.last_id], int(row.unread or 0), bool(row[3]))
            for row in found
        ]

    def _messages(self, account_id: int, ids: Iterable[int]) -> dict[int, MessageRow]:
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id, m.c.id.in_(list(ids)))
        return {row.id: message_row(row) for row in self._conn.execute(stmt)}

    def unread(self, account_id: int) -> int:
        """How many visible texts of contacts not blocked wait unread, in all."""
        m, r, c = messages, read_markers, contacts
        stmt = (
            sa.select(sa.func.count())
            .select_from(
                m.outerjoin(
                    r, sa.and_(r.c.account_id == m.c.account_id, r.c.phone == m.c.phone)
                ).outerjoin(c, sa.and_(c.c.account_id == m.c.account_id, c.c.phone == m.c.phone))
            )
            .where(m.c.account_id == account_id, self._unread() == 1)
            .where(sa.func.coalesce(c.c.blocked, sa.false()).is_(False))
        )
        return int(self._conn.execute(stmt).scalar_one())

    def latest(self, account_id: int) -> int:
        """The account's newest message id (0: none yet): it moves with every text."""
        m = messages
        stmt = sa.select(sa.func.max(m.c.id)).where(m.c.account_id == account_id)
        return int(self._conn.execute(stmt).scalar_one() or 0)

    def mark_read(self, account_id: int, phone: str, message_id: int, at: datetime) -> None:
        """The account has read ``phone``'s conversation up to ``message_id`` (a marker
        only moves forward: a page opened earlier never marks newer texts unread)."""
        self._tx.check_writable()
        r = read_markers
        values = {"account_id": account_id, "phone": phone, "last_read_id": message_id}
        stmt = insert(r, self._postgres).values(**values, read_at=utc(at))
        stmt = stmt.on_conflict_do_update(
            index_elements=[r.c.account_id, r.c.phone],
            set_={"last_read_id": stmt.excluded.last_read_id, "read_at": stmt.excluded.read_at},
            where=r.c.last_read_id < stmt.excluded.last_read_id,
        )
        self._conn.execute(stmt)

    def events_since(
        self, account_id: int, since: datetime, types: Iterable[str]
    ) -> list[EventFact]:
        """The account's events of ``types`` from ``since`` on, in ledger order."""
        e = events
        stmt = (
            sa.select(e.c.type, e.c.data, e.c.occurred_at)
            .where(e.c.account_id == account_id, e.c.type.in_(list(types)))
            .where(e.c.occurred_at >= utc(since))
            .order_by(e.c.seq)
        )
        return [EventFact(row.type, row.data, row.occurred_at) for row in self._conn.execute(stmt)]
