"""The SQL of a contact listing's filter (:class:`ContactFilter`): the WHERE clause of
its pages (keyset on phone) and the statement of its exact count, built from the same
parts, so the count is the number of contacts the pages show."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from optline.domain.consent_codes import Status
from optline.domain.contact_filter import ContactFilter
from optline.store.schema import contacts, memberships, purpose_consent, sender_consent

_c = contacts.c
_sc = sender_consent.c
_pc = purpose_consent.c


def matching(account_id: int, query: ContactFilter) -> sa.ColumnElement[bool]:
    """The condition a contact row of ``account_id`` meets when ``query`` keeps it."""
    if not query.on_scope:
        return _base(account_id, query)
    if query.purpose is None:
        return sa.and_(_base(account_id, query), _in_scope(account_id, query))
    return sa.and_(_base(account_id, query), _deciding_for_purpose(query))


def count_of(account_id: int, query: ContactFilter, with_purposes: bool) -> sa.Select[Any]:
    """How many contacts :func:`matching` keeps, as one statement (``with_purposes``:
    the account has a contact with a purpose's own consent, which a scope's status
    then counts: by the plain count of what :func:`matching` keeps).

    With a scope condition, counted in two parts that each run on an index, not as a
    scan of every contact testing each one against the sender rows: the contacts
    whose own columns match (on the status index), corrected by one pass over the few
    sender rows, each looking its contact up by key. Any scope: plus the contacts
    with a matching sender row whose own columns do not match. As seen from a
    sender: for each of its rows, plus one where the row matches and the contact's
    own columns do not, minus one the other way round (its row decides). For a
    purpose: the same own-columns part, corrected by :func:`_purpose_correction`."""
    base = _base(account_id, query)
    counted = sa.select(sa.func.count()).select_from(contacts)
    if not query.on_scope:
        return counted.where(base)
    on_contact = _scope_matches(query, _c)
    own_columns = counted.where(base, on_contact).scalar_subquery()
    if query.purpose is not None:
        return sa.select(own_columns + _purpose_correction(account_id, query, base, on_contact))
    if with_purposes:
        return counted.where(matching(account_id, query))
    on_row = _scope_matches(query, _sc)
    of_row = sa.and_(_c.account_id == _sc.account_id, _c.phone == _sc.phone)
    if query.sender is None:
        # NULL (no method or time on record) is "does not match".
        not_on_contact = sa.not_(sa.func.coalesce(on_contact, sa.false()))
        rows = (
            sa.select(sa.func.count(sa.distinct(_sc.phone)))
            .where(_sc.account_id == account_id, on_row)
            .where(sa.exists().where(of_row, base, not_on_contact))
        )
        return sa.select(own_columns + rows.scalar_subquery())
    delta = sa.case((on_row, 1), else_=0) - sa.case((on_contact, 1), else_=0)
    rows = (
        sa.select(sa.func.coalesce(sa.func.sum(delta), 0))
        .select_from(sender_consent.join(contacts, of_row))
        .where(_sc.account_id == account_id, _sc.sender == query.sender, base)
    )
    return sa.select(own_columns + rows.scalar_subquery())


def _purpose_correction(
    account_id: int,
    query: ContactFilter,
    base: sa.ColumnElement[bool],
    on_contact: sa.ColumnElement[bool],
) -> sa.ScalarSelect[Any]:
    """What the count of the contacts whose own columns match is off by for a text of
    ``query.purpose``: only a contact with a row of that purpose's own, or of the
    sender's, can be decided by another scope. Each of those few contacts is looked
    up by key: plus one where the deciding scope matches, minus one where its own
    columns do (counted already)."""
    touched = [
        sa.select(_pc.phone).where(_pc.account_id == account_id, _pc.purpose == query.purpose)
    ]
    if query.sender is not None:
        touched.append(
            sa.select(_sc.phone).where(_sc.account_id == account_id, _sc.sender == query.sender)
        )
    # Read first, then each contact by key (DISTINCT keeps SQLite from flattening
    # one purpose's phones into a scan of every contact).
    phones = (sa.union(*touched) if len(touched) > 1 else touched[0].distinct()).subquery()
    deciding = _deciding_for_purpose(query)
    delta = sa.case((deciding, 1), else_=0) - sa.case((on_contact, 1), else_=0)
    of_phone = sa.and_(_c.account_id == account_id, _c.phone == phones.c.phone)
    return (
        sa.select(sa.func.coalesce(sa.func.sum(delta), 0))
        .select_from(phones.join(contacts, of_phone))
        .where(base)
        .scalar_subquery()
    )


def _base(account_id: int, query: ContactFilter) -> sa.ColumnElement[bool]:
    """Every part of ``query`` but the scope's: the account, blocked, list, number."""
    parts: list[sa.ColumnElement[bool]] = [_c.account_id == account_id]
    if query.status is Status.BLOCKED:
        parts.append(_c.blocked == sa.true())
    elif query.status is not None:
        parts.append(_c.blocked == sa.false())
    if query.list_name is not None:
        parts.append(
            sa.exists().where(
                memberships.c.account_id == _c.account_id,
                memberships.c.list_name == query.list_name,
                memberships.c.phone == _c.phone,
            )
        )
    if query.number is not None:
        parts.append(_number(query.number))
    return sa.and_(*parts)


