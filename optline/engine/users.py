"""An account's users: added, listed, disabled and enabled, their own API keys issued
and revoked, and the web UI's sessions: a sign-in with a user's password (or with an
API key), the session found again from its cookie, and a sign-out.

Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed on sign-in when
those move on). Keys and session tokens are random 256-bit values, stored as their
SHA-256 as the account's own key is (:func:`~optline.engine.context.key_hash`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from optline.domain import users as rules
from optline.domain.actors import Actor
from optline.domain.users import Role, UserChange
from optline.engine.context import AccountRef, checked_actor, key_hash, new_key
from optline.engine.directory import Directory
from optline.errors import AlreadyExists, BadInput, UnknownAccount, UnknownUser
from optline.store import Conflict, Tx
from optline.store.rows import UiSession, UserChangeRow, UserRow

#: How long a web UI session lasts from its sign-in.
SESSION_LIFETIME = timedelta(hours=12)
_hasher = PasswordHasher()
#: The most changes to users one answer lists.
MAX_USER_CHANGES = 1000


def _checked(by: Actor) -> Actor:
    """``by`` with its name checked as every actor's is."""
    checked = checked_actor(by)
    assert checked is not None
    return checked


@cache
def _stand_in_hash() -> str:
    """A hash checked for a user who does not exist, so that a wrong name takes as
    long to refuse as a wrong password (the time tells no one which names exist)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


class Users(Directory):
    """The account's users, their keys, and the web UI's sessions."""

    def add_user(
        self, account: AccountRef, name: str, role: Role | str, password: str, by: Actor
    ) -> UserRow:
        """Add an active user who signs in with ``password``; ``by``: who added them."""
        name = rules.user_name(name)
        role = rules.role(role)
        hashed = _hasher.hash(rules.password(password))
        by = _checked(by)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            try:
                user = tx.users.add(row.id, name, role, hashed, by.by, self._clock())
            except Conflict:
                raise AlreadyExists(f"user {name!r} already exists") from None
            self._record(tx, row.id, name, UserChange.ADDED, by)
            return user

    def set_user_password(self, account: AccountRef, name: str, password: str) -> None:
        """Give the user a new password (their sessions and keys stay)."""
        hashed = _hasher.hash(rules.password(password))
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            tx.users.set_password_hash(row.id, self._user(tx, row.id, name).name, hashed)

    def users(self, account: AccountRef) -> list[tuple[UserRow, int]]:
        """The account's users in name order, each with how many API keys they hold."""
        with self.store.read() as tx:
            row = self._account(tx, account)
            keys = tx.users.key_counts(row.id)
            return [(user, keys.get(user.name, 0)) for user in tx.users.all(row.id)]

    def user_changes(self, account: AccountRef, limit: int = 100) -> list[UserChangeRow]:
        """The last ``limit`` changes to the account's users (who added, disabled or
        enabled them, issued or revoked their keys, and when), newest first."""
        if not 0 < limit <= MAX_USER_CHANGES:
            raise BadInput(f"limit must be from 1 to {MAX_USER_CHANGES}")
        with self.store.read() as tx:
            return tx.users.changes(self._account(tx, account).id, limit)

    def set_user_active(self, account: AccountRef, name: str, active: bool, by: Actor) -> UserRow:
        """Enable or disable a user: a disabled one signs in no more, and their keys
        and sessions stop working at once; ``by``: who did."""
        by = _checked(by)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            name = self._user(tx, row.id, name).name
            tx.users.set_active(row.id, name, active)
            change = UserChange.ENABLED if active else UserChange.DISABLED
            self._record(tx, row.id, name, change, by)
            found = tx.users.get(row.id, name)
            assert found is not None
            return found

    def issue_user_key(self, account: AccountRef, name: str, by: Actor) -> str:
        """A new API key for the user (their others stay); returned once. ``by``: who
        issued it."""
        by = _checked(by)
        key = new_key()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            user = self._user(tx, row.id, name)
            if not user.active:
                raise BadInput(f"user {user.name!r} is disabled: enable them first")
            tx.users.add_key(row.id, user.name, key_hash(key), self._clock())
            self._record(tx, row.id, user.name, UserChange.KEY_ISSUED, by)
        return key

    def revoke_user_keys(self, account: AccountRef, name: str, by: Actor) -> int:
        """Revoke every API key of the user; returns how many there were. ``by``: who
        revoked them."""
        by = _checked(by)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            name = self._user(tx, row.id, name).name
            count = tx.users.revoke_keys(row.id, name)
            self._record(tx, row.id, name, UserChange.KEYS_REVOKED, by)
            return count

    def _record(self, tx: Tx, account_id: int, name: str, change: UserChange, by: Actor) -> None:
        tx.users.record_change(account_id, name, change, by.by, by.via.value, self._clock())

    @staticmethod
    def _user(tx: Tx, account_id: int, name: str) -> UserRow:
        found = tx.users.get(account_id, rules.user_name(name))
        if found is None:
            raise UnknownUser(f"no user {name.strip()!r} in this account")
        return found

    # -- web UI sessions ------------------------------------------------------------------

    def sign_in(self, account: AccountRef, name: str, password: str) -> str | None:
        """A new session's token for the active user ``name`` of ``account`` whose
        password this is; None for any other account, name or password (which one is
        wrong is not said)."""
        found = None
        with self.store.read() as tx:
            try:
                account_id = self._account(tx, account).id
                found = tx.users.password_hash(account_id, rules.user_name(name))
            except (UnknownAccount, BadInput):
                pass
        # Checked outside the transaction: a hash takes tens of milliseconds.
        if found is None:
            _matches(_stand_in_hash(), password)
            return None
        user, stored = found
        if not _matches(stored, password) or not user.active:
            return None
        with self.store.transaction() as tx:
            if _hasher.check_needs_rehash(stored):
                tx.users.set_password_hash(account_id, user.name, _hasher.hash(password))
            tx.users.signed_in(account_id, user.name, self._clock())
            return self._open_session(tx, account_id, user=user.name)

    def sign_in_with_key(self, key: str) -> str | None:
        """A new session's token for the holder of this API key (the account's own, or
        an active user's); None for an unknown key."""
        found = self.account_for_key(key)
        if found is None:
            return None
        with self.store.transaction() as tx:
            user = rules.user_of_actor(found.api_key_name or "")
            if user is not None:
                return self._open_session(tx, found.id, user=user)
            return self._open_session(tx, found.id, key=key_hash(key))

    def _open_session(
        self, tx: Tx, account_id: int, user: str | None = None, key: str | None = None
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        csrf = secrets.token_urlsafe(32)
        tx.users.open_session(
            account_id, key_hash(token), csrf, now, now + SESSION_LIFETIME, user, key
        )
        return token

    def ui_session(self, token: str) -> UiSession | None:
        """The session this token opened, while it lasts and its user or key holds."""
        with self.store.read() as tx:
            return tx.users.session(key_hash(token), self._clock())

    def sign_out(self, token: str) -> None:
        with self.store.transaction() as tx:
            tx.users.end_session(key_hash(token))
