"""The statements of an account and its settings: the account by name, id or API key,
its senders, lists and triggers, and its event subscriptions with the version and
advisory lock that keep their notifications consistent (docs/ledger.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from optline.store.queries_prepared import Prepared
from optline.store.schema import accounts, lists, senders, subscriptions, triggers

_p = sa.bindparam

# PostgreSQL: the first key of the advisory lock on an account's subscriptions (the
# second is the account's id); any constant will do, this one spells "subs".
SUBSCRIPTIONS_LOCK = 0x73756273


class AccountQueries:
    def __init__(self, dialect: Dialect) -> None:
        account_columns = (
            accounts.c.id,
            accounts.c.name,
            accounts.c.profile,
            accounts.c.overrides,
            accounts.c.keywords_version,
        )
        self.account_by_name = Prepared(
            sa.select(*account_columns).where(accounts.c.name == _p("name", type_=sa.String)),
            dialect,
        )
        self.account_by_id = Prepared(
            sa.select(*account_columns).where(accounts.c.id == _p("id", type_=sa.Integer)),
            dialect,
        )
        self.account_by_key_hash = Prepared(
            sa.select(*account_columns, accounts.c.api_key_hash, accounts.c.api_key_name).where(
                accounts.c.api_key_hash == _p("hash", type_=sa.String)
            ),
            dialect,
        )
        # An account's row as committed, locked, by (id?, alone?): one of them runs in
        # every PostgreSQL write (Accounts.hold).
        held = {
            by_id: sa.select(*account_columns).where(
                accounts.c.id == _p("key", type_=sa.Integer)
                if by_id
                else accounts.c.name == _p("key", type_=sa.String)
            )
            for by_id in (True, False)
        }
        self.hold_account = {
            (by_id, exclusive): Prepared(
                row.with_for_update()
                if exclusive
                else row.with_for_update(read=True, key_share=True),
                dialect,
            )
            for by_id, row in held.items()
            for exclusive in (True, False)
        }
        self.subscriptions = Prepared(
            sa.select(subscriptions.c.id, subscriptions.c.url, subscriptions.c.events).where(
                subscriptions.c.account_id == _p("account", type_=sa.Integer)
            ),
            dialect,
        )
        self.sender = sa.select(senders).where(senders.c.number == _p("number"))
        self.lists = (
            sa.select(lists).where(lists.c.account_id == _p("account")).order_by(lists.c.name)
        )
        self.triggers = (
            sa.select(triggers)
            .where(triggers.c.account_id == _p("account"))
            .order_by(triggers.c.keyword)
        )
        self.subscriptions_version = Prepared(
            sa.select(accounts.c.subscriptions_version).where(accounts.c.id == _p("account")),
            dialect,
        )
        # PostgreSQL: the advisory lock on an account's subscriptions (docs/ledger.md):
        # shared by the changes that notify them, taken alone to change them.
        self.share_subscriptions = Prepared(
            sa.select(
                sa.func.pg_advisory_xact_lock_shared(
                    sa.literal_column(str(SUBSCRIPTIONS_LOCK)), _p("account", type_=sa.Integer)
                )
            ),
            dialect,
        )
        self.lock_subscriptions = sa.text(
            f"SELECT pg_advisory_xact_lock({SUBSCRIPTIONS_LOCK}, :account)"
        )
        self.bump_subscriptions = (
            sa.update(accounts)
            .where(accounts.c.id == _p("account"))
            .values(subscriptions_version=accounts.c.subscriptions_version + 1)
        )
