"""An account's users: added, listed, disabled and enabled; their API keys (by hash)
issued and revoked; and the web UI's sessions, opened, found and ended. A disabled
user's keys and sessions are refused where they are looked up, so they stop at once."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from optline.domain.actors import DEFAULT_KEY_NAME
from optline.domain.users import Role, UserChange, actor_name
from optline.store.repo.base import Repository
from optline.store.rows import AccountRow, UiSession, UserChangeRow, UserRow, account_row
from optline.store.schema import accounts, ui_sessions, user_changes, user_keys, users

_USER_COLUMNS = (
    users.c.account_id,
    users.c.name,
    users.c.role,
    users.c.active,
    users.c.created_at,
    users.c.created_by,
    users.c.last_sign_in_at,
)
_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.name,
    accounts.c.profile,
    accounts.c.overrides,
    accounts.c.keywords_version,
)


def _user(row: Any) -> UserRow:
    account_id, name, role, active, created_at, created_by, last_sign_in_at = row
    return UserRow(
        account_id, name, Role(role), bool(active), created_at, created_by, last_sign_in_at
    )


def _as_user(account: AccountRow, name: str, role: str) -> AccountRow:
    """The account as the user ``name`` acts in it: their actor name and role."""
    return replace(account, api_key_name=actor_name(name), role=Role(role))


class Users(Repository):
    __slots__ = ()

    def add(
        self,
        account_id: int,
        name: str,
        role: Role,
        password_hash: str,
        created_by: str,
        at: datetime,
    ) -> UserRow:
        """Add an active user; Conflict if the account has one of that name."""
        self._tx.check_writable()
        values = {
            "account_id": account_id,
            "name": name,
            "role": role.value,
            "password_hash": password_hash,
            "active": True,
            "created_at": at,
            "created_by": created_by,
        }
        self._tx.insert_or_conflict(users, values, f"user {name!r}")
        return UserRow(account_id, name, role, True, at, created_by)

    def all(self, account_id: int) -> list[UserRow]:
        stmt = sa.select(*_USER_COLUMNS).where(users.c.account_id == account_id)
        return [_user(r) for r in self._conn.execute(stmt.order_by(users.c.name))]

    def get(self, account_id: int, name: str) -> UserRow | None:
        stmt = sa.select(*_USER_COLUMNS).where(
            users.c.account_id == account_id, users.c.name == name
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else _user(row)

    def password_hash(self, account_id: int, name: str) -> tuple[UserRow, str] | None:
        """The user and their password's hash, to check a sign-in against."""
        stmt = sa.select(*_USER_COLUMNS, users.c.password_hash).where(
            users.c.account_id == account_id, users.c.name == name
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else (_user(row[:7]), row[7])

    def set_password_hash(self, account_id: int, name: str, password_hash: str) -> None:
        self._tx.check_writable()
        self._conn.execute(
            sa.update(users)
            .where(users.c.account_id == account_id, users.c.name == name)
            .values(password_hash=password_hash)
        )

    def set_active(self, account_id: int, name: str, active: bool) -> bool:
        """Enable or disable the user (False: there is none of that name); disabling
        ends their web UI sessions too."""
        self._tx.check_writable()
        found = self._conn.execute(
            sa.update(users)
            .where(users.c.account_id == account_id, users.c.name == name)
            .values(active=active)
        ).rowcount
        if found and not active:
            self._conn.execute(
                sa.delete(ui_sessions).where(
                    ui_sessions.c.account_id == account_id, ui_sessions.c.user_name == name
                )
            )
        return bool(found)

    def signed_in(self, account_id: int, name: str, at: datetime) -> None:
        self._tx.check_writable()
        self._conn.execute(
            sa.update(users)
            .where(users.c.account_id == account_id, users.c.name == name)
            .values(last_sign_in_at=at)
        )

    # -- who changed a user -------------------------------------------------------------

    def record_change(
        self, account_id: int, name: str, change: UserChange, by: str, via: str, at: datetime
    ) -> None:
        self._tx.check_writable()
        values = {"account_id": account_id, "user_name": name, "change": change.value}
        self._conn.execute(sa.insert(user_changes).values(by=by, via=via, at=at, **values))

    def changes(self, account_id: int, limit: int) -> list[UserChangeRow]:
        """The account's last ``limit`` changes to its users, newest first."""
        c = user_changes
        stmt = (
            sa.select(c.c.id, c.c.user_name, c.c.change, c.c.by, c.c.via, c.c.at)
            .where(c.c.account_id == account_id)
            .order_by(c.c.id.desc())
            .limit(limit)
        )
        return [
            UserChangeRow(id_, name, UserChange(change), by, via, at)
            for id_, name, change, by, via, at in self._conn.execute(stmt)
        ]

    # -- API keys ---------------------------------------------------------------------

    def add_key(self, account_id: int, name: str, key_hash: str, at: datetime) -> None:
        self._tx.check_writable()
        values = {"account_id": account_id, "key_hash": key_hash, "user_name": name}
        self._conn.execute(sa.insert(user_keys).values(created_at=at, **values))

    def revoke_keys(self, account_id: int, name: str) -> int:
        """Delete every key of the user; returns how many there were."""
        self._tx.check_writable()
        return int(
            self._conn.execute(
                sa.delete(user_keys).where(
                    user_keys.c.account_id == account_id, user_keys.c.user_name == name
                )
            ).rowcount
        )

    def key_counts(self, account_id: int) -> dict[str, int]:
        """How many keys each of the account's users holds (users without one absent)."""
        stmt = (
            sa.select(user_keys.c.user_name, sa.func.count())
            .where(user_keys.c.account_id == account_id)
            .group_by(user_keys.c.user_name)
        )
        return {name: int(count) for name, count in self._conn.execute(stmt)}

    def by_key_hash(self, key_hash: str) -> AccountRow | None:
        """The account as the active user holding this key acts in it; None if no
        user holds it, or theirs is disabled."""
        stmt = (
            sa.select(*_ACCOUNT_COLUMNS, users.c.name, users.c.role, user_keys.c.key_hash)
            .select_from(user_keys)
            .join(accounts, accounts.c.id == user_keys.c.account_id)
            .join(
                users,
                (users.c.account_id == user_keys.c.account_id)
                & (users.c.name == user_keys.c.user_name),
            )
            .where(user_keys.c.key_hash == key_hash, users.c.active == sa.true())
        )
        row = self._conn.execute(stmt).first()
        # The index finds the row; the comparison itself runs in constant time.
        if row is None or not hmac.compare_digest(row[7], key_hash):
            return None
        return _as_user(account_row(row[:5]), row[5], row[6])

    # -- web UI sessions --------------------------------------------------------------

    def open_session(
        self,
        account_id: int,
        token_hash: str,
        csrf: str,
        at: datetime,
        expires_at: datetime,
        user: str | None = None,
        key_hash: str | None = None,
    ) -> None:
        """A new session (the user's, or with ``key_hash`` the account key's holder's);
        the account's sessions past their time are deleted on the way."""
        self._tx.check_writable()
        s = ui_sessions
        self._conn.execute(sa.delete(s).where(s.c.account_id == account_id, s.c.expires_at < at))
        values = {"account_id": account_id, "token_hash": token_hash, "user_name": user}
        self._conn.execute(
            sa.insert(s).values(
                key_hash=key_hash, csrf=csrf, created_at=at, expires_at=expires_at, **values
            )
        )

    def session(self, token_hash: str, now: datetime) -> UiSession | None:
        """The session of this token while it lasts: a user's while the user is active,
        the account key's holder's while that key is the account's."""
        s = ui_sessions
        stmt = (
            sa.select(
                *_ACCOUNT_COLUMNS,
                s.c.user_name,
                users.c.role,
                users.c.active,
                s.c.key_hash,
                accounts.c.api_key_hash,
                accounts.c.api_key_name,
                s.c.csrf,
                s.c.token_hash,
            )
            .select_from(s)
            .join(accounts, accounts.c.id == s.c.account_id)
            .outerjoin(
                users, (users.c.account_id == s.c.account_id) & (users.c.name == s.c.user_name)
            )
            .where(s.c.token_hash == token_hash, s.c.expires_at > now)
        )
        row = self._conn.execute(stmt).first()
        if row is None or not hmac.compare_digest(row[12], token_hash):
            return None
        account = account_row(row[:5])
        user, role, active, opened_with, account_key, key_name, csrf = row[5:12]
        if user is not None:
            return UiSession(_as_user(account, user, role), user, csrf) if active else None
        if opened_with is None or account_key is None:
            return None
        if not hmac.compare_digest(opened_with, account_key):
            return None  # the account has a new key since: sign in again
        name = key_name or DEFAULT_KEY_NAME
        return UiSession(replace(account, api_key_name=name, role=Role.ADMIN), None, csrf)

    def end_session(self, token_hash: str) -> None:
        self._tx.check_writable()
        self._conn.execute(sa.delete(ui_sessions).where(ui_sessions.c.token_hash == token_hash))
