"""The consent projection: each contact's blocked flag, list memberships, written
consent's purposes and, per scope (and per purpose with a consent of its own), status
with the method, time and event that set it (:mod:`optline.domain.projection`), as the
contact tables store it. Marked as each change commits, read whole for ``ledger
verify`` and the views of every scope, rewritten from the ledger by ``ledger repair``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from optline.domain.consent import ContactState
from optline.domain.consent_codes import Method, Status
from optline.domain.projection import Mark, Projection
from optline.store.repo.base import Repository
from optline.store.rows import contact_values, moment_value, written_column, written_purposes
from optline.store.schema import contacts, memberships, purpose_consent, sender_consent


class Projections(Repository):
    __slots__ = ()

    def mark(self, account_id: int, touched: Projection) -> None:
        """Record how, when and by which event a change set the scopes it ``touched``
        (its status is already saved with the contact)."""
        self._tx.check_writable()
        key = {"account": account_id, "phone": touched.phone}
        if touched.account is not None:
            self._q.mark_account.run(self._driver, {**key, **_mark_values(touched.account)})
        for sender, mark in touched.senders.items():
            values = {**key, "sender": sender, **_mark_values(mark)}
            self._q.mark_sender.run(self._driver, values)
        for purpose, mark in touched.purposes.items():
            values = {**key, "purpose": purpose, **_mark_values(mark)}
            self._q.mark_purpose.run(self._driver, values)

    def read(self, account_id: int, phones: Sequence[str] | None = None) -> list[Projection]:
        """The stored projection of the account's contacts (of ``phones`` only, when
        given), in phone order; read as the driver returns the rows (``verify`` reads
        thousands)."""
        driver, q, key = self._driver, self._q, (account_id, phones)
        senders: dict[str, dict[str, Mark]] = {}
        for phone, sender, *mark in q.sender_marks.rows(driver, *key):
            senders.setdefault(phone, {})[sender] = _stored_mark(*mark)
        purposes: dict[str, dict[str, Mark]] = {}
        for phone, purpose, *mark in q.purpose_marks.rows(driver, *key):
            purposes.setdefault(phone, {})[purpose] = _stored_mark(*mark)
        lists: dict[str, dict[str, bool]] = {}
        for phone, name, subscribed in q.list_marks.rows(driver, *key):
            lists.setdefault(phone, {})[name] = bool(subscribed)
        found: list[Projection] = []
        for phone, blocked, status, method, since, event_seq, written in sorted(
            q.contact_marks.rows(driver, *key)
        ):
            unset = status == Status.NO_CONSENT and method is None and since is None
            found.append(
                Projection(
                    phone,
                    bool(blocked),
                    None
                    if unset and event_seq is None
                    else _stored_mark(status, method, since, event_seq),
                    MappingProxyType(senders.get(phone, {})),
                    MappingProxyType(lists.get(phone, {})),
                    written_purposes(written),
                    MappingProxyType(purposes.get(phone, {})),
                )
            )
        return found

    def restore(self, account_id: int, projection: Projection, at: datetime) -> None:
        """Rewrite one contact's consent rows as ``projection`` says (its texted,
        clarified and inbound flags, which are not consent, stay as they are)."""
        self._tx.check_writable()
        c, sc, ms, pc = contacts, sender_consent, memberships, purpose_consent
        phone = projection.phone
        values = contact_values(account_id, ContactState(phone), at)
        self._conn.execute(
            sa.insert(c).from_select(
                list(values),
                sa.select(*(sa.literal(v, c.c[k].type) for k, v in values.items())).where(
                    ~sa.exists().where(c.c.account_id == account_id, c.c.phone == phone)
                ),
            )
        )
        account: dict[str, Any] = {"method": None, "since": None, "event_seq": None}
        if projection.account is not None:
            account = _mark_values(projection.account)
        account.update(status=projection.account_status.value)
        self._conn.execute(
            sa.update(c)
            .where(c.c.account_id == account_id, c.c.phone == phone)
            .values(
                blocked=projection.blocked,
                updated_at=at,
                written=written_column(projection.written),
                **account,
            )
        )
        for table in (sc, ms, pc):
            self._conn.execute(
                sa.delete(table).where(table.c.account_id == account_id, table.c.phone == phone)
            )
        if projection.senders:
            rows = [
                {"account_id": account_id, "phone": phone, "sender": sender, **_mark_values(m)}
                for sender, m in projection.senders.items()
            ]
            self._conn.execute(sa.insert(sc), rows)
        if projection.lists:
            rows = [
                {"account_id": account_id, "phone": phone, "list_name": name, "subscribed": on}
                for name, on in projection.lists.items()
            ]
            self._conn.execute(sa.insert(ms), rows)
        if projection.purposes:
            rows = [
                {"account_id": account_id, "phone": phone, "purpose": name, **_mark_values(m)}
                for name, m in projection.purposes.items()
            ]
            self._conn.execute(sa.insert(pc), rows)


def _mark_values(mark: Mark) -> dict[str, Any]:
    return {
        "status": mark.status.value,
        "method": None if mark.method is None else mark.method.value,
        "since": mark.since,
        "event_seq": mark.event_seq,
    }


def _stored_mark(status: str, method: str | None, since: Any, event_seq: Any) -> Mark:
    """A scope's mark from its columns as the driver returns them (``since``: SQLite's
    text or PostgreSQL's datetime; None, as stored, where no event set it)."""
    when: Any = None if since is None else moment_value(since)
    return Mark(_STATUS[status], None if method is None else _METHOD[method], when, event_seq)


# The members by value, looked up once per row (a dict read, not an enum call).
_STATUS = {status.value: status for status in Status}
_METHOD = {method.value: method for method in Method}
