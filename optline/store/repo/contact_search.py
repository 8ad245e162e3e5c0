"""The SQL of a contact listing's filter (:class:`ContactFilter`): one WHERE clause
that the page query (keyset on phone) and the exact count share, so the count is
always the number of contacts the pages show."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from optline.domain.consent import Status
from optline.domain.contact_filter import ContactFilter
from optline.store.schema import contacts, memberships, sender_consent

_c = contacts.c
_sc = sender_consent.c


def matching(account_id: int, query: ContactFilter) -> sa.ColumnElement[bool]:
    """The condition a contact row of ``account_id`` meets when ``query`` keeps it."""
    parts: list[sa.ColumnElement[bool]] = [_c.account_id == account_id]
    if query.status is Status.BLOCKED:
        parts.append(_c.blocked == sa.true())
    elif query.status is not None:
        parts.append(_c.blocked == sa.false())
    if query.on_scope:
        parts.append(_in_scope(account_id, query))
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
    if query.sender is None:
        return sa.or_(
            _scope_matches(query, _c), _c.phone.in_(own.where(_scope_matches(query, _sc)))
        )
    own = own.where(_sc.sender == query.sender)
    return sa.or_(
        _c.phone.in_(own.where(_scope_matches(query, _sc))),
        sa.and_(_scope_matches(query, _c), _c.phone.not_in(own)),
    )
