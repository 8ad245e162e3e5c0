"""An account's users and what their roles may do. Pure.

Belongs here: the roles, the kinds of request a role is checked against, the answer
to "may this role do that, and if not, why", and the rules for a user's name and
password. Hashing passwords, storing users and their keys is the engine's and the
store's; the API and the web UI ask :func:`refusal` before they change anything.

A user is recorded as the actor of their changes as ``user:<name>``, so the ledger
tells a person from an API key's name.
"""

from __future__ import annotations

import re
from enum import StrEnum

from optline.errors import BadInput

#: A user's name: lower-case letters, digits, dots, dashes and underscores.
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD_CHARS = 8
# Long enough for any passphrase, short enough that hashing stays cheap.
MAX_PASSWORD_CHARS = 1024
#: What a user's actor name starts with.
USER_ACTOR_PREFIX = "user:"


class Role(StrEnum):
    """What a user may do: admin everything, agent work with contacts and texts,
    read_only read."""

    ADMIN = "admin"
    AGENT = "agent"
    READ_ONLY = "read_only"


class UserChange(StrEnum):
    """A change to a user that the account keeps on record, with who made it."""

    ADDED = "added"
    DISABLED = "disabled"
    ENABLED = "enabled"
    KEY_ISSUED = "key_issued"
    KEYS_REVOKED = "keys_revoked"


class Access(StrEnum):
    """The kinds of request a role is checked against."""

    #: Anything that changes nothing.
    READ = "read"
    #: Work with contacts and texts: replies and sends, opt-ins and opt-outs, blocks,
    #: consent records, list members, review flags, sends settled, imports.
    CONTACTS = "contacts"
    #: The account's set-up: users and their keys, senders, policy, lists, triggers,
    #: purposes, event webhooks, redactions.
    MANAGE = "manage"


_ALLOWED: dict[Role, frozenset[Access]] = {
    Role.ADMIN: frozenset(Access),
    Role.AGENT: frozenset({Access.READ, Access.CONTACTS}),
    Role.READ_ONLY: frozenset({Access.READ}),
}

_WHY: dict[Role, str] = {
    Role.AGENT: "an agent may work with contacts and texts, but only an admin may change"
    " the account's set-up (users, keys, senders, policy, lists, triggers, purposes,"
    " webhooks)",
    Role.READ_ONLY: "a read-only user may read, but not change anything",
}


def refusal(role: Role | None, access: Access) -> str | None:
    """Why ``role`` may not make a request of kind ``access``; None when it may. No
    role (a caller found without one) is taken as read-only."""
    role = role or Role.READ_ONLY
    if access in _ALLOWED[role]:
        return None
    return _WHY[role]


def user_name(raw: str) -> str:
    """A user's name as stored (trimmed, lower case), or :class:`BadInput` saying why."""
    name = raw.strip().lower()
    if not _NAME.fullmatch(name):
        raise BadInput(
            f"user name {raw!r}: 1 to 64 lower-case letters, digits, '.', '-' or '_',"
            " starting with a letter or digit"
        )
    return name


def role(raw: str) -> Role:
    """A role by its name, or :class:`BadInput` naming the valid ones."""
    try:
        return Role(raw.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise BadInput(f"role {raw!r} is not one of {valid}") from None


def password(raw: str) -> str:
    """A new password as given (never trimmed), or :class:`BadInput` saying why."""
    if len(raw) < MIN_PASSWORD_CHARS:
        raise BadInput(f"password: at least {MIN_PASSWORD_CHARS} characters")
    if len(raw) > MAX_PASSWORD_CHARS:
        raise BadInput(f"password: at most {MAX_PASSWORD_CHARS} characters")
    if "\x00" in raw:
        raise BadInput("password: contains a NUL character")
    return raw


def actor_name(name: str) -> str:
    """How the ledger names the user ``name`` as the actor of a change."""
    return f"{USER_ACTOR_PREFIX}{name}"


def user_of_actor(actor: str) -> str | None:
    """The user's name in an actor's name made by :func:`actor_name`; None for another
    actor (an API key's name)."""
    if actor.startswith(USER_ACTOR_PREFIX):
        return actor[len(USER_ACTOR_PREFIX) :]
    return None
