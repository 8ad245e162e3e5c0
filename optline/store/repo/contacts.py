"""Contacts: a contact's consent state (its own row, its consent per sender and its
list memberships), read and locked for a change and saved as changed; contacts listed
and counted by a filter (its SQL is ``contact_search``'s); the views a send decides
with (one contact at a time, or the suppressed phones of a whole send at once); and
the contact's stored location."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Final

import sqlalchemy as sa

from optline.domain.consent import ContactState
from optline.domain.consent_codes import Status
from optline.domain.contact_filter import EVERY_CONTACT, ContactFilter
from optline.store.ledger import utc
from optline.store.queries_contacts import KeyValueRows, contact_select
from optline.store.queries_decisions import (
    FACT_BLOCKED,
    FACT_LIST_UNSUBSCRIBED,
    FACT_OPTED_OUT,
    FACT_PURPOSE_OPTED_IN,
    FACT_PURPOSE_OPTED_OUT,
    FACT_SENDER_OPTED_IN,
    FACT_SENDER_OPTED_OUT,
)
from optline.store.repo.base import Repository
from optline.store.repo.contact_search import count_of, matching
from optline.store.rows import contact_state, contact_values, written_purposes
from optline.store.schema import contacts, purpose_consent, sender_consent

_NOT_LOADED: Final = object()
_STATUS: Final = {status.value: status for status in Status}
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
#: A contact's stored time zone and US state (each None: read from the number).
StoredLocation = tuple[str | None, str | None]
_NOWHERE: Final[StoredLocation] = (None, None)
_NONE_WRITTEN: Final[frozenset[str]] = frozenset()


class Contacts(Repository):
    __slots__ = ()

    def get(self, account_id: int, phone: str, *, for_update: bool = False) -> ContactState | None:
        """The contact's full consent state, or None if the account has never seen it.

        ``for_update`` locks the contact until the transaction ends (PostgreSQL; a
        SQLite write transaction is exclusive already). A contact that does not exist
        yet is created in its default state so that concurrent first writers queue on
        its row too; it is still reported as None.
        """
        params = {"account": account_id, "phone": phone}
        if for_update and self._postgres and not self._lock(params):
            state = None
        else:
            row = self._q.contact.first(self._driver, params)
            state = None if row is None else contact_state(row)
        self._tx.seen[(account_id, phone)] = state
        return state

    def _lock(self, params: Mapping[str, Any]) -> bool:
        """Lock the contact's row; False if it did not exist and has just been created.

        The state is read by a later statement: under READ COMMITTED a statement that
        waited for the lock still sees its consent and list rows as they were before
        the previous holder committed.
        """
        if self._q.lock_contact.first(self._driver, params) is not None:
            return True
        if self._claim(params["account"], params["phone"]):
            return False
        # Another transaction created it meanwhile (and has committed): lock it.
        self._q.lock_contact.all(self._driver, params)
        return True

    def _claim(self, account_id: int, phone: str) -> bool:
        """Insert a default row for a new contact; False if it exists after all."""
        self._tx.check_writable()
        values = contact_values(account_id, ContactState(phone), datetime.now(UTC))
        return self._q.claim_contact.first(self._driver, values) is not None

    def save(self, account_id: int, state: ContactState, at: datetime) -> None:
        """Store the contact's whole state (only the parts that changed since it was read),
        as changed at ``at``."""
        self._tx.check_writable()
        key = (account_id, state.phone)
        before = self._tx.seen.get(key, _NOT_LOADED)
        old_senders: dict[str, Any] | None
        old_lists: dict[str, Any] | None
        old_purposes: dict[str, Any] | None
        if isinstance(before, ContactState):
            old_senders = {k: v.value for k, v in before.sender_status.items()}
            old_lists = dict(before.lists)
            old_purposes = {k: v.value for k, v in before.purposes.items()}
        elif before is None:  # read in this transaction: it had no rows yet
            old_senders, old_lists, old_purposes = {}, {}, {}
        else:  # not read in this transaction: rewrite all of it
            old_senders = old_lists = old_purposes = None
        if not isinstance(before, ContactState) or _scalars(before) != _scalars(state):
            self._upsert(account_id, state, at)
        senders_now = {k: v.value for k, v in state.sender_status.items()}
        self._sync(self._q.sender_consent, account_id, state.phone, senders_now, old_senders)
        self._sync(self._q.memberships, account_id, state.phone, dict(state.lists), old_lists)
        if state.purposes or old_purposes != {}:
            purposes_now = {k: v.value for k, v in state.purposes.items()}
            self._sync(self._q.purpose_consent, account_id, state.phone, purposes_now, old_purposes)
        self._tx.seen[key] = state

    def _upsert(self, account_id: int, state: ContactState, at: datetime) -> None:
        values = contact_values(account_id, state, utc(at))
        self._q.upsert_contact.run(self._driver, values)

    def _sync(
        self,
        rows: KeyValueRows,
        account_id: int,
        phone: str,
        after: Mapping[str, Any],
        before: Mapping[str, Any] | None,
    ) -> None:
        """Make the contact's ``key -> value`` rows equal ``after``.

        ``before`` is what the table holds (None: unknown, so rewrite all of it).
        """
        owner = {"owner_account": account_id, "owner": phone}
        if before is None:
            self._conn.execute(rows.delete_all, owner)
            before = {}
        gone = [k for k in before if k not in after]
        if gone:
            self._conn.execute(rows.delete_keys, {**owner, "keys": gone})
        changed = [
            {"account_id": account_id, "phone": phone, rows.key: k, rows.value: v}
            for k, v in after.items()
            if k not in before or before[k] != v
        ]
        if changed:
            self._conn.execute(rows.upsert, changed)

    def locations(self, account_id: int) -> Callable[[str], StoredLocation]:
        """A contact's stored time zone and US state, (None, None) where none is stored,
        as a function of its phone, for many look-ups in this transaction (one driver
        cursor, one primary-key query each)."""
        rows = self._q.contact_location.repeat(self._driver, {"account": account_id}, "phone")

        def location(phone: str) -> StoredLocation:
            found = rows(phone)
            return (found[0][0], found[0][1]) if found else _NOWHERE

        return location

    def set_location(
        self, account_id: int, phone: str, time_zone: str | None, state: str | None, at: datetime
    ) -> None:
        """Store the contact's time zone and US state (None: from the number), creating
        the contact in its default state if the account has never seen it."""
        if self.get(account_id, phone, for_update=True) is None:
            self.save(account_id, ContactState(phone), at)
        key = (contacts.c.account_id == account_id) & (contacts.c.phone == phone)
        values = {"time_zone": time_zone, "us_state": state, "updated_at": utc(at)}
        self._conn.execute(sa.update(contacts).where(key).values(values))

    def find(
        self,
        account_id: int,
        query: ContactFilter = EVERY_CONTACT,
        *,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ContactState]:
        """The contacts ``query`` keeps, in phone order, from just after ``after``."""
        stmt = contact_select(self._postgres).where(matching(account_id, query))
        if after is not None:
            stmt = stmt.where(contacts.c.phone > after)
        stmt = stmt.order_by(contacts.c.phone).limit(limit)
        return [contact_state(row) for row in self._conn.execute(stmt)]

    def count(self, account_id: int, query: ContactFilter = EVERY_CONTACT) -> int:
        """How many contacts ``query`` keeps (exactly: all the pages of :meth:`find`)."""
        found = self._q.any_purpose_consent.first(self._driver, {"account": account_id})
        stmt = count_of(account_id, query, with_purposes=bool(found and found[0]))
        return int(self._conn.execute(stmt).scalar_one())

    def phones_with_sender_consent(self, account_id: int) -> list[str]:
        """Every contact with a consent of its own for some sender (SENDER scope)."""
        sc = sender_consent
        stmt = (
            sa.select(sc.c.phone)
            .where(sc.c.account_id == account_id)
            .group_by(sc.c.phone)
            .order_by(sc.c.phone)
        )
        return list(self._conn.execute(stmt).scalars())

    def send_view(
        self, account_id: int, sender: str, list_name: str | None, purpose: str | None = None
    ) -> Callable[[str], tuple[ContactState | None, StoredLocation]]:
        """Contacts as a send from ``sender`` (to ``list_name``) of ``purpose`` sees them,
        for deciding many recipients in this transaction: one primary-key query per
        contact, on one driver cursor. A state holds the contact's own status for this
        sender and this purpose and its subscription to this list only (all that
        ``consent.decide`` reads of them); other senders, purposes and lists are left
        out, so it is not for saving. With it, the contact's stored location (as
        :meth:`locations` gives it).
        """
        q = self._q
        found = q.any_purpose_consent.first(self._driver, {"account": account_id})
        if not (found and found[0]):
            # No contact of the account has a purpose's own consent: none to read.
            query = q.send_view_scopes if list_name is None else q.send_view_list_scopes
        else:
            query = q.send_view if list_name is None else q.send_view_list
        fixed = {"account": account_id, "sender": sender, "list": list_name, "purpose": purpose}
        rows = query.repeat(self._driver, fixed, "phone")
        status = _STATUS.__getitem__
        list_key = list_name or ""

        def state(phone: str) -> tuple[ContactState | None, StoredLocation]:
            found = rows(phone)
            if not found:
                return None, _NOWHERE
            (
                blocked,
                account_status,
                texted,
                inbound,
                own,
                subscribed,
                time_zone,
                us_state,
                written,
                mine,
            ) = found[0]
            return ContactState(
                phone,
                bool(blocked),
                status(account_status),
                _EMPTY if own is None else MappingProxyType({sender: status(own)}),
                _EMPTY if subscribed is None else MappingProxyType({list_key: bool(subscribed)}),
                bool(texted),
                inbound=bool(inbound),
                written=_NONE_WRITTEN if written is None else written_purposes(written),
                purposes=_EMPTY
                if mine is None
                else MappingProxyType({purpose or "": status(mine)}),
            ), (time_zone, us_state)

        return state

    def suppressed(
        self, account_id: int, sender: str, list_name: str | None, purpose: str | None = None
    ) -> dict[str, str]:
        """phone -> reason for every contact that a send from ``sender`` (to
        ``list_name``) of ``purpose`` would refuse for consent, exactly as
        ``consent.decide`` does.

        One query of index ranges (no look-up per contact), so its cost follows the
        number of suppressed contacts rather than the size of the account; the facts
        are combined here: blocked, else the sender's own opt-out, else the purpose's
        own status, else the sender's own opt-in, else the account's status (as
        ``ContactState.status_from`` orders them), else unsubscribed from ``list_name``.
        """
        params = {"account": account_id, "sender": sender, "list": list_name, "purpose": purpose}
        query = self._q.suppressed if list_name is None else self._q.suppressed_from_list
        facts: dict[int, list[str]] = {}
        for fact, rows in groupby(query.all(self._driver, params), key=itemgetter(1)):
            facts.setdefault(fact, []).extend(map(itemgetter(0), rows))
        refused = dict.fromkeys(facts.get(FACT_OPTED_OUT, ()), "opted_out")
        for phone in facts.get(FACT_SENDER_OPTED_IN, ()):
            refused.pop(phone, None)
        for phone in facts.get(FACT_PURPOSE_OPTED_IN, ()):
            refused.pop(phone, None)
        refused.update(dict.fromkeys(facts.get(FACT_PURPOSE_OPTED_OUT, ()), "opted_out"))
        refused.update(dict.fromkeys(facts.get(FACT_SENDER_OPTED_OUT, ()), "opted_out"))
        refused.update(dict.fromkeys(facts.get(FACT_BLOCKED, ()), "blocked"))
        if list_name is None:
            return refused
        unsubscribed = dict.fromkeys(facts.get(FACT_LIST_UNSUBSCRIBED, ()), "list_unsubscribed")
        unsubscribed.update(refused)
        return unsubscribed

    def with_written(self, account_id: int, purpose: str) -> set[str]:
        """Every contact with written consent on record for ``purpose``."""
        c = contacts
        named = purpose.replace("_", "\\_")  # a slug's _ is LIKE's one-character wildcard
        stmt = sa.select(c.c.phone).where(
            c.c.account_id == account_id, c.c.written.like(f"%,{named},%", escape="\\")
        )
        return set(self._conn.execute(stmt).scalars())

    def consenting(
        self, account_id: int, sender: str, with_inbound: bool, purpose: str | None = None
    ) -> set[str]:
        """Every contact a send from ``sender`` of ``purpose`` finds with consent on
        record (opted in as seen from it, or to the purpose; ``with_inbound``: or having
        texted the account), for a policy whose ``no_consent`` refuses the others.
        Opted-out ones may be among them: ``suppressed`` says so."""
        stmt = _consenting(account_id, sender, with_inbound, purpose)
        return set(self._conn.execute(stmt).scalars())


def _consenting(
    account_id: int, sender: str, with_inbound: bool, purpose: str | None
) -> sa.Select[Any]:
    """The phones a send from ``sender`` of ``purpose`` finds with consent on record:
    opted in as seen from it or to the purpose (or, ``with_inbound``, having texted the
    account)."""
    c, sc, pc = contacts, sender_consent, purpose_consent
    own_in = sa.exists().where(
        sc.c.account_id == c.c.account_id,
        sc.c.phone == c.c.phone,
        sc.c.sender == sender,
        sc.c.status == Status.OPTED_IN.value,
    )
    purpose_in = sa.exists().where(
        pc.c.account_id == c.c.account_id,
        pc.c.phone == c.c.phone,
        pc.c.purpose == purpose,
        pc.c.status == Status.OPTED_IN.value,
    )
    consent = sa.or_(c.c.status == Status.OPTED_IN.value, own_in, purpose_in)
    if with_inbound:
        consent = sa.or_(consent, c.c.inbound == sa.true())
    return sa.select(c.c.phone).where(c.c.account_id == account_id, consent)


def _scalars(state: ContactState) -> tuple[Any, ...]:
    return (
        state.blocked,
        state.account_status,
        state.texted,
        state.clarified,
        state.inbound,
        state.written,
        state.choice_until,
        state.choice_purposes,
    )
