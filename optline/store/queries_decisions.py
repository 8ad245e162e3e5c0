"""The statements a send decision reads: one contact's view for a send (``send_view``)
and, for a campaign, every contact with something that can refuse it (``suppressed``).

What belongs here: the reads behind ``consent.decide`` and ``domain.decisions``, keyed
by account, sender, list and purpose. The contact's own reads and writes are in
``queries_contacts``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from optline.store.queries_prepared import Prepared
from optline.store.schema import contacts, memberships, purpose_consent, sender_consent

_p = sa.bindparam


def send_view(with_list: bool, with_purpose: bool = True) -> sa.Select[Any]:
    """What a send from ``:sender`` (to ``:list``) of ``:purpose`` reads of the contact
    ``:phone``: blocked, the account's status, texted, inbound, the sender's own status
    and the list's subscription (NULL when it has none), its stored location (send
    windows), its written consent's purposes and the purpose's own status (NULL when
    it has none, or, without ``with_purpose``, for an account with no purpose's own
    consent on record).
    Primary-key look-ups only."""
    c, sc, ms, pc = contacts, sender_consent, memberships, purpose_consent
    mine = c.c.account_id == _p("account", type_=sa.Integer)
    own = (
        sa.select(sc.c.status)
        .where(
            sc.c.account_id == _p("account"),
            sc.c.phone == _p("phone", type_=sa.String),
            sc.c.sender == _p("sender", type_=sa.String),
        )
        .scalar_subquery()
    )
    subscribed: sa.ColumnElement[Any] = sa.null()
    if with_list:
        subscribed = (
            sa.select(ms.c.subscribed)
            .where(
                ms.c.account_id == _p("account"),
                ms.c.list_name == _p("list", type_=sa.String),
                ms.c.phone == _p("phone"),
            )
            .scalar_subquery()
        )
    purpose: sa.ColumnElement[Any] = sa.null()
    if with_purpose:
        purpose = (
            sa.select(pc.c.status)
            .where(
                pc.c.account_id == _p("account"),
                pc.c.phone == _p("phone"),
                pc.c.purpose == _p("purpose", type_=sa.String),
            )
            .scalar_subquery()
        )
    return sa.select(
        c.c.blocked,
        c.c.status,
        c.c.texted,
        c.c.inbound,
        own,
        subscribed,
        c.c.time_zone,
        c.c.us_state,
        c.c.written,
        purpose,
    ).where(mine, c.c.phone == _p("phone"))


FACT_BLOCKED, FACT_OPTED_OUT, FACT_SENDER_OPTED_IN, FACT_SENDER_OPTED_OUT = 1, 2, 3, 4
FACT_LIST_UNSUBSCRIBED = 5
FACT_PURPOSE_OPTED_IN, FACT_PURPOSE_OPTED_OUT = 6, 7


def _fact(number: int) -> sa.ColumnClause[int]:
    return sa.literal_column(str(number), sa.Integer())


def suppressed(with_list: bool) -> sa.CompoundSelect[Any]:
    """(phone, fact) for every contact with something that can refuse a send from
    ``:sender`` (to ``:list``) of ``:purpose``: blocked, opted out for the account, the
    sender's own status, the purpose's own status, unsubscribed from the list (the
    ``FACT_*`` numbers: small integers, which the driver does not allocate row by row).

    Each branch is a range of one covering index, with no look-up per row; the caller
    combines the facts in the order ``consent.decide`` applies them. One statement, so
    they all come from one snapshot.
    """
    c, sc, ms, pc = contacts, sender_consent, memberships, purpose_consent
    mine = c.c.account_id == _p("account", type_=sa.Integer)
    opted_out: sa.ColumnClause[str] = sa.literal_column("'opted_out'", sa.String())
    opted_in: sa.ColumnClause[str] = sa.literal_column("'opted_in'", sa.String())
    own = (sc.c.account_id == _p("account"), sc.c.sender == _p("sender", type_=sa.String))
    branches: list[sa.Select[Any]] = [
        sa.select(c.c.phone, _fact(FACT_BLOCKED)).where(mine, c.c.blocked == sa.true()),
        sa.select(c.c.phone, _fact(FACT_OPTED_OUT)).where(
            mine, c.c.blocked == sa.false(), c.c.status == opted_out
        ),
        sa.select(sc.c.phone, _fact(FACT_SENDER_OPTED_IN)).where(*own, sc.c.status == opted_in),
        sa.select(sc.c.phone, _fact(FACT_SENDER_OPTED_OUT)).where(*own, sc.c.status == opted_out),
    ]
    purpose = (pc.c.account_id == _p("account"), pc.c.purpose == _p("purpose", type_=sa.String))
    branches += [
        sa.select(pc.c.phone, _fact(FACT_PURPOSE_OPTED_IN)).where(
            *purpose, pc.c.status == opted_in
        ),
        sa.select(pc.c.phone, _fact(FACT_PURPOSE_OPTED_OUT)).where(
            *purpose, pc.c.status == opted_out
        ),
    ]
    if with_list:
        branches.append(
            sa.select(ms.c.phone, _fact(FACT_LIST_UNSUBSCRIBED)).where(
                ms.c.account_id == _p("account"),
                ms.c.list_name == _p("list", type_=sa.String),
                ms.c.subscribed == sa.false(),
            )
        )
    return sa.union_all(*branches)


class DecisionQueries:
    def __init__(self, dialect: Dialect) -> None:
        self.send_view = Prepared(send_view(with_list=False), dialect)
        self.send_view_list = Prepared(send_view(with_list=True), dialect)
        # The same, for an account with no purpose's own consent on record: one
        # primary-key look-up fewer a decision.
        self.send_view_scopes = Prepared(send_view(False, with_purpose=False), dialect)
        self.send_view_list_scopes = Prepared(send_view(True, with_purpose=False), dialect)
        self.any_purpose_consent = Prepared(
            sa.select(
                sa.exists().where(purpose_consent.c.account_id == _p("account", type_=sa.Integer))
            ),
            dialect,
        )
        self.suppressed = Prepared(suppressed(with_list=False), dialect)
        self.suppressed_from_list = Prepared(suppressed(with_list=True), dialect)
