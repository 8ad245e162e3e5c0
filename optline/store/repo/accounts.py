"""Accounts: creating and finding them, their policy and API key, and holding an
account's row for the length of a write transaction (the lock every writer takes
first). An account's senders, lists and keywords are in :mod:`.senders`."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from optline.domain.actors import DEFAULT_KEY_NAME
from optline.domain.users import Role
from optline.store.ledger import GENESIS, plain
from optline.store.queries_prepared import insert
from optline.store.repo.base import Repository
from optline.store.rows import AccountRow, Conflict, account_row
from optline.store.schema import accounts


class Accounts(Repository):
    __slots__ = ()

    def create(
        self, name: str, profile: str, overrides: Mapping[str, Any] | None = None
    ) -> AccountRow:
        self._tx.check_writable()
        stmt = insert(accounts, self._postgres).values(
            name=name,
            profile=profile,
            overrides=plain(overrides or {}),
            head_seq=0,
            head_hash=GENESIS,
            created_at=datetime.now(UTC),
        )
        row = self._conn.execute(
            stmt.on_conflict_do_nothing().returning(accounts.c.id)
        ).scalar_one_or_none()
        if row is None:
            raise Conflict(f"account {name!r} already exists")
        return AccountRow(row, name, profile, plain(overrides or {}))

    def by_name(self, name: str) -> AccountRow | None:
        row = self._q.account_by_name.first(self._driver, {"name": name})
        return None if row is None else account_row(row)

    def get(self, account_id: int) -> AccountRow | None:
        cache = self._tx.account_cache
        if cache is not None and account_id in cache:
            return cache[account_id]
        row = self._q.account_by_id.first(self._driver, {"id": account_id})
        if row is None:
            return None
        account = account_row(row)
        if cache is not None:
            cache[account_id] = account
        return account

    def all(self) -> list[AccountRow]:
        stmt = sa.select(
            accounts.c.id,
            accounts.c.name,
            accounts.c.profile,
            accounts.c.overrides,
            accounts.c.keywords_version,
        )
        return [account_row(r) for r in self._conn.execute(stmt.order_by(accounts.c.name))]

    def hold(self, account: int | str, exclusive: bool = False) -> AccountRow | None:
        """The account (by id or by name) as committed now, its row locked until this
        transaction ends; None if there is none.

        On PostgreSQL every write transaction holds its account's row (``FOR KEY
        SHARE``, which concurrent writers of one account share) before it touches any
        contact, and a policy change holds it alone (``FOR UPDATE``): a consent change
        never applies a policy that a change committed meanwhile has replaced. One
        statement reads and locks it. SQLite runs one write transaction at a time, so
        the row as read is current already.
        """
        self._tx.check_writable()
        by_id = isinstance(account, int)
        if not self._postgres:
            return self.get(account) if isinstance(account, int) else self.by_name(account)
        row = self._q.hold_account[by_id, exclusive].first(self._driver, {"key": account})
        return None if row is None else account_row(row)

    def set_policy(self, account_id: int, profile: str, overrides: Mapping[str, Any]) -> None:
        self._tx.check_writable()
        self._conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(profile=profile, overrides=plain(overrides))
        )
        self._changed(account_id)

    def set_api_key_hash(self, account_id: int, key_hash: str, name: str) -> None:
        """The account's API key (its hash) and its name, recorded as who made a change."""
        self._tx.check_writable()
        stmt = sa.update(accounts).where(accounts.c.id == account_id)
        self._conn.execute(stmt.values(api_key_hash=key_hash, api_key_name=name))

    def by_key_hash(self, key_hash: str) -> AccountRow | None:
        row = self._q.account_by_key_hash.first(self._driver, {"hash": key_hash})
        # The index finds the row; the comparison itself runs in constant time.
        if row is None or not hmac.compare_digest(row[5], key_hash):
            return None
        # The account's own key: its holder is the account's owner, an admin.
        name = row[6] or DEFAULT_KEY_NAME
        return replace(account_row(row[:5]), api_key_name=name, role=Role.ADMIN)

    def keywords_changed(self, account_id: int) -> None:
        """Move the account's ``keywords_version`` on (its lists or triggers changed)."""
        self._conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(keywords_version=accounts.c.keywords_version + 1)
        )
        self._changed(account_id)

    def _changed(self, account_id: int) -> None:
        cache = self._tx.account_cache
        if cache is not None:
            cache.pop(account_id, None)
