"""Texts: inbound texts with their outcome (and the duplicate-delivery check), outbound
texts and their numbering, a contact's recent texts (send caps, replies), status
changes, the unsettled sends (queued or sending), replies waiting for the provider, and
the idempotency keys of send requests."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from optline.domain.messages import MessageStatus
from optline.store.ledger import utc
from optline.store.queries_prepared import Prepared, insert
from optline.store.repo.base import Repository
from optline.store.rows import (
    DuplicateDelivery,
    MessageRow,
    json_value,
    message_row,
    moment_value,
)
from optline.store.schema import PENDING_REPLY, UNSETTLED, messages, send_requests

# Ids bound in one IN list: well under SQLite's and the drivers' limits on parameters.
_ID_CHUNK = 500


class Messages(Repository):
    __slots__ = ()

    # -- inbound and outbound texts ----------------------------------------------------

    def inbound_outcome(
        self, account_id: int, provider_id: str, phone: str, sender: str
    ) -> dict[str, Any] | None:
        """The outcome of the inbound text ``provider_id`` from ``phone`` to ``sender``;
        None if there is none (the id may be another message's)."""
        params = {"account": account_id, "pid": provider_id, "phone": phone, "sender": sender}
        row = self._q.inbound_outcome.first(self._driver, params)
        if row is None:
            return None
        return dict(json_value(row[0]))

    def new_ids(self, account_id: int, count: int) -> list[int]:
        """Numbers for the account's next ``count`` messages, for a caller that needs
        them before it records the messages (a reply's number in the outcome of the
        text it answers). A rolled-back transaction leaves its numbers unused."""
        self._tx.check_writable()
        if self._postgres:
            return [n for (n,) in self._q.message_ids.all(self._driver, {"count": count})]
        return self._numbers(self._tx.message_ids, self._q.top_message_id, account_id, count)

    def record_inbound(
        self,
        account_id: int,
        *,
        provider_id: str | None,
        phone: str,
        sender: str,
        body: str,
        hidden: bool,
        at: datetime,
        outcome: Mapping[str, Any],
        message_id: int | None = None,
    ) -> int:
        """Store an inbound text and its outcome, as ``message_id`` if given (from
        :meth:`new_ids`); DuplicateDelivery if ``provider_id`` is already stored
        (the transaction stays usable, for the caller to roll back)."""
        values = self._values(account_id, message_id, "in", phone, sender, body, at)
        values.update(provider_id=provider_id, hidden=hidden, outcome=dict(outcome))
        stored = self._insert(self._q.insert_inbound, values)
        if stored is None:
            raise DuplicateDelivery(f"message {provider_id!r} was already received")
        return stored

    def record_outbound(
        self,
        account_id: int,
        *,
        phone: str,
        sender: str,
        body: str,
        status: str,
        reason: str | None,
        list_name: str | None,
        campaign: bool,
        at: datetime,
        reply: bool = False,
        message_id: int | None = None,
        disclosure: bool = False,
        purpose: str | None = None,
        sent_by: str | None = None,
        sent_via: str | None = None,
    ) -> int:
        values = self._values(account_id, message_id, "out", phone, sender, body, at)
        values.update(
            sent_by=sent_by,
            sent_via=sent_via,
            status=status,
            reason=reason,
            list_name=list_name,
            campaign=campaign,
            reply=reply,
            disclosure=disclosure,
            purpose=purpose,
        )
        stored = self._insert(self._q.insert_outbound, values)
        assert stored is not None  # no conflict clause
        return stored

    def _values(
        self,
        account_id: int,
        message_id: int | None,
        direction: str,
        phone: str,
        sender: str,
        body: str,
        at: datetime,
    ) -> dict[str, Any]:
        """Every column of a message row (the statements are reused, so always the same
        set); on SQLite the message is numbered here when no number is given."""
        self._tx.check_writable()
        if message_id is None and not self._postgres:
            (message_id,) = self.new_ids(account_id, 1)
        return {
            "account_id": account_id,
            "id": message_id,
            "direction": direction,
            "provider_id": None,
            "phone": phone,
            "sender": sender,
            "body": body,
            "hidden": False,
            "status": MessageStatus.RECEIVED,
            "reason": None,
            "list_name": None,
            "campaign": False,
            "reply": False,
            "disclosure": False,
            "purpose": None,
            "outcome": None,
            "created_at": utc(at),
            "redacted_at": None,
            "sent_by": None,
            "sent_via": None,
        }

    def _insert(self, insert: Prepared, values: dict[str, Any]) -> int | None:
        """Insert a message row; its number, or None when a unique key kept it out."""
        if self._postgres:
            row = insert.first(self._driver, values)
            return None if row is None else int(row[0])
        return int(values["id"]) if insert.run(self._driver, values) else None

    # -- reading texts -----------------------------------------------------------------

    def get(self, account_id: int, message_id: int, for_update: bool = False) -> MessageRow | None:
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id, m.c.id == message_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).first()
        return None if row is None else message_row(row)

    def of_contact(self, account_id: int, phone: str) -> list[MessageRow]:
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id, m.c.phone == phone).order_by(m.c.id)
        return [message_row(r) for r in self._conn.execute(stmt)]

    def received_at(self, account_id: int, phone: str, at: datetime) -> str | None:
        """The text ``phone`` sent that was recorded at ``at`` (with the events its
        reading appended, which share its moment), None if there is none."""
        m = messages
        stmt = sa.select(m.c.body).where(
            m.c.account_id == account_id,
            m.c.phone == phone,
            m.c.direction == "in",
            m.c.created_at == at,
        )
        return self._conn.execute(stmt.limit(1)).scalar()

    def recent(self, account_id: int, limit: int) -> list[MessageRow]:
        """The account's last ``limit`` messages, newest first (its primary key's end)."""
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id).order_by(m.c.id.desc())
        return [message_row(r) for r in self._conn.execute(stmt.limit(limit))]

    def sent_since(
        self, account_id: int, phone: str, campaign: bool, since: datetime
    ) -> list[datetime]:
        """When texts of one purpose (campaign or not) went to ``phone`` after ``since``:
        every outbound text but the refused or failed ones and automatic replies (for
        the send caps, :mod:`optline.domain.windows`)."""
        params = {"account": account_id, "phone": phone, "campaign": campaign, "since": since}
        return [moment_value(row[0]) for row in self._q.sent_since.all(self._driver, params)]

    def last_inbound(self, account_id: int, phone: str) -> datetime | None:
        """When ``phone`` last wrote to the account (None: never)."""
        row = self._q.last_inbound.first(self._driver, {"account": account_id, "phone": phone})
        return None if row is None or row[0] is None else moment_value(row[0])

    def last_text(self, account_id: int, phone: str) -> datetime | None:
        """When a text last went either way between the account and ``phone``: the last
        inbound one, or outbound one that was not refused or failed (None: never)."""
        m = messages
        stmt = sa.select(sa.func.max(m.c.created_at)).where(
            m.c.account_id == account_id,
            m.c.phone == phone,
            sa.or_(m.c.direction == "in", m.c.status != MessageStatus.FAILED.value),
        )
        found = self._conn.execute(stmt).scalar()
        return None if found is None else moment_value(found)

    def by_provider_id(self, account_id: int, provider_id: str) -> MessageRow | None:
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id, m.c.provider_id == provider_id)
        row = self._conn.execute(stmt).first()
        return None if row is None else message_row(row)

    def by_ids(self, account_id: int, ids: Collection[int]) -> list[MessageRow]:
        """The account's messages with these ids, by id (read in chunks of bound ids)."""
        m, wanted = messages, sorted(set(ids))
        found: list[MessageRow] = []
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[start : start + _ID_CHUNK]
            stmt = sa.select(m).where(m.c.account_id == account_id, m.c.id.in_(chunk))
            found.extend(message_row(r) for r in self._conn.execute(stmt.order_by(m.c.id)))
        return found

    def redact(self, account_id: int, message_id: int, at: datetime) -> bool:
        """Empty the body of a message not yet redacted; False when it already was."""
        self._tx.check_writable()
        m = messages
        done = self._conn.execute(
            sa.update(m)
            .where(m.c.account_id == account_id, m.c.id == message_id, m.c.redacted_at.is_(None))
            .values(body="", redacted_at=utc(at))
        )
        return done.rowcount == 1

    # -- statuses and unsettled sends --------------------------------------------------

    def set_status(
        self,
        account_id: int,
        message_id: int,
        status: str,
        reason: str | None,
        provider_id: str | None,
    ) -> None:
        self._tx.check_writable()
        values: dict[str, Any] = {"status": status, "reason": reason}
        if provider_id is not None:
            values["provider_id"] = provider_id
        self._conn.execute(
            sa.update(messages)
            .where(messages.c.account_id == account_id, messages.c.id == message_id)
            .values(values)
        )

    def move(
        self,
        account_id: int,
        message_id: int,
        from_status: str,
        to_status: str,
        reason: str | None = None,
    ) -> bool:
        """Move a message from ``from_status`` to ``to_status``; False when it was not
        (any more) in ``from_status``: someone else is sending it, or has. Claiming a
        text for the provider (queued -> sending) this way sends it once."""
        self._tx.check_writable()
        m = messages
        moved = self._conn.execute(
            sa.update(m)
            .where(m.c.account_id == account_id, m.c.id == message_id, m.c.status == from_status)
            .values(status=to_status, reason=reason)
        )
        return moved.rowcount == 1

    def unsettled(
        self,
        account_id: int,
        status: str,
        after_id: int,
        limit: int,
        before: datetime | None = None,
    ) -> list[MessageRow]:
        """Up to ``limit`` of the account's texts in ``status`` (queued or sending: the
        statuses its partial index holds), by id, after ``after_id``; with ``before``,
        only those recorded before then."""
        m = messages
        stmt = (
            sa.select(m)
            .where(m.c.account_id == account_id, m.c.status == status, m.c.id > after_id)
            # The partial index's own condition, word for word: SQLite uses a partial
            # index only for a query whose WHERE holds its condition's terms.
            .where(UNSETTLED)
            .order_by(m.c.id)
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(m.c.created_at < utc(before))
        return [message_row(r) for r in self._conn.execute(stmt)]

    def count_unsettled(self, account_id: int, queued_before: datetime) -> dict[str, int]:
        """How many of the account's texts are ``sending``, and ``queued`` since before
        ``queued_before`` (through the partial index of unsettled texts)."""
        m = messages
        stmt = (
            sa.select(m.c.status, sa.func.count())
            .where(m.c.account_id == account_id, UNSETTLED)
            .where(sa.or_(m.c.status != MessageStatus.QUEUED, m.c.created_at < utc(queued_before)))
            .group_by(m.c.status)
        )
        return {str(status): int(count) for status, count in self._conn.execute(stmt)}

    def queued_replies(self, before: datetime, limit: int) -> list[tuple[int, MessageRow]]:
        """Replies queued for the provider's API before ``before``, oldest first, with
        their account ids (through the partial index of pending replies)."""
        m = messages
        stmt = (
            sa.select(m)
            .where(PENDING_REPLY, m.c.status == MessageStatus.QUEUED, m.c.created_at < before)
            .order_by(m.c.created_at)
            .limit(limit)
        )
        return [(r.account_id, message_row(r)) for r in self._conn.execute(stmt)]

    def unreported_reply(
        self, account_id: int, message_id: int, sender: str, phone: str
    ) -> MessageRow | None:
        """The automatic reply ``message_id`` from ``sender`` to ``phone``, while no
        provider message id is attached to it (a reply answered in TwiML)."""
        m = messages
        stmt = sa.select(m).where(
            m.c.account_id == account_id,
            m.c.id == message_id,
            m.c.direction == "out",
            m.c.reply.is_(True),
            m.c.sender == sender,
            m.c.phone == phone,
            m.c.provider_id.is_(None),
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else message_row(row)

    # -- send requests (idempotency keys) ----------------------------------------------

    def send_request(self, account_id: int, key: str) -> tuple[str, bool, MessageRow] | None:
        """The send first made with idempotency ``key``: its request's fingerprint,
        whether it was allowed, and its message as it is now."""
        r, m = send_requests, messages
        stmt = (
            sa.select(r.c.fingerprint, r.c.allowed, m)
            .join(m, sa.and_(m.c.account_id == r.c.account_id, m.c.id == r.c.message_id))
            .where(r.c.account_id == account_id, r.c.key == key)
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else (row.fingerprint, row.allowed, message_row(row))

    def queued_notice(self, account_id: int, message: MessageRow) -> MessageRow | None:
        """The first-text notice recorded with ``message`` (to the same contact from the
        same sender, in the same transaction) while it is still queued."""
        m = messages
        stmt = sa.select(m).where(
            m.c.account_id == account_id,
            m.c.phone == message.phone,
            m.c.sender == message.sender,
            m.c.created_at == message.created_at,
            m.c.disclosure.is_(True),
            m.c.status == MessageStatus.QUEUED,
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else message_row(row)

    def record_send_request(
        self,
        account_id: int,
        key: str,
        *,
        message_id: int,
        fingerprint: str,
        allowed: bool,
        at: datetime,
    ) -> None:
        """Tie idempotency ``key`` to the send just recorded; DuplicateDelivery if a
        concurrent request has taken the key (the caller rolls back and replays it)."""
        self._tx.check_writable()
        values = {
            "account_id": account_id,
            "key": key,
            "message_id": message_id,
            "fingerprint": fingerprint,
            "allowed": allowed,
            "created_at": at,
        }
        stmt = insert(send_requests, self._postgres).values(values).on_conflict_do_nothing()
        if self._conn.execute(stmt.returning(send_requests.c.key)).first() is None:
            raise DuplicateDelivery(f"idempotency key {key!r} is already taken")