def _number(part: str) -> sa.ColumnElement[bool]:
    """A number's start as a key range (the primary key's order), else its digits
    anywhere in it (``part`` holds only digits and a leading +: nothing to escape)."""
    if part.startswith("+"):
        # Every phone that starts with ``part`` sorts from it to just before the next
        # string of its length ("+1415" .. "+1416"; "9" + 1 is ":").
        upper = part[:-1] + chr(ord(part[-1]) + 1)
        return sa.and_(_c.phone >= part, _c.phone < upper)
    return _c.phone.like(f"%{part}%")


def _scope_matches(query: ContactFilter, cols: Any) -> sa.ColumnElement[bool]:
    """One scope's row (the contact's own columns or a ``sender_consent`` row) in the
    status, with the method and changed within the dates ``query`` asks for."""
    parts: list[sa.ColumnElement[bool]] = []
    if query.status not in (None, Status.BLOCKED):
        assert query.status is not None
        parts.append(cols.status == query.status.value)
    if query.method is not None:
        parts.append(cols.method == query.method.value)
    if query.changed_since is not None:
        parts.append(cols.since >= query.changed_since)
    if query.changed_before is not None:
        parts.append(cols.since < query.changed_before)
    return sa.and_(*parts)


def _in_scope(account_id: int, query: ContactFilter) -> sa.ColumnElement[bool]:
    """Some scope of the contact matches, or, with ``query.sender``, the one that
    decides for it: the sender's own row, else the account's.

    The per-sender rows are read as one uncorrelated set of phones (built once by
    either database, then looked up), not a correlated EXISTS per contact: an exact
    count over a million contacts then costs a scan, not a million index probes."""
    own = sa.select(_sc.phone).where(_sc.account_id == account_id)
    # A purpose's own consent counts from every sender but one whose own opt-out stops
    # every purpose (optline.domain.purposes).
    of_purpose = _c.phone.in_(
        sa.select(_pc.phone).where(_pc.account_id == account_id, _scope_matches(query, _pc))
    )
    if query.sender is None:
        return sa.or_(
            _scope_matches(query, _c),
            _c.phone.in_(own.where(_scope_matches(query, _sc))),
            of_purpose,
        )
    own = own.where(_sc.sender == query.sender)
    sender_out = own.where(_sc.status == Status.OPTED_OUT.value)
    return sa.or_(
        _c.phone.in_(own.where(_scope_matches(query, _sc))),
        sa.and_(_scope_matches(query, _c), _c.phone.not_in(own)),
        sa.and_(of_purpose, _c.phone.not_in(sender_out)),
    )


def _deciding_for_purpose(query: ContactFilter) -> sa.ColumnElement[bool]:
    """The scope that decides for a text of ``query.purpose`` matches, as
    ``ContactState.status_from`` picks it (the send gate's reading): from a sender,
    its own opt-out, else the purpose's own consent, else its own row, else the
    account's; from the account, the purpose's own consent, else the account's.

    Each contact's purpose and sender rows are looked up by key: a page stops at its
    50th match, and the count asks only the few contacts that have such rows
    (:func:`_purpose_correction`). Read as whole sets of phones first, as
    :func:`_in_scope` reads them, a page cost ten times as much (docs/benchmarks.md)."""

    def has(cols: Any, *where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return sa.exists().where(cols.account_id == _c.account_id, cols.phone == _c.phone, *where)

    def marked(*where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return has(_pc, _pc.purpose == query.purpose, *where)

    of_purpose = marked(_scope_matches(query, _pc))
    on_contact = sa.and_(_scope_matches(query, _c), sa.not_(marked()))
    if query.sender is None:
        return sa.or_(of_purpose, on_contact)

    def own(*where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return has(_sc, _sc.sender == query.sender, *where)

    sender_out = own(_sc.status == Status.OPTED_OUT.value)
    return sa.or_(
        sa.and_(of_purpose, sa.not_(sender_out)),
        sa.and_(own(_scope_matches(query, _sc)), sa.or_(sender_out, sa.not_(marked()))),
        sa.and_(on_contact, sa.not_(own())),
    )
