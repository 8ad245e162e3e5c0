"""The database schema (SQLAlchemy Core).

Every primary and unique key starts with ``account_id`` so that the tables can be
distributed by account. The one exception is the unique index on a sender's number:
a number belongs to exactly one account, across all of them.

This module describes the schema at the head revision; the migrations in
``migrations/versions`` create it, and a test checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from optline.domain.messages import UNSETTLED as UNSETTLED_SENDS

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


# The last timestamp stored on SQLite and its text, as one pair (read and replaced
# whole, so threads never see one value with another's text). Shared by every
# timestamp column: a write stores its one moment in several rows and columns (a STOP:
# the text, its reply, the contact's two columns, the event).
_last_stored: tuple[datetime | None, str | None] = (None, None)


def _sqlite_text(value: datetime | None) -> str | None:
    """The text SQLite's DATETIME stores (2025-04-11 09:30:00.000000), in one step: the
    checks of UTCDateTime and then SQLAlchemy's formatting cost 2.4 µs a value, on every
    message, event and contact written (a test holds the two equal)."""
    global _last_stored
    if value is None:
        return None
    seen, text = _last_stored
    if seen is value:
        return text
    if value.tzinfo is UTC:  # as stored values are made: no conversion, drop "+00:00"
        text = value.isoformat(" ", "microseconds")[:-6]
    elif value.tzinfo is None:
        raise ValueError(f"timestamp {value.isoformat()} has no time zone")
    else:
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    _last_stored = (value, text)
    return text


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _sqlite_text

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _account_fk() -> sa.ForeignKey:
    return sa.ForeignKey("accounts.id", ondelete="CASCADE")


def _contact_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id", "phone"],
        ["contacts.account_id", "contacts.phone"],
        ondelete="CASCADE",
    )


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("profile", sa.String, nullable=False),
    sa.Column("overrides", sa.JSON, nullable=False),
    # The ledger's head: the last event's seq and hash (0 and the genesis hash when empty).
    sa.Column("head_seq", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # SHA-256 of the account's API key; the key itself is shown once and never stored.
    sa.Column("api_key_hash", sa.String(64), nullable=True),
    # The key's name, recorded as who made each change through the API or the web UI.
    sa.Column("api_key_name", sa.String, nullable=True),
    # Bumped by every change to the account's event-webhook subscriptions, so that a
    # process may keep them between consent changes and reread them only when it moves.
    sa.Column("subscriptions_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    # Bumped by every change to the account's triggers and lists, so that a process may
    # keep its account keywords between inbound texts (read with the account row).
    sa.Column("keywords_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Index("ix_accounts_api_key_hash", "api_key_hash", unique=True),
)

senders = sa.Table(
    "senders",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("number", sa.String, primary_key=True),
    sa.Column("kind", sa.String, nullable=False),
    # twilio | telnyx | generic | NULL (recorded only; the caller sends)
    sa.Column("provider", sa.String, nullable=True),
    # Webhook verification and sending secrets; never returned by the API.
    sa.Column("credentials", sa.JSON, nullable=False),
    # The provider answers keywords itself (Twilio Advanced Opt-Out): never reply twice.
    sa.Column("provider_replies", sa.Boolean, nullable=False),
    sa.Index("ix_senders_number", "number", unique=True),
)

lists = sa.Table(
    "lists",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("opt_out_keyword", sa.String, nullable=True),
    # The purpose its texts are of (optline.domain.purposes); NULL: the send's own.
    sa.Column("purpose", sa.String, nullable=True),
    sa.UniqueConstraint("account_id", "opt_out_keyword"),
)

# The purposes an account adds to the ones every account has (marketing, informational).
purposes = sa.Table(
    "purposes",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

triggers = sa.Table(
    "triggers",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("keyword", sa.String, primary_key=True),
    sa.Column("reply", sa.String, nullable=False),
    sa.Column("unsubscribe_list", sa.String, nullable=True),
    sa.Column("subscribe_list", sa.String, nullable=True),
    # A join keyword whose opt-in waits for the contact's YES (double opt-in): the
    # purpose its written consent is for; NULL: no confirmation asked.
    sa.Column("confirm_purpose", sa.String, nullable=True),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("phone", sa.String, primary_key=True),
    sa.Column("blocked", sa.Boolean, nullable=False),
    # Account-level consent: no_consent, opted_in or opted_out; with the method, time
    # and event that set it (NULL under no_consent). A projection of the ledger.
    sa.Column("status", sa.String, nullable=False),
    sa.Column("texted", sa.Boolean, nullable=False),
    sa.Column("clarified", sa.Boolean, nullable=False),
    sa.Column("method", sa.String, nullable=True),
    sa.Column("since", UTCDateTime, nullable=True),
    sa.Column("event_seq", sa.Integer, nullable=True),
    # The contact has texted the account (what no_consent allows: Policy.no_consent).
    sa.Column("inbound", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Where the contact is, when the account knows better than the number (send
    # windows): an IANA time zone and a US state's USPS code; NULL: from the number.
    sa.Column("time_zone", sa.String, nullable=True),
    sa.Column("us_state", sa.String, nullable=True),
    # Purposes with prior express written consent on record, not since revoked, as
    # ",marketing,other," (NULL: none); a projection of the ledger.
    sa.Column("written", sa.String, nullable=True),
    # 64.1200(a)(12): an open question of which purposes a revocation meant: until when,
    # and the purposes it ended (comma-separated); NULL: none open.
    sa.Column("choice_until", UTCDateTime, nullable=True),
    sa.Column("choice_purposes", sa.String, nullable=True),
    # Listing by status (in phone order) and finding a broadcast's suppressed contacts.
    sa.Index(
        "ix_contacts_account_id_blocked_status_phone", "account_id", "blocked", "status", "phone"
    ),
)

sender_consent = sa.Table(
    "sender_consent",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("phone", sa.String, primary_key=True),
    sa.Column("sender", sa.String, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    # How, when and by which event the status was set (a projection of the ledger).
    sa.Column("method", sa.String, nullable=True),
    sa.Column("since", UTCDateTime, nullable=True),
    sa.Column("event_seq", sa.Integer, nullable=True),
    _contact_fk(),
    sa.Index(
        "ix_sender_consent_account_id_sender_status_phone",
        "account_id",
        "sender",
        "status",
        "phone",
    ),
)

# A contact's consent of one purpose's own (account-wide), as sender_consent is one
# sender's: a projection of the ledger (events with a ``purpose``).
purpose_consent = sa.Table(
    "purpose_consent",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("phone", sa.String, primary_key=True),
    sa.Column("purpose", sa.String, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("method", sa.String, nullable=True),
    sa.Column("since", UTCDateTime, nullable=True),
    sa.Column("event_seq", sa.Integer, nullable=True),
    _contact_fk(),
    sa.Index(
        "ix_purpose_consent_account_id_purpose_status_phone",
        "account_id",
        "purpose",
        "status",
        "phone",
    ),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("list_name", sa.String, primary_key=True),
    sa.Column("phone", sa.String, primary_key=True),
    sa.Column("subscribed", sa.Boolean, nullable=False),
    _contact_fk(),
    sa.Index("ix_memberships_account_id_phone", "account_id", "phone"),
    sa.Index(
        "ix_memberships_account_id_list_name_subscribed_phone",
        "account_id",
        "list_name",
        "subscribed",
        "phone",
    ),
)

# PostgreSQL: the seqs of events recorded since the transparency log, one sequence for
# the deployment (optline.store.repo.ledger), so no account-wide row is locked to number
# them; an account's seqs have gaps. (SQLite counts on from the account's top seq.)
event_seq = sa.Sequence("event_seq", metadata=metadata)

events = sa.Table(
    "events",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("phone", sa.String, nullable=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_events_account_id_phone_seq", "account_id", "phone", "seq"),
    # SQLite: rows kept in (account_id, seq) order, with no separate primary-key index.
    sqlite_with_rowid=False,
)

# The transparency log (docs/ledger.md), one for the deployment: the exception to keys
# that start with account_id. An appended event waits in log_queue (in the order its
# transaction queued it) until the sequencer gives it a position in log_entries; the
# Merkle tree's perfect subtrees are in log_nodes (level 0: the leaf hashes), so a root
# or a proof reads O(log n) rows; each batch ends in a signed checkpoint.
log_queue = sa.Table(
    "log_queue",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.Identity(), primary_key=True
    ),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("queued_at", UTCDateTime, nullable=False),
)

log_entries = sa.Table(
    "log_entries",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.UniqueConstraint("account_id", "seq"),
    sqlite_with_rowid=False,
)

log_nodes = sa.Table(
    "log_nodes",
    metadata,
    sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

log_checkpoints = sa.Table(
    "log_checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("made_at", UTCDateTime, nullable=False),
    # The signed text, exactly as published (optline.store.checkpoint).
    sa.Column("text", sa.Text, nullable=False),
    # When ``ledger verify`` last found the log sound up to this checkpoint: the next
    # verify starts from the newest such one.
    sa.Column("verified_at", UTCDateTime, nullable=True),
)

# The checkpoints' signing key when OPTLINE_LOG_KEY is not set: made on first use and
# kept here, sealed as the other stored secrets are. The newest row signs.
log_keys = sa.Table(
    "log_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("seed", sa.String, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The review queue: one row per ``revocation_flagged`` event (its seq), open until an
# event resolves it (``resolved_seq``): an opt-out that covers it, or a dismissal. A
# projection of the ledger, written with the events in the same transaction.
OPEN_FLAG = sa.text("resolved_seq IS NULL")

flags = sa.Table(
    "flags",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("phone", sa.String, nullable=False),
    sa.Column("sender", sa.String, nullable=True),
    sa.Column("reason", sa.String, nullable=False),
    sa.Column("flagged_at", UTCDateTime, nullable=False),
    sa.Column("resolution", sa.String, nullable=True),  # opted_out | dismissed
    sa.Column("resolved_seq", sa.Integer, nullable=True),
    _contact_fk(),
    # The queue, newest first (keyset pages on seq), and a contact's open flags: both
    # only the open rows, so resolved flags cost the queue nothing.
    sa.Index(
        "ix_flags_open", "account_id", "seq", sqlite_where=OPEN_FLAG, postgresql_where=OPEN_FLAG
    ),
    sa.Index(
        "ix_flags_open_phone",
        "account_id",
        "phone",
        sqlite_where=OPEN_FLAG,
        postgresql_where=OPEN_FLAG,
    ),
)

# Texts not yet settled with a provider: queued, or handed over with no answer yet.
UNSETTLED_STATUSES = tuple(status.value for status in UNSETTLED_SENDS)
_UNSETTLED_IN = f"status IN ({', '.join(repr(s) for s in UNSETTLED_STATUSES)})"
PENDING_REPLY = sa.text(f"reply AND {_UNSETTLED_IN}")
UNSETTLED = sa.text(_UNSETTLED_IN)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    # PostgreSQL: from a sequence. SQLite (no sequences): the account's next number,
    # taken inside the write transaction, which SQLite runs one at a time.
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.Identity(), primary_key=True
    ),
    sa.Column("direction", sa.String, nullable=False),  # in | out
    sa.Column("provider_id", sa.String, nullable=True),
    sa.Column("phone", sa.String, nullable=False),
    sa.Column("sender", sa.String, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False),
    # received | queued (decided, not yet handed to the provider) | sending | sent | failed,
    # then the provider's own statuses (delivered, undelivered, ...).
    sa.Column("status", sa.String, nullable=False),
    sa.Column("reason", sa.String, nullable=True),
    sa.Column("list_name", sa.String, nullable=True),
    sa.Column("campaign", sa.Boolean, nullable=False),
    # The purpose the text was sent for (optline.domain.purposes); NULL on automatic
    # answers and on texts sent before purposes were recorded.
    sa.Column("purpose", sa.String, nullable=True),
    # An automatic answer to an inbound text (STOP's confirmation, HELP, a trigger's).
    sa.Column("reply", sa.Boolean, nullable=False, server_default=sa.false()),
    # The first-text disclosure sent as a text of its own before the first one (seed 004).
    sa.Column("disclosure", sa.Boolean, nullable=False, server_default=sa.false()),
    # The inbound outcome, returned again when the same provider message comes back.
    sa.Column("outcome", sa.JSON, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # When the body was redacted (emptied, on a deletion request); NULL: it is as
    # written. The ledger keeps its SHA-256 (docs/ledger.md), so the chain holds.
    sa.Column("redacted_at", UTCDateTime, nullable=True),
    # Who sent the text (an actor's name: user:<name> or an API key's) and how (api,
    # ui); NULL on automatic answers and on texts sent before senders were recorded.
    sa.Column("sent_by", sa.String, nullable=True),
    sa.Column("sent_via", sa.String, nullable=True),
    sa.UniqueConstraint("account_id", "provider_id"),
    sa.Index("ix_messages_account_id_phone_id", "account_id", "phone", "id"),
    # Replies that the provider's API must still send (Telnyx): the few rows the reply
    # worker looks for, so its look-up costs nothing however many messages there are.
    sa.Index(
        "ix_messages_pending_replies",
        "created_at",
        sqlite_where=PENDING_REPLY,
        postgresql_where=PENDING_REPLY,
    ),
    # Texts not yet settled with a provider (queued, or handed over with no answer
    # yet), for an operator to find after a crash. Inbound texts are never in it, nor
    # texts once settled: a Twilio webhook costs it nothing (its reply is answered
    # in TwiML, recorded sent), a reply sent through a provider's API passes through.
    sa.Index(
        "ix_messages_unsettled",
        "account_id",
        "status",
        "id",
        sqlite_where=UNSETTLED,
        postgresql_where=UNSETTLED,
    ),
)

# Sends made with an Idempotency-Key: the same key again gets the same message back, not
# a second text. ``fingerprint`` is the request's hash: the key with another request
# is refused; ``allowed`` is the decision as first taken.
send_requests = sa.Table(
    "send_requests",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("fingerprint", sa.String, nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["account_id", "message_id"], ["messages.account_id", "messages.id"], ondelete="CASCADE"
    ),
)

# Consent language, kept once per version: ``consent_recorded`` and
# ``confirmation_requested`` events refer to it by its SHA-256.
consent_texts = sa.Table(
    "consent_texts",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("url", sa.String, nullable=False),
    sa.Column("secret", sa.String, nullable=False),
    sa.Column("events", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The transactional outbox of event webhooks: written with the change it reports.
# A notification reports an event of its account (event_seq) or publishes a signed
# checkpoint of the transparency log (checkpoint_size), never both; each at most once
# per subscription.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.Identity(), primary_key=True
    ),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False),
    sa.Column("subscription_id", sa.Integer, nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=True),
    sa.Column("checkpoint_size", sa.BigInteger, nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("leased_until", UTCDateTime, nullable=True),
    # done: delivered; failed: given up after the last retry; else pending
    sa.Column("state", sa.String, nullable=False),
    sa.Column("last_error", sa.String, nullable=True),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
    sa.UniqueConstraint("account_id", "subscription_id", "event_seq"),
    sa.UniqueConstraint("account_id", "subscription_id", "checkpoint_size"),
    sa.CheckConstraint("(event_seq IS NULL) <> (checkpoint_size IS NULL)", name="one_subject"),
)

# The inbox's read markers: the last message of a conversation (one contact's texts)
# the account has read there. Unread: the contact's visible texts after it.
read_markers = sa.Table(
    "read_markers",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("phone", sa.String, primary_key=True),
    sa.Column("last_read_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("read_at", UTCDateTime, nullable=False),
)

# An account's named users (optline.domain.users): each signs in to the web UI with a
# password (its Argon2 hash here) and may hold API keys of their own. A disabled user
# signs in no more and their keys and sessions stop working.
users = sa.Table(
    "users",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("password_hash", sa.String, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Who added the user (an actor's name: user:<name>, a key's name, or the CLI's).
    sa.Column("created_by", sa.String, nullable=False),
    sa.Column("last_sign_in_at", UTCDateTime, nullable=True),
)


def _user_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id", "user_name"], ["users.account_id", "users.name"], ondelete="CASCADE"
    )


# A user's API keys, by their SHA-256 (as the account's key): shown once, never stored.
user_keys = sa.Table(
    "user_keys",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    _user_fk(),
    # A key is looked up by its hash alone (like a sender's number, across accounts).
    sa.Index("ix_user_keys_key_hash", "key_hash", unique=True),
)

# Who added, disabled or enabled a user, or issued or revoked their keys, and when
# (optline.domain.users.UserChange); kept when the user is gone.
user_changes = sa.Table(
    "user_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False),
    sa.Column("user_name", sa.String, nullable=False),
    sa.Column("change", sa.String, nullable=False),
    sa.Column("by", sa.String, nullable=False),
    sa.Column("via", sa.String, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_user_changes_account_id_id", "account_id", "id"),
)

# The web UI's sessions: the cookie holds a random token, stored here by its SHA-256,
# with the form token (CSRF) every posted form must carry. A session is a user's, or
# (user_name NULL) one opened with the account's API key, whose hash it keeps so that
# a new key ends it.
ui_sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String, nullable=True),
    sa.Column("key_hash", sa.String(64), nullable=True),
    sa.Column("csrf", sa.String, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    _user_fk(),
    sa.Index("ix_ui_sessions_token_hash", "token_hash", unique=True),
)
