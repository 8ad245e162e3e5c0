"""Values the store returns, the errors it raises, and the row mappers between them
and the tables (a row as the database or the driver returns it -> a value; a value
-> the columns of its row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import orjson
from sqlalchemy.engine import Row

from optline.domain.consent import ContactState
from optline.domain.consent_codes import Status
from optline.domain.policy import SenderKind
from optline.domain.users import Role, UserChange
from optline.store.ledger import timestamp
from optline.store.sealed import Sealer


class Conflict(Exception):
    """A unique name or number is already taken (account, sender, list, keyword)."""


class DuplicateDelivery(Exception):
    """The same request again: an inbound message whose provider id this account has
    already stored, or a send whose idempotency key it has."""


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    profile: str
    overrides: dict[str, Any]
    # Moves whenever the account's triggers or lists change.
    keywords_version: int = 0
    # The name of the API key the account was found by (only then), recorded as who
    # made a change through the API or the web UI.
    api_key_name: str | None = None
    # The role of whoever the account was found for (only then): its own key's holder
    # is its admin; a user's key or web UI session carries the user's role.
    role: Role | None = None


@dataclass(frozen=True)
class UserRow:
    """One of an account's named users (never with the password's hash)."""

    account_id: int
    name: str
    role: Role
    active: bool
    created_at: datetime
    created_by: str
    last_sign_in_at: datetime | None = None


@dataclass(frozen=True)
class UiSession:
    """A web UI session found by its token: the account as the signed-in user (or its
    key's holder) acts in it, the user's name (None: signed in with the account's key),
    and the token every posted form must carry."""

    account: AccountRow
    user: str | None
    csrf: str


@dataclass(frozen=True)
class SenderRow:
    account_id: int
    number: str
    kind: SenderKind
    provider: str | None = None
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    provider_replies: bool = False


@dataclass(frozen=True)
class ListRow:
    account_id: int
    name: str
    opt_out_keyword: str | None
    # The purpose of the list's texts (optline.domain.purposes); None: the send's own.
    purpose: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    account_id: int
    seq: int
    type: str
    phone: str | None
    data: dict[str, Any]
    occurred_at: datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint of the log as stored: its size, root, time and text."""

    size: int
    root: bytes
    made_at: datetime
    text: str


@dataclass(frozen=True)
class LogEntry:
    """One position of the log: its event, the leaf hash the event's content gives now
    (None: the event is gone) and the leaf hash stored in the tree (None: missing)."""

    position: int
    account_id: int
    seq: int
    phone: str | None
    leaf: bytes | None
    stored_leaf: bytes | None


@dataclass(frozen=True)
class MessageRow:
    id: int
    direction: str  # "in" | "out"
    provider_id: str | None
    phone: str
    sender: str
    body: str
    hidden: bool
    status: str  # received, queued, sending, sent, failed, then the provider's statuses
    reason: str | None
    list_name: str | None
    campaign: bool
    created_at: datetime
    reply: bool = False  # an automatic answer to an inbound text
    disclosure: bool = False  # the first-text disclosure as a text of its own (seed 004)
    redacted_at: datetime | None = None  # the body was redacted then (it is empty)
    purpose: str | None = None  # the purpose it was sent for (optline.domain.purposes)
    sent_by: str | None = None  # who sent it (an actor's name), where a person or key did
    sent_via: str | None = None  # how they sent it (optline.domain.messages.Via)


@dataclass(frozen=True)
class UserChangeRow:
    """A change to one of an account's users: which, what, who made it, how, when."""

    id: int
    user_name: str
    change: UserChange
    by: str
    via: str
    at: datetime


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    account: str
    checked: int  # events found intact before the first bad one (all of them when ok)
    first_bad_seq: int | None
    problem: str | None
    # The first contact whose stored consent is not what its events say (the chain
    # itself intact), when there is one.
    contact: str | None = None
    # The first message whose body is not the one its events commit (by SHA-256).
    message: int | None = None


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    url: str
    events: list[str]


@dataclass
class Deliveries:
    """A subscription's notifications by delivery state (pending, done, failed) and
    the time of its last delivery."""

    counts: dict[str, int] = field(default_factory=dict)
    last_delivered: datetime | None = None


@dataclass(frozen=True)
class Notification:
    """One event-webhook delivery, claimed from the outbox: an account's event or a
    checkpoint of the transparency log."""

    id: int
    account_id: int
    subscription_id: int
    url: str
    secret: str = field(repr=False)
    payload: dict[str, Any]
    attempts: int

    @property
    def event_id(self) -> str:
        """What the receiver de-duplicates on: the payload's ``id``."""
        return str(self.payload["id"])


# -- row mappers -----------------------------------------------------------------------


def account_row(row: Sequence[Any]) -> AccountRow:
    """An account from a row: id, name, profile, overrides (JSON), keywords_version."""
    account_id, name, profile, overrides, keywords_version = row
    return AccountRow(account_id, name, profile, dict(json_object(overrides)), keywords_version)


def sender_row(row: Row[Any, Any, Any, Any], sealer: Sealer) -> SenderRow:
    """A sender from its row, its credentials opened with ``sealer``."""
    return SenderRow(
        row.account_id,
        row.number,
        SenderKind(row.kind),
        row.provider,
        sealer.open_credentials(row.credentials or {}),
        bool(row.provider_replies),
    )


def message_row(r: Row[Any, Any, Any, Any]) -> MessageRow:
    return MessageRow(
        r.id,
        r.direction,
        r.provider_id,
        r.phone,
        r.sender,
        r.body,
        r.hidden,
        r.status,
        r.reason,
        r.list_name,
        r.campaign,
        r.created_at,
        r.reply,
        r.disclosure,
        r.redacted_at,
        r.purpose,
        r.sent_by,
        r.sent_via,
    )


def stored_event(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        row.account_id,
        row.seq,
        row.type,
        row.phone,
        row.data,
        row.occurred_at,
        row.prev_hash,
        row.hash,
    )


def driver_event(row: Sequence[Any]) -> StoredEvent:
    """An event from its row as the driver returns it: account_id, seq, type, phone,
    data, occurred_at, prev_hash, hash (the events table's columns, in its order)."""
    account_id, seq, kind, phone, data, occurred_at, prev_hash, digest = row
    return StoredEvent(
        account_id,
        seq,
        kind,
        phone,
        json_value(data),
        moment_value(occurred_at),
        prev_hash,
        digest,
    )


def event_values(event: StoredEvent) -> dict[str, Any]:
    """The columns of an event's row."""
    return {
        "account_id": event.account_id,
        "seq": event.seq,
        "type": event.type,
        "phone": event.phone,
        "data": event.data,
        "occurred_at": event.occurred_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def contact_state(row: Sequence[Any]) -> ContactState:
    """A contact from its row: phone, blocked, status, texted, clarified, inbound,
    written, by_sender, by_list, by_purpose (JSON objects, as text when they come from the
    driver), choice_until, choice_purposes (comma-separated)."""
    phone, blocked, status, texted, clarified, inbound, written, by_sender, by_list = row[:9]
    by_purpose, choice_until, choice_purposes = row[9:]
    if isinstance(choice_until, str):  # SQLite, through the driver's own statement
        choice_until = datetime.fromisoformat(choice_until).replace(tzinfo=UTC)
    elif choice_until is not None and choice_until.tzinfo is None:
        choice_until = choice_until.replace(tzinfo=UTC)
    return ContactState(
        phone=phone,
        blocked=bool(blocked),
        account_status=Status(status),
        sender_status=MappingProxyType({k: Status(v) for k, v in json_object(by_sender).items()}),
        lists=MappingProxyType({k: bool(v) for k, v in json_object(by_list).items()}),
        texted=bool(texted),
        clarified=bool(clarified),
        inbound=bool(inbound),
        written=written_purposes(written),
        purposes=MappingProxyType({k: Status(v) for k, v in json_object(by_purpose).items()}),
        choice_until=choice_until,
        choice_purposes=tuple(choice_purposes.split(",")) if choice_purposes else (),
    )


def written_purposes(stored: str | None) -> frozenset[str]:
    """The purposes of the contacts' ``written`` column (",a,b,"; NULL: none)."""
    return frozenset(stored.strip(",").split(",")) if stored else frozenset()


def written_column(purposes: frozenset[str]) -> str | None:
    """The ``written`` column's value, wrapped in commas so that LIKE '%,name,%'
    finds one purpose."""
    return f",{','.join(sorted(purposes))}," if purposes else None


def contact_values(account_id: int, state: ContactState, now: datetime) -> dict[str, Any]:
    """The columns of a contact's own row (its sender consents and lists are rows of
    their own)."""
    return {
        "account_id": account_id,
        "phone": state.phone,
        "blocked": state.blocked,
        "status": state.account_status.value,
        "texted": state.texted,
        "clarified": state.clarified,
        "inbound": state.inbound,
        "written": written_column(state.written),
        "choice_until": state.choice_until,
        "choice_purposes": ",".join(state.choice_purposes) or None,
        "created_at": now,  # kept by the upsert when the contact exists
        "updated_at": now,
    }


def json_object(value: str | dict[str, Any] | None) -> dict[str, Any]:
    """A JSON object column (or aggregate) as a dict: NULL is empty, text is parsed."""
    if value is None:
        return {}
    if isinstance(value, str):
        loaded: dict[str, Any] = orjson.loads(value)
        return loaded
    return value


def json_value(value: Any) -> Any:
    """A JSON column as the driver returns it: text from SQLite, parsed from psycopg."""
    return orjson.loads(value) if isinstance(value, str) else value


def stamp_value(value: str | datetime) -> str:
    """A timestamp as the driver returns it, as its canonical text (``timestamp``)."""
    if isinstance(value, str) and len(value) == 26 and value[4] == "-" and value[0] != "0":
        # SQLite's stored text, "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, a year from 1000 on):
        # the canonical text by rearranging it, without parsing and writing a datetime.
        return f"{value[:10]}T{value[11:]}Z"
    return timestamp(moment_value(value))


def moment_value(value: str | datetime) -> datetime:
    """A timestamp as the driver returns it: SQLite's stored text, PostgreSQL's datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)
