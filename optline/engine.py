"""The application service: one method per use case, one transaction each.

This is the only module that joins the pure domain (classification, policy, the consent
state machine) with the store. Every method validates its input first, so a bad request
raises an :class:`~optline.errors.OptlineError` before anything is written.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import setitem
from typing import Any, Protocol

from optline.domain import consent
from optline.domain.classify import classify, with_provider_keyword
from optline.domain.consent import (
    ContactState,
    Decision,
    Outcome,
    Reason,
    Refused,
    Sender,
    Source,
    Status,
    Trigger,
)
from optline.domain.messages import (
    QUEUED_TOO_LONG,
    UNSETTLED,
    FailureReason,
    MessageStatus,
    Reconciled,
    Reconciliation,
    SettledAs,
    Via,
    operator_reason,
    provider_failure,
    settled_by_provider,
    settled_event,
)
from optline.domain.phone import InvalidPhoneNumber, to_e164
from optline.domain.policy import (
    RESERVED_KEYWORDS,
    BadOverride,
    Policy,
    SenderKind,
    UnknownProfile,
    widens_scope,
    with_overrides,
)
from optline.domain.profiles import get_profile
from optline.domain.text import normalise_keyword
from optline.errors import (
    AlreadyExists,
    AlreadySettled,
    BadInput,
    ConfirmationRequired,
    IdempotencyKeyReused,
    NotAllowed,
    ProviderIdConflict,
    UnknownAccount,
    UnknownList,
    UnknownMessage,
    UnknownSender,
)
from optline.proof import proof_document
from optline.providers.base import (
    PROVIDER_CREDENTIALS,
    BeforeRetry,
    CannotAsk,
    ProviderError,
    ProviderOptedOut,
    ProviderRecord,
    SendWithdrawn,
    SentText,
)
from optline.store import (
    AccountRow,
    Conflict,
    DuplicateDelivery,
    ListRow,
    MessageRow,
    Notification,
    SenderRow,
    Store,
    StoredEvent,
    SubscriptionRow,
    Tx,
    VerifyResult,
)
from optline.store.schema import UNSETTLED_STATUSES

#: Inbound bodies longer than this are refused: ten concatenated SMS segments is
#: already more than any carrier delivers as one message.
MAX_BODY_CHARS = 1600
# ASCII digits only: \d also takes other scripts' digits ("١٢٣٤٥" is not 12345).
_SHORT_CODE = re.compile(r"^[0-9]{3,8}$")

#: An account by name (CLI, REST) or by id (webhooks find it from the sender).
AccountRef = str | int

#: Provider delivery statuses after which a message's fate is settled (Twilio and
#: Telnyx names); an earlier status arriving later does not replace them.
FINAL_STATUSES = frozenset(
    {
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
        "sending_failed",
        "delivery_failed",
        "delivery_unconfirmed",
    }
)

#: Event types an event-webhook subscription may ask for.
SUBSCRIBABLE = frozenset(
    {
        "opted_out",
        "opted_in",
        "blocked",
        "unblocked",
        "list_unsubscribed",
        "list_subscribed",
        "revocation_flagged",
        "send_refused",
    }
)


# A reply to be sent through the provider's API that is still queued this long after
# it was recorded had its own send never start: the reply worker sends it.
REPLY_GRACE = timedelta(seconds=30)

# Broadcast recipients decided and recorded per transaction: a SQLite transaction of
# this many holds the write lock for tens of milliseconds, not the whole broadcast.
BROADCAST_CHUNK = 200
# Texts of one broadcast handed to the provider at once (each a network round trip).
BROADCAST_CONCURRENCY = 8

# Event-webhook retries: 5 s, 10 s, 20 s, ... capped at an hour; given up after 15 tries
# (about half a day), after which the delivery stays on record as failed.
NOTIFY_BASE_DELAY = 5
NOTIFY_MAX_DELAY = 3600
NOTIFY_MAX_ATTEMPTS = 15


class Dispatch(Protocol):
    """Sends one text through the sender's provider; returns the provider message id.

    Raises ``optline.providers.base.ProviderOptedOut`` when the provider reports the
    recipient opted out, ``ProviderError`` for other failures. ``before_retry`` runs
    before every attempt after the first and may end the send (``SendWithdrawn``).
    """

    def __call__(
        self, sender: SenderRow, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str | None: ...


class LookUp(Protocol):
    """Asks the sender's provider about a text handed to it: the provider's records of
    it, earliest first (none when it has no record). Raises
    ``optline.providers.base.CannotAsk`` when the provider cannot be asked,
    ``ProviderError`` when asking fails."""

    def __call__(self, sender: SenderRow, text: SentText) -> list[ProviderRecord]: ...


def key_hash(key: str) -> str:
    """API keys are random 256-bit values, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def phone(raw: str) -> str:
    """A contact's number in E.164, or :class:`BadInput` naming what is wrong."""
    try:
        return to_e164(raw)
    except InvalidPhoneNumber as exc:
        raise BadInput(str(exc)) from None


def sender_number(raw: str) -> str:
    """A sender: a short code (digits only) as given, anything else in E.164."""
    text = raw.strip()
    return text if _SHORT_CODE.match(text) else phone(text)


def _list_name(raw: str) -> str:
    """A list's name, which also stands in the API's paths (/v1/lists/{name}/members),
    percent-encoded as any path segment is: printable characters, no "/", neither "."
    nor ".."."""
    name = raw.strip()
    if not name:
        raise BadInput("list name is empty")
    if not name.isprintable():
        raise BadInput("list name: only printable characters (no tabs, line breaks or controls)")
    if "/" in name:
        raise BadInput('list name: a "/" would split the name in the list\'s paths')
    if name in (".", ".."):
        raise BadInput('list name: "." and ".." are not names a path can hold')
    return name


def _body(text: str) -> str:
    if len(text) > MAX_BODY_CHARS:
        raise BadInput(f"message body is longer than {MAX_BODY_CHARS} characters")
    try:
        text.encode("utf-8")  # refuses surrogates, in C, where a scan in Python is per character
    except UnicodeEncodeError:
        raise BadInput("message body contains unpaired UTF-16 surrogates") from None
    return text


@dataclass(frozen=True, slots=True)
class InboundResult:
    intent: str
    keyword: str | None
    reason: str
    reply: str | None
    status: str
    events: tuple[str, ...]
    # True when this provider message id was seen before; everything else is the
    # outcome of the first delivery.
    duplicate: bool = False
    # The recorded reply: sent through the provider's API (Telnyx), or named in the
    # status callback of a reply answered in TwiML (Twilio).
    reply_message_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "keyword": self.keyword,
            "reason": self.reason,
            "reply": self.reply,
            "status": self.status,
            "events": list(self.events),
            "reply_message_id": self.reply_message_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], duplicate: bool) -> InboundResult:
        return cls(
            intent=data["intent"],
            keyword=data["keyword"],
            reason=data["reason"],
            reply=data["reply"],
            status=data["status"],
            events=tuple(data["events"]),
            duplicate=duplicate,
            # Outcomes stored before replies were numbered have no id.
            reply_message_id=data.get("reply_message_id"),
        )


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A policy change as applied: the new policy and how many contacts it changed."""

    policy: Policy
    contacts_changed: int


@dataclass(frozen=True, slots=True)
class PendingSend:
    """An outbound text decided and recorded, not yet handed to a provider."""

    sender: SenderRow
    to: str
    decision: Decision
    message_id: int
    # The message an earlier request with the same idempotency key recorded, as it is
    # now: this request sends nothing new.
    earlier: MessageRow | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one outbound text."""

    to: str
    decision: Decision
    status: str  # "sent" | "failed" (| "sending": another caller is handing it over)
    message_id: int
    provider_id: str | None = None
    error: str | None = None
    replayed: bool = False  # the outcome of an earlier request with the same idempotency key

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def reason(self) -> Reason | None:
        return self.decision.reason

    @property
    def body(self) -> str:
        return self.decision.body

    def as_dict(self) -> dict[str, Any]:
        return {
            "to": self.to,
            **self.decision.as_dict(),
            "status": self.status,
            "message_id": self.message_id,
            "provider_id": self.provider_id,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One validated row of a contacts import."""

    line: int
    phone: str
    status: Status
    lists: tuple[str, ...] = ()
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class BroadcastDecisions:
    """A broadcast decided: who a send would reach and who it would refuse, and why.

    Iterating gives (phone, refusal reason or None) for each recipient, in order.
    """

    recipients: Sequence[str]
    allowed: list[str]  # in order, as given
    refused: dict[str, str]  # phone -> reason

    def __iter__(self) -> Iterator[tuple[str, str | None]]:
        get = self.refused.get
        return ((recipient, get(recipient)) for recipient in self.recipients)

    def __len__(self) -> int:
        return len(self.recipients)


class Checker:
    """Decides texts from one sender, recipient after recipient, in one read
    transaction: see :meth:`Engine.checker`."""

    __slots__ = ("_campaign", "_checked_body", "_list", "_policy", "_sender", "_state")

    def __init__(
        self,
        state: Callable[[str], ContactState | None],
        sender: str,
        policy: Policy,
        list_name: str | None,
        campaign: bool,
    ) -> None:
        self._state = state
        self._sender = sender
        self._policy = policy
        self._list = list_name
        self._campaign = campaign
        self._checked_body: str | None = None

    def check(self, to: str, body: str = "") -> Decision:
        """The decision :meth:`Engine.check` would make for this text."""
        if body is not self._checked_body:
            self._checked_body = _body(body)
        state = self._state(to)
        if state is None:
            # Stored numbers are all in E.164: anything else is read (or refused) as
            # Engine.check reads it, and looked up again in its E.164 form.
            number = phone(to)
            if number != to:
                state = self._state(number)
        return consent.decide(state, self._sender, self._policy, body, self._list, self._campaign)

    __call__ = check

    def _close(self) -> None:
        self._state = _closed_checker


def _closed_checker(to: str) -> ContactState | None:
    raise RuntimeError("this checker's transaction has ended")


class Engine:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        dispatch: Dispatch | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        # Without a dispatcher, outbound texts are decided and recorded only (the
        # caller sends them); with one, allowed texts go to the sender's provider.
        self._dispatch = dispatch
        self._policies: dict[tuple[str, str], Policy] = {}
        self._account_policies: dict[int, tuple[tuple[str, str, dict[str, Any]], Policy]] = {}
        # Sender number -> its row, once found (see _lookup_sender).
        self._known_senders: dict[str, SenderRow] = {}
        # Account id -> (keywords_version, triggers, list keywords).
        self._keywords: dict[int, tuple[int, dict[str, Trigger], dict[str, str]]] = {}

    @classmethod
    def open(
        cls, database_url: str, dispatch: Dispatch | None = None, **store_options: Any
    ) -> Engine:
        return cls(Store.open(database_url, **store_options), dispatch=dispatch)

    def close(self) -> None:
        close_dispatch = getattr(self._dispatch, "close", None)
        if close_dispatch is not None:
            close_dispatch()  # adapters hold HTTP connections
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts, senders, policy -------------------------------------------------

    def create_account(
        self, name: str, profile: str = "default", overrides: dict[str, Any] | None = None
    ) -> AccountRow:
        name = name.strip()
        if not name:
            raise BadInput("account name is empty")
        self._build_policy(profile, overrides or {})
        with self.store.transaction() as tx:
            try:
                return tx.accounts.create(name, profile, overrides or {})
            except Conflict:
                raise AlreadyExists(f"account {name!r} already exists") from None

    def create_account_with_key(
        self, name: str, profile: str = "default", overrides: dict[str, Any] | None = None
    ) -> tuple[AccountRow, str]:
        """Create an account and its API key; the key is returned once, stored hashed."""
        row = self.create_account(name, profile, overrides)
        return row, self.issue_api_key(row.name)

    def issue_api_key(self, account: AccountRef) -> str:
        """A new API key for the account (replacing any earlier one)."""
        key = "ol_" + secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            tx.accounts.set_api_key_hash(self._account(tx, account).id, key_hash(key))
        return key

    def account_for_key(self, key: str) -> AccountRow | None:
        with self.store.read() as tx:
            return tx.accounts.by_key_hash(key_hash(key))

    def accounts(self) -> list[AccountRow]:
        with self.store.read() as tx:
            return tx.accounts.all()

    def account(self, account: AccountRef) -> AccountRow:
        with self.store.read() as tx:
            return self._account(tx, account)

    def policy(self, account: AccountRef) -> Policy:
        with self.store.read() as tx:
            return self._policy_of(self._account(tx, account))

    def set_policy(
        self,
        account: AccountRef,
        profile: str | None = None,
        overrides: dict[str, Any] | None = None,
        confirm: bool = False,
    ) -> PolicyChange:
        """Switch the account's profile and/or replace its overrides.

        A switch that widens scope (per sender -> account) widens the opt-outs on
        record in the same transaction: every contact opted out of any sender is opted
        out of the account (``consent.widen_scope``, an event each, no text sent).
        When it would change any contact, nothing is written unless ``confirm``:
        :class:`ConfirmationRequired` says how many it would change.
        """
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account, exclusive=True)
            old_policy = self._policy_of(row)
            new_profile = profile or row.profile
            new_overrides = row.overrides if overrides is None else overrides
            policy = self._build_policy(new_profile, new_overrides)
            outcomes: list[tuple[ContactState, consent.Outcome]] = []
            if widens_scope(old_policy, policy):
                phones = tx.contacts.phones_with_sender_consent(row.id)
                for state in self._lock_contacts(tx, row.id, phones).values():
                    assert state is not None
                    outcome = consent.widen_scope(state)
                    if outcome.events:
                        outcomes.append((state, outcome))
            if outcomes and not confirm:
                raise ConfirmationRequired(
                    f"this policy change widens scope from sender to account: it opts "
                    f"{len(outcomes)} contact(s) opted out of one number out of the whole "
                    "account; confirm to apply it",
                    changes=len(outcomes),
                )
            for before, outcome in outcomes:
                self._apply(tx, row.id, before, outcome, now)
            tx.accounts.set_policy(row.id, new_profile, new_overrides)
            return PolicyChange(policy, len(outcomes))

    def add_sender(
        self,
        account: AccountRef,
        number: str,
        kind: SenderKind | str = SenderKind.LONG_CODE,
        provider: str | None = None,
        credentials: Mapping[str, str] | None = None,
        provider_replies: bool = False,
    ) -> SenderRow:
        """Register a number; ``provider`` and ``credentials`` verify its webhooks and
        send its texts (twilio: account_sid, auth_token; telnyx: api_key, public_key;
        generic: secret)."""
        try:
            kind = SenderKind(kind)
        except ValueError:
            raise BadInput(f"unknown sender kind {kind!r}") from None
        number = sender_number(number)
        if (kind is SenderKind.SHORT_CODE) != bool(_SHORT_CODE.match(number)):
            raise BadInput(f"{number} is not a {kind.value.replace('_', ' ')} number")
        missing = sorted(set(PROVIDER_CREDENTIALS.get(provider or "", ())) - set(credentials or {}))
        if provider is not None and provider not in PROVIDER_CREDENTIALS:
            raise BadInput(f"unknown provider {provider!r}")
        if missing:
            raise BadInput(f"{provider} sender needs credentials: {', '.join(missing)}")
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            try:
                return tx.senders.add(
                    row.id, number, kind, provider, dict(credentials or {}), provider_replies
                )
            except Conflict:
                raise AlreadyExists(f"sender {number} is already registered") from None

    def sender(self, number: str) -> SenderRow | None:
        """The registered sender with this number, in any account (webhook routing)."""
        known = self._known_senders.get(number)
        if known is not None:
            return known
        with self.store.read() as tx:
            return self._lookup_sender(tx, number)

    def _lookup_sender(self, tx: Tx, number: str) -> SenderRow | None:
        # A registered sender never changes or moves (nothing updates or deletes one),
        # so a row once found is kept: a webhook's signature check and the receive
        # that follows it then read it once. A number not found is always asked again.
        known = self._known_senders.get(number)
        if known is None:
            known = tx.senders.get(number)
            if known is not None:
                self._known_senders[number] = known
        return known

    def reseal_secrets(self) -> int:
        """Seal every stored provider credential and signing secret with the store's
        first key (after setting ``OPTLINE_SECRET_KEY``, or putting a new key first);
        returns how many were written."""
        with self.store.transaction() as tx:
            return tx.senders.reseal_secrets()

    def senders_of_provider(self, provider: str) -> list[SenderRow]:
        """Every registered sender of ``provider`` (to check a webhook that names none)."""
        with self.store.read() as tx:
            return tx.senders.of_provider(provider)

    def senders(self, account: AccountRef) -> list[SenderRow]:
        with self.store.read() as tx:
            return tx.senders.of_account(self._account(tx, account).id)

    def lists(self, account: AccountRef) -> list[ListRow]:
        with self.store.read() as tx:
            return tx.senders.lists(self._account(tx, account).id)

    def triggers(self, account: AccountRef) -> list[Trigger]:
        with self.store.read() as tx:
            return tx.senders.triggers(self._account(tx, account).id)

    # -- inbound --------------------------------------------------------------------

    def receive(
        self,
        account: AccountRef,
        from_: str,
        to: str,
        body: str,
        provider_id: str | None = None,
        provider_replied: bool = False,
        reply_by_api: bool = False,
        provider_keyword: str | None = None,
    ) -> InboundResult:
        """Apply one inbound text: classify, change consent, record, decide the reply.

        The same ``provider_id`` delivered twice gets the first delivery's outcome back,
        with no second event and no second reply. When the provider has answered the
        keyword itself (``provider_replied``, or a sender set to provider replies), the
        change is recorded and no second reply is sent. ``reply_by_api``: the reply goes
        out through the provider's API, not in the webhook's answer (Telnyx); it is
        recorded queued, in the same transaction, and :meth:`dispatch_recorded` or
        :meth:`send_queued_replies` sends it. ``provider_keyword``: the keyword the
        provider acted on itself (Twilio's ``OptOutType``, Telnyx's
        ``autoresponse_type``); its opt-out is recorded whatever the policy reads.
        """
        try:
            return self._receive(
                account,
                from_,
                to,
                body,
                provider_id,
                provider_replied,
                reply_by_api,
                provider_keyword,
            )
        except _Replay as replay:
            return InboundResult.from_dict(replay.outcome, duplicate=True)

    def _receive(
        self,
        account: AccountRef,
        from_: str,
        to: str,
        body: str,
        provider_id: str | None,
        provider_replied: bool,
        reply_by_api: bool,
        provider_keyword: str | None,
    ) -> InboundResult:
        contact_phone = phone(from_)
        to_number = sender_number(to)
        body = _body(body)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            sender = self._sender(tx, row, to_number)
            policy = self._policy_of(row)
            triggers, list_keywords = self._account_keywords(tx, row)
            classification = with_provider_keyword(
                classify(body, policy, triggers.keys() | list_keywords.keys()), provider_keyword
            )
            state = tx.contacts.get(row.id, contact_phone, for_update=True)
            before = state or ContactState(contact_phone)
            outcome = consent.receive(
                before,
                classification,
                Sender(sender.number, sender.kind),
                policy,
                triggers,
                list_keywords,
            )
            self._apply(tx, row.id, state, outcome, now)
            reply = None if provider_replied or sender.provider_replies else outcome.reply
            # The reply's number is taken first: a repeat of this delivery answers with
            # the same reply, id included, from the outcome stored with the text.
            inbound_id, reply_id = (
                tx.messages.new_ids(row.id, 2) if reply is not None else (None, None)
            )
            result = InboundResult(
                intent=classification.intent.value,
                keyword=classification.keyword,
                reason=classification.reason,
                reply=reply,
                status=outcome.state.status_from(sender.number).value,
                events=tuple(e.type.value for e in outcome.events),
                reply_message_id=reply_id,
            )
            try:
                tx.messages.record_inbound(
                    row.id,
                    provider_id=provider_id,
                    phone=contact_phone,
                    sender=sender.number,
                    body=body,
                    hidden=outcome.hidden,
                    at=now,
                    outcome=result.as_dict(),
                    message_id=inbound_id,
                )
            except DuplicateDelivery:
                # A repeated delivery (retries are rare, so it is not looked for first):
                # its transaction rolls back, so nothing is applied twice, and it gets
                # the first delivery's outcome.
                assert provider_id is not None
                earlier = tx.messages.inbound_outcome(
                    row.id, provider_id, contact_phone, sender.number
                )
                if earlier is None:  # the id is another message's: refused, nothing kept
                    raise ProviderIdConflict(
                        f"message id {provider_id!r} is already another message's"
                    ) from None
                raise _Replay(earlier) from None
            if reply is not None:
                tx.messages.record_outbound(
                    row.id,
                    phone=contact_phone,
                    sender=sender.number,
                    body=reply,
                    status="queued" if reply_by_api and self._sends_through(sender) else "sent",
                    reason=None,
                    list_name=None,
                    campaign=False,
                    at=now,
                    reply=True,
                    message_id=reply_id,
                )
            return result

    # -- outbound -------------------------------------------------------------------

    def check(
        self,
        account: AccountRef,
        sender: str,
        to: str,
        body: str = "",
        list_name: str | None = None,
        campaign: bool = False,
    ) -> Decision:
        """Would this text be allowed? Reads only; records nothing."""
        contact_phone = phone(to)
        from_number = sender_number(sender)
        body = _body(body)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            self._known_list(tx, row, list_name)
            state = tx.contacts.get(row.id, contact_phone)
            return consent.decide(
                state, from_number, self._policy_of(row), body, list_name, campaign
            )

    @contextmanager
    def checker(
        self,
        account: AccountRef,
        sender: str,
        list_name: str | None = None,
        campaign: bool = False,
    ) -> Iterator[Checker]:
        """Decide many texts from ``sender`` as :meth:`check` would, for a caller
        pre-checking a batch: ``with engine.checker(acct, sender) as check: check(to,
        body)``.

        One read transaction for the whole batch; the account, sender, list and policy
        are resolved once, then each recipient costs one primary-key query. Its
        decisions reflect the store as of the first query, so keep the block short (a
        long one holds back SQLite's checkpoints) and decide the real send with
        :meth:`send`. Reads only; records nothing.
        """
        from_number = sender_number(sender)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            self._known_list(tx, row, list_name)
            state = tx.contacts.send_view(row.id, from_number, list_name)
            checker = Checker(state, from_number, self._policy_of(row), list_name, campaign)
            try:
                yield checker
            finally:
                checker._close()

    def send(
        self,
        account: AccountRef,
        sender: str,
        to: str,
        body: str,
        list_name: str | None = None,
        campaign: bool = False,
        idempotency_key: str | None = None,
    ) -> SendResult:
        """Decide, record and (with a dispatcher) send one text.

        The decision and its record commit in one transaction holding the contact's
        row lock, so an opt-out committed before it is always seen and one committed
        after it waits; a text for the provider is decided again at its hand-over
        (:meth:`_claim`). A refused text is recorded failed with its reason and never
        reaches the provider.

        With an ``idempotency_key``, the same request again (a retry after a timeout)
        sends nothing new: it gets the first request's message as it is now, and one
        whose hand-over never started is decided again and sent. The key with another
        request raises :class:`IdempotencyKeyReused`.
        """
        return self.deliver(
            self.decide_send(account, sender, to, body, list_name, campaign, idempotency_key)
        )

    def decide_send(
        self,
        account: AccountRef,
        sender: str,
        to: str,
        body: str,
        list_name: str | None = None,
        campaign: bool = False,
        idempotency_key: str | None = None,
    ) -> PendingSend:
        """The first half of :meth:`send`: decide and record, in one transaction."""
        contact_phone = phone(to)
        from_number = sender_number(sender)
        body = _body(body)
        now = self._clock()
        key = idempotency_key
        request = (
            ""
            if key is None
            else _send_fingerprint(from_number, contact_phone, body, list_name, campaign)
        )
        try:
            with self.store.transaction() as tx:
                row = self._account(tx, account)
                sender_row = self._sender(tx, row, from_number)
                if (
                    key is not None
                    and (earlier := tx.messages.send_request(row.id, key)) is not None
                ):
                    return _earlier_send(sender_row, key, request, *earlier)
                self._known_list(tx, row, list_name)
                state = tx.contacts.get(row.id, contact_phone, for_update=True)
                pending = self._decide_recorded(
                    tx,
                    row.id,
                    self._policy_of(row),
                    sender_row,
                    contact_phone,
                    state,
                    body,
                    list_name,
                    campaign,
                    now,
                )
                if key is not None:
                    tx.messages.record_send_request(
                        row.id,
                        key,
                        message_id=pending.message_id,
                        fingerprint=request,
                        allowed=pending.decision.allowed,
                        at=now,
                    )
        except DuplicateDelivery:
            # A concurrent request with the same key committed first; this one rolled
            # back, so the text is recorded (and sent) once.
            assert key is not None
            with self.store.read() as tx:
                earlier = tx.messages.send_request(sender_row.account_id, key)
            assert earlier is not None
            return _earlier_send(sender_row, key, request, *earlier)
        return pending

    def _decide_recorded(
        self,
        tx: Tx,
        account_id: int,
        policy: Policy,
        sender: SenderRow,
        to: str,
        state: ContactState | None,
        body: str,
        list_name: str | None,
        campaign: bool,
        now: datetime,
    ) -> PendingSend:
        """Decide one text on the contact's state as locked in ``tx``, and record it."""
        decision = consent.decide(state, sender.number, policy, body, list_name, campaign)
        message_id = self._record_decision(
            tx,
            account_id,
            state,
            to,
            sender.number,
            decision,
            list_name,
            campaign,
            now,
            queued=self._sends_through(sender),
        )
        return PendingSend(sender, to, decision, message_id)

    def dispatches(self, pending: PendingSend) -> bool:
        """Whether :meth:`deliver` calls a provider for this text (network I/O)."""
        return pending.decision.allowed and self._sends_through(pending.sender)

    def _sends_through(self, sender: SenderRow) -> bool:
        """Texts from ``sender`` go out through its provider's API (from here)."""
        return self._dispatch is not None and sender.provider is not None

    def deliver(self, pending: PendingSend) -> SendResult:
        """The second half of :meth:`send`, outside any transaction: an allowed text
        to the provider; a refused one is already recorded failed."""
        to, decision, message_id = pending.to, pending.decision, pending.message_id
        if pending.earlier is not None:
            return self._deliver_again(pending, pending.earlier)
        if not decision.allowed:
            return SendResult(to, decision, "failed", message_id)
        refusal, status, provider_id, error = self._claim_and_hand_over(
            pending.sender, to, decision.body, message_id
        )
        return SendResult(to, refusal or decision, status, message_id, provider_id, error)

    def _deliver_again(self, pending: PendingSend, message: MessageRow) -> SendResult:
        """A request repeated with its idempotency key: its first message as it is now;
        one still queued (its hand-over never started: the process stopped, say) is
        decided again, as consent may have changed since, and sent."""
        sender, to, decision = pending.sender, pending.to, pending.decision
        if decision.allowed and message.status == "queued" and self._sends_through(sender):
            refusal, status, provider_id, error = self._claim_and_hand_over(
                sender, to, message.body, message.id
            )
            return SendResult(
                to, refusal or decision, status, message.id, provider_id, error, replayed=True
            )
        # A failure after an allowed decision was the provider's: its reason stands in
        # for the error message, which was not kept.
        error = message.reason if decision.allowed and message.status == "failed" else None
        return SendResult(
            to, decision, message.status, message.id, message.provider_id, error, replayed=True
        )

    def _record_decision(
        self,
        tx: Tx,
        account_id: int,
        state: ContactState | None,
        contact_phone: str,
        from_number: str,
        decision: Decision,
        list_name: str | None,
        campaign: bool,
        now: datetime,
        queued: bool,
    ) -> int:
        """Record a send's decision: failed with its reason, or allowed, and then
        ``queued`` for the provider (``dispatch_recorded``) or sent by the caller."""
        if decision.allowed:
            tx.contacts.save(account_id, consent.sent(state or ContactState(contact_phone)), now)
        else:
            self._record_refusal(tx, account_id, state, contact_phone, from_number, decision, now)
        return tx.messages.record_outbound(
            account_id,
            phone=contact_phone,
            sender=from_number,
            body=decision.body,
            status=("queued" if queued else "sent") if decision.allowed else "failed",
            reason=decision.reason.value if decision.reason else None,
            list_name=list_name,
            campaign=campaign,
            at=now,
        )

    def _record_refusal(
        self,
        tx: Tx,
        account_id: int,
        state: ContactState | None,
        to: str,
        from_number: str,
        decision: Decision,
        now: datetime,
    ) -> None:
        """Put a refused send on the contact's ledger (``send_refused``)."""
        refused = consent.refused_event(state or ContactState(to), from_number, decision)
        self._append(tx, account_id, [refused], now)

    def dispatch_recorded(
        self, sender: SenderRow, to: str, body: str, message_id: int
    ) -> tuple[str, str | None, str | None]:
        """Send a text recorded as queued (message ``message_id``); returns its status,
        the provider's id and the failure, and records them.

        The text is first claimed (queued -> sending, :meth:`_claim`) in a transaction
        of its own, so it reaches the provider once even when the reply worker looks at
        it too, and never after an opt-out committed since it was decided; a crash
        after the claim leaves it ``sending``: handed over or not, nobody knows, and it
        is not sent again."""
        _, status, provider_id, error = self._claim_and_hand_over(sender, to, body, message_id)
        return status, provider_id, error

    def _claim_and_hand_over(
        self, sender: SenderRow, to: str, body: str, message_id: int
    ) -> tuple[Decision | None, str, str | None, str | None]:
        """:meth:`dispatch_recorded`, with the decision that refused the text at its
        claim (None when it was not decided again, or is still allowed)."""
        if not self._sends_through(sender):
            return None, "sent", None, None
        status, reason, refusal = self._claim(sender.account_id, message_id)
        if status is None:
            return None, "sending", None, "already being sent"
        if status == "failed":
            return refusal, "failed", None, reason
        return self._hand_over(sender, to, body, message_id)

    def send_queued_replies(self, limit: int = 50) -> int:
        """Send replies still queued ``REPLY_GRACE`` after they were recorded: their
        webhook's own send never started (the process stopped, say). Returns how many
        this call sent or failed."""
        with self.store.read() as tx:
            queued = tx.messages.queued_replies(self._clock() - REPLY_GRACE, limit)
        handled = 0
        for account_id, message in queued:
            sender = self.sender(message.sender)
            if sender is None or sender.account_id != account_id or not self._sends_through(sender):
                continue  # the sender was removed, or has no provider: nothing to send through
            moved_to, _, _ = self._claim(account_id, message.id)
            if moved_to == "sending":
                self._hand_over(sender, message.phone, message.body, message.id)
            handled += moved_to is not None
        return handled

    def _claim(
        self, account_id: int, message_id: int
    ) -> tuple[str | None, str | None, Decision | None]:
        """Claim a queued text for its hand-over to the provider: its new status, the
        reason and the decision that refused it (if decided again and refused), or
        (None, None, None) when someone else has taken it meanwhile."""
        with self.store.transaction() as tx:
            # The claim first: of two claimants, the one that waited for this row finds
            # it taken, and decides and records nothing. Lock order: the message, the
            # contact, the account (as a delivery report takes them).
            if not tx.messages.move(account_id, message_id, "queued", "sending"):
                return None, None, None
            return self._decide_again(tx, account_id, message_id)

    def _recheck(self, account_id: int, message_id: int) -> None:
        """Before each retry of a hand-over: the text, still ``sending``, is decided
        again as at its claim (each attempt is a hand-over of its own: a STOP may have
        come while the provider was failing). Raises :class:`SendWithdrawn` when it may
        no longer go, with it recorded ``failed`` (and ``send_refused``)."""
        with self.store.transaction() as tx:
            message = tx.messages.get(account_id, message_id, for_update=True)
            if message is None or message.status != "sending":
                # Settled by someone else meanwhile (an operator, say): not ours to send.
                raise _Withdrawn(None, message.status if message else "missing")
            status, reason, refusal = self._decide_again(tx, account_id, message_id)
        if status == "failed":
            raise _Withdrawn(refusal, reason)

    def _decide_again(
        self, tx: Tx, account_id: int, message_id: int
    ) -> tuple[str, str | None, Decision | None]:
        """Decide a ``sending`` text again on the contact as locked in ``tx`` now: its
        status (``sending`` to go on, or ``failed``), the reason and the refusal.

        Consent may have changed since the text was decided (a broadcast's later
        texts, a retried request, a reply sent late): a text now refused is recorded
        ``failed`` with the decision's reason (and ``send_refused``), never handed
        over. An automatic reply is not decided again (a STOP's confirmation goes to
        an opted-out contact), but once the contact's ledger has moved on (a STOP
        after a trigger's reply, say) it answers a moment that has passed: ``failed``,
        reason ``superseded``."""
        now = self._clock()
        message = tx.messages.get(account_id, message_id)
        assert message is not None
        if message.reply:
            if not tx.ledger.changed_since(account_id, message.phone, message.created_at):
                return "sending", None, None
            tx.messages.move(account_id, message_id, "sending", "failed", "superseded")
            return "failed", "superseded", None
        policy = self._policy_of(self._account(tx, account_id))
        state = tx.contacts.get(account_id, message.phone, for_update=True)
        decision = consent.decide(
            state, message.sender, policy, message.body, message.list_name, message.campaign
        )
        if decision.allowed:
            return "sending", None, None
        self._record_refusal(tx, account_id, state, message.phone, message.sender, decision, now)
        untold = None if state is None else consent.never_sent(state, policy, message.body)
        if untold is not None and untold is not state:
            tx.contacts.save(account_id, untold, now)
        reason = decision.reason.value if decision.reason else None
        tx.messages.move(account_id, message_id, "sending", "failed", reason)
        return "failed", reason, decision

    def _hand_over(
        self, sender: SenderRow, to: str, body: str, message_id: int
    ) -> tuple[Decision | None, str, str | None, str | None]:
        """Hand a claimed text to the provider: the refusal that withdrew it before a
        retry (or None), its status, the provider's id and the failure."""
        assert self._dispatch is not None and sender.provider is not None
        account_id = sender.account_id
        try:
            provider_id = self._dispatch(
                sender, to, body, before_retry=lambda: self._recheck(account_id, message_id)
            )
        except _Withdrawn as exc:
            return exc.refusal, "failed", None, exc.reason
        except ProviderOptedOut as exc:
            # The provider knows an opt-out we did not: take it over so the two agree.
            self.provider_opt_out(account_id, sender.number, to, sender.provider, exc.code or "")
            self._set_status(account_id, message_id, "failed", "opted_out", None)
            return None, "failed", None, str(exc)
        except ProviderError as exc:
            self._set_status(account_id, message_id, "failed", "provider_error", None)
            return None, "failed", None, str(exc)
        self._set_status(account_id, message_id, "sent", None, provider_id)
        return None, "sent", provider_id, None

    def _set_status(
        self,
        account_id: int,
        message_id: int,
        status: str,
        reason: str | None,
        provider_id: str | None,
    ) -> None:
        with self.store.transaction() as tx:
            tx.messages.set_status(account_id, message_id, status, reason, provider_id)

    def broadcast(
        self,
        account: AccountRef,
        sender: str,
        body: str,
        list_name: str | None = None,
        numbers: Sequence[str] | None = None,
        campaign: bool = True,
    ) -> list[SendResult]:
        """One text to every member of ``list_name`` (subscribed) or to ``numbers``; the
        results in the recipients' order.

        Every recipient is decided and recorded as :meth:`send` does, ``BROADCAST_CHUNK``
        of them to a transaction; the allowed texts then go to the provider
        ``BROADCAST_CONCURRENCY`` at a time.
        """
        if numbers is not None:
            recipients = list(dict.fromkeys(phone(n) for n in numbers))
        else:
            if list_name is None:
                raise BadInput("a broadcast needs a list or numbers")
            members = self.contacts(account, list_name=list_name)
            recipients = [c.phone for c in members if c.lists.get(list_name)]
        from_number = sender_number(sender)
        body = _body(body)
        pending: list[PendingSend] = []
        for start in range(0, len(recipients), BROADCAST_CHUNK):
            chunk = recipients[start : start + BROADCAST_CHUNK]
            pending += self._decide_chunk(account, from_number, chunk, body, list_name, campaign)
        if not any(self.dispatches(p) for p in pending):
            return [self.deliver(p) for p in pending]
        with ThreadPoolExecutor(BROADCAST_CONCURRENCY, thread_name_prefix="broadcast") as pool:
            return list(pool.map(self.deliver, pending))

    def _decide_chunk(
        self,
        account: AccountRef,
        from_number: str,
        recipients: Sequence[str],
        body: str,
        list_name: str | None,
        campaign: bool,
    ) -> list[PendingSend]:
        """Decide and record texts to ``recipients`` in one transaction."""
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            sender_row = self._sender(tx, row, from_number)
            self._known_list(tx, row, list_name)
            policy = self._policy_of(row)
            states = self._lock_contacts(tx, row.id, recipients)
            return [
                self._decide_recorded(
                    tx, row.id, policy, sender_row, to, states[to], body, list_name, campaign, now
                )
                for to in recipients
            ]

    @staticmethod
    def _lock_contacts(
        tx: Tx, account_id: int, phones: Iterable[str]
    ) -> dict[str, ContactState | None]:
        """Lock (and read) every contact a transaction about to change several will
        touch, all of them before any ledger append and in one order (sorted): two such
        transactions, or one and a single change (contact, then ledger head), can then
        never each hold a lock the other waits for (PostgreSQL)."""
        return {p: tx.contacts.get(account_id, p, for_update=True) for p in sorted(set(phones))}

    def delivery_report(
        self,
        account: AccountRef,
        sender: str,
        provider_id: str,
        to: str,
        status: str,
        error_code: str | None,
        opted_out: bool,
        reply_id: int | None = None,
    ) -> None:
        """A provider's status report on an outbound text. An opted-out report (21610,
        40300, ...) opts the recipient out here too, so provider and optline agree.

        ``reply_id``: the report is on that automatic reply (answered in TwiML, so sent
        without optline learning the provider's id), which takes ``provider_id`` now.
        """
        recipient = phone(to)
        from_number = sender_number(sender)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            sender_row = self._sender(tx, row, from_number)
            message = tx.messages.by_provider_id(row.id, provider_id)
            if message is not None and message.direction != "out":
                # An inbound text's id: no report is about it, and no reply can take it.
                if reply_id is not None:
                    raise ProviderIdConflict(
                        f"message id {provider_id!r} is already another message's"
                    )
                message = None
            elif message is None and reply_id is not None:
                message = tx.messages.unreported_reply(row.id, reply_id, from_number, recipient)
            already = message is not None and message.reason == "opted_out"
            # Callbacks may arrive out of order: a late "sent" never undoes "delivered".
            if message is not None and not (
                message.status in FINAL_STATUSES and status not in FINAL_STATUSES
            ):
                reason = "opted_out" if opted_out else (error_code and f"provider_{error_code}")
                tx.messages.set_status(row.id, message.id, status, reason, provider_id)
            if opted_out and not already:
                state = tx.contacts.get(row.id, recipient, for_update=True)
                outcome = self._provider_outcome(
                    state or ContactState(recipient),
                    self._policy_of(row),
                    from_number,
                    sender_row.provider or "provider",
                    error_code or "",
                )
                self._apply(tx, row.id, state, outcome, now)

    def decide_broadcast(
        self,
        account: AccountRef,
        sender: str,
        recipients: Iterable[str],
        list_name: str | None = None,
    ) -> BroadcastDecisions:
        """The recipients a send would reach (in order) and those it would refuse.

        One set-based query finds every contact a send would refuse; recipients are
        then checked against it in memory, so a million recipients cost one pass.
        Recipients must already be in E.164 (contacts from the store, or numbers
        normalised with :func:`phone`).
        """
        from_number = sender_number(sender)
        given = recipients if isinstance(recipients, Sequence) else list(recipients)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            self._known_list(tx, row, list_name)
            suppressed = tx.contacts.suppressed(row.id, from_number, list_name)
        refused: dict[str, str] = {}
        # One pass: a recipient not suppressed is kept; a suppressed one is entered in
        # ``refused`` with its reason (setitem returns None, so it is left out).
        allowed = [
            to for to in given if to not in suppressed or setitem(refused, to, suppressed[to])
        ]
        return BroadcastDecisions(given, allowed, refused)

    # -- manual changes -------------------------------------------------------------

    def opt_out(
        self, account: AccountRef, number: str, sender: str | None = None, note: str | None = None
    ) -> ContactState:
        """Opt ``number`` out (from ``sender`` alone, where the policy keeps consent per
        sender: it must be one of the account's)."""
        from_number = self._opt(sender)
        return self._change(
            account,
            number,
            lambda s, p: consent.opt_out(s, p, from_number, note),
            sender=from_number,
        )

    def opt_in(
        self,
        account: AccountRef,
        number: str,
        evidence: str | None,
        sender: str | None = None,
    ) -> ContactState:
        from_number = self._opt(sender)
        return self._change(
            account,
            number,
            lambda s, p: consent.opt_in(s, p, evidence, from_number),
            sender=from_number,
        )

    def block(self, account: AccountRef, number: str, note: str | None = None) -> ContactState:
        return self._change(account, number, lambda s, p: consent.block(s, note))

    def unblock(self, account: AccountRef, number: str, note: str | None = None) -> ContactState:
        return self._change(account, number, lambda s, p: consent.unblock(s, note))

    def subscribe(self, account: AccountRef, list_name: str, number: str) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.subscribe(s, list_name), list_name
        )

    def unsubscribe(self, account: AccountRef, list_name: str, number: str) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.unsubscribe(s, list_name), list_name
        )

    def provider_opt_out(
        self, account: AccountRef, sender: str, number: str, provider: str, code: str
    ) -> ContactState:
        """A provider refused a send because the recipient opted out there (21610...)."""
        from_number = sender_number(sender)
        return self._change(
            account,
            number,
            lambda s, p: self._provider_outcome(s, p, from_number, provider, code),
        )

    @staticmethod
    def _provider_outcome(
        state: ContactState, policy: Policy, sender: str, provider: str, code: str
    ) -> Outcome:
        """A provider's opted-out report. Nothing to record when the contact is already
        opted out from that number: a retried callback, a text another system sent, a
        STOP confirmation the provider refused because it saw the STOP too."""
        if state.status_from(sender) is Status.OPTED_OUT:
            return Outcome(state)
        return consent.provider_opt_out(state, policy, sender, provider, code)

    def bulk_opt_out(self, account: AccountRef, numbers: Sequence[str]) -> int:
        """Opt out every number in one transaction: all of them or, on a bad one, none."""
        return len(self._change_each(account, numbers, lambda s, p: consent.opt_out(s, p)))

    # -- lists and triggers ---------------------------------------------------------

    def create_list(
        self, account: AccountRef, name: str, opt_out_keyword: str | None = None
    ) -> ListRow:
        """Create a list; returns it as stored (its name trimmed, its keyword in keyword
        form)."""
        name = _list_name(name)
        keyword = self._account_keyword(opt_out_keyword) if opt_out_keyword else None
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            if keyword is not None:
                self._keyword_free(tx, row, keyword)
            try:
                return tx.senders.create_list(row.id, name, keyword)
            except Conflict:
                raise AlreadyExists(f"list {name!r} already exists") from None

    def add_to_list(self, account: AccountRef, list_name: str, numbers: Sequence[str]) -> int:
        change = self._change_each(
            account, numbers, lambda s, p: consent.subscribe(s, list_name), list_name
        )
        return len(change)

    def add_trigger(
        self,
        account: AccountRef,
        keyword: str,
        reply: str,
        unsubscribe_list: str | None = None,
        subscribe_list: str | None = None,
    ) -> Trigger:
        trigger = Trigger(self._account_keyword(keyword), reply, unsubscribe_list, subscribe_list)
        if not reply.strip():
            raise BadInput("trigger reply is empty")
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._keyword_free(tx, row, trigger.keyword)
            for list_name in (unsubscribe_list, subscribe_list):
                self._known_list(tx, row, list_name)
            tx.senders.add_trigger(row.id, trigger)
            return trigger

    # -- reading --------------------------------------------------------------------

    def contact(self, account: AccountRef, number: str) -> ContactState | None:
        contact_phone = phone(number)
        with self.store.read() as tx:
            return tx.contacts.get(self._account(tx, account).id, contact_phone)

    def contacts(
        self,
        account: AccountRef,
        status: Status | None = None,
        list_name: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ContactState]:
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            return tx.contacts.find(
                row.id, status=status, list_name=list_name, after=after, limit=limit
            )

    def history(
        self, account: AccountRef, number: str
    ) -> tuple[list[StoredEvent], list[MessageRow]]:
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            return tx.ledger.events(row.id, contact_phone), tx.messages.of_contact(
                row.id, contact_phone
            )

    def message(self, account: AccountRef, message_id: int) -> MessageRow:
        """One of the account's messages, in or out, as it is now (its delivery status)."""
        with self.store.read() as tx:
            found = tx.messages.get(self._account(tx, account).id, message_id)
        if found is None:
            raise UnknownMessage(f"no message {message_id} in account {account!r}")
        return found

    def unsettled_messages(
        self,
        account: AccountRef,
        status: str,
        after_id: int = 0,
        limit: int = 100,
        older_than: timedelta = timedelta(0),
    ) -> list[MessageRow]:
        """The account's texts still ``queued`` or ``sending``, oldest first, after
        ``after_id`` (and recorded more than ``older_than`` ago): after a crash, the
        sends whose hand-over to the provider never started or never got an answer
        (their clients got none either)."""
        if status not in UNSETTLED_STATUSES:
            raise BadInput(f"status must be one of {', '.join(UNSETTLED_STATUSES)}")
        before = self._clock() - older_than if older_than else None
        with self.store.read() as tx:
            account_id = self._account(tx, account).id
            return tx.messages.unsettled(account_id, status, after_id, limit, before)

    def recent_messages(self, account: AccountRef, limit: int = 20) -> list[MessageRow]:
        """The account's last messages in and out, newest first."""
        with self.store.read() as tx:
            return tx.messages.recent(self._account(tx, account).id, limit)

    def flagged(self, account: AccountRef, limit: int = 200) -> list[StoredEvent]:
        """Possible opt-outs waiting for review, newest first."""
        with self.store.read() as tx:
            row = self._account(tx, account)
            return tx.ledger.events_of_type(row.id, "revocation_flagged", limit)

    def proof(self, account: AccountRef, number: str) -> dict[str, Any]:
        """A contact's events with their chain links, checkable offline (docs/ledger.md)."""
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            events = tx.ledger.events(row.id, contact_phone)
            head = tx.ledger.verify(row.id)
        return proof_document(row, contact_phone, events, head)

    # -- unsettled sends ------------------------------------------------------------

    def unsettled_sends(
        self, account: AccountRef, queued_for: timedelta = QUEUED_TOO_LONG, limit: int = 1000
    ) -> list[MessageRow]:
        """The account's sends whose outcome nobody knows, oldest first: every one left
        ``sending``, and those ``queued`` for longer than ``queued_for`` (at most
        ``limit`` of each)."""
        before = self._clock() - self._wait(queued_for)
        with self.store.read() as tx:
            account_id = self._account(tx, account).id
            sending = tx.messages.unsettled(account_id, MessageStatus.SENDING.value, 0, limit)
            queued = tx.messages.unsettled(account_id, MessageStatus.QUEUED.value, 0, limit, before)
        return sorted([*sending, *queued], key=lambda m: m.id)

    def unsettled_counts(
        self, account: AccountRef, queued_for: timedelta = QUEUED_TOO_LONG
    ) -> dict[MessageStatus, int]:
        """How many sends :meth:`unsettled_sends` would list, by status."""
        before = self._clock() - self._wait(queued_for)
        with self.store.read() as tx:
            counts = tx.messages.count_unsettled(self._account(tx, account).id, before)
        return {status: counts.get(status.value, 0) for status in UNSETTLED}

    @staticmethod
    def _wait(queued_for: timedelta) -> timedelta:
        if queued_for < timedelta(0):
            raise BadInput("the time a send has been queued cannot be negative")
        return queued_for

    def settle(
        self,
        account: AccountRef,
        message_id: int,
        settled_as: SettledAs,
        reason: str,
        by: str,
        via: Via,
    ) -> MessageRow:
        """An operator settles a send left ``queued`` or ``sending``: recorded
        ``settled_as`` (reason code ``settled_by_operator``), with a ``send_settled``
        event on the contact's ledger naming who (``by``, through ``via``) and why
        (``reason``, required). Any other message raises :class:`AlreadySettled`."""
        try:
            why = operator_reason(reason)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        if not by.strip():
            raise BadInput("who settles the send must be named")
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            message = tx.messages.get(row.id, message_id)
            if message is None:
                raise UnknownMessage(f"no message {message_id} in account {row.name!r}")
            code = FailureReason.SETTLED_BY_OPERATOR.value
            if (
                message.direction != "out"
                or message.status not in UNSETTLED
                or not tx.messages.move(row.id, message.id, message.status, settled_as.value, code)
            ):
                current = tx.messages.get(row.id, message.id) or message  # it may have moved on
                raise AlreadySettled(
                    f"message {message_id} is {current.status}: only a send still queued or"
                    " sending can be settled"
                )
            event = settled_event(
                message.phone,
                message.sender,
                message.id,
                message.status,
                settled_as,
                Source.MANUAL,
                by.strip(),
                via,
                reason=why,
            )
            self._record_settled(tx, row, message, settled_as, event, None, now)
            settled = tx.messages.get(row.id, message.id)
        assert settled is not None
        return settled

    def reconcile(
        self,
        look_up: LookUp,
        account: AccountRef | None = None,
        by: str = "cli",
        via: Via = Via.CLI,
    ) -> list[Reconciliation]:
        """Settle each send left ``sending`` (of ``account``, or of every account) from
        its provider's own record of it: taken (queued, sent, delivered, ...) -> sent
        with the provider's id; failed or undelivered -> failed with the provider's
        error (an opted-out refusal opts the contact out here too). A text the provider
        has no record of, or whose provider cannot be asked, is left for an operator
        (:meth:`settle`). ``queued`` sends were never handed over: nothing to ask."""
        with self.store.read() as tx:
            rows = [self._account(tx, account)] if account is not None else tx.accounts.all()
            stuck = [(row, message) for row in rows for message in self._all_sending(tx, row.id)]
        return [self._reconcile(row, message, look_up, by, via) for row, message in stuck]

    @staticmethod
    def _all_sending(tx: Tx, account_id: int) -> list[MessageRow]:
        found: list[MessageRow] = []
        while page := tx.messages.unsettled(
            account_id, MessageStatus.SENDING.value, found[-1].id if found else 0, 500
        ):
            found += page
        return found

    def _reconcile(
        self, account: AccountRow, message: MessageRow, look_up: LookUp, by: str, via: Via
    ) -> Reconciliation:
        left = partial(Reconciliation, account.name, message.id, message.phone, message.sender)
        sender = self.sender(message.sender)
        if sender is None or sender.account_id != account.id:
            detail = f"{message.sender} is no longer a sender of the account"
            return left(Reconciled.CANNOT_ASK, detail=detail)
        text = SentText(
            message.sender, message.phone, message.body, message.created_at, message.provider_id
        )
        try:
            records = look_up(sender, text)
        except CannotAsk as exc:
            return left(Reconciled.CANNOT_ASK, detail=f"{exc}: settle it by hand")
        except ProviderError as exc:
            return left(Reconciled.UNREACHABLE, detail=str(exc))
        now = self._clock()
        with self.store.transaction() as tx:
            # A record another message carries already (the same text sent twice) is its.
            record = next(
                (
                    r
                    for r in records
                    if (owner := tx.messages.by_provider_id(account.id, r.provider_id)) is None
                    or owner.id == message.id
                ),
                None,
            )
            if record is None:
                detail = f"{sender.provider} has no record of this text: settle it by hand"
                return left(Reconciled.NOT_FOUND, detail=detail)
            found = partial(left, provider_id=record.provider_id, provider_status=record.status)
            settled_as = settled_by_provider(record.status)
            if settled_as is None:
                detail = f"{sender.provider} says {record.status!r}: settle it by hand"
                return found(Reconciled.UNREADABLE, detail=detail)
            failed = settled_as is SettledAs.FAILED
            reason = provider_failure(record.error_code, record.opted_out) if failed else None
            if not tx.messages.move(
                account.id, message.id, MessageStatus.SENDING.value, settled_as.value
            ):
                return found(Reconciled.ALREADY_SETTLED, detail="settled meanwhile")
            tx.messages.set_status(
                account.id, message.id, settled_as.value, reason, record.provider_id
            )
            event = settled_event(
                message.phone,
                message.sender,
                message.id,
                MessageStatus.SENDING.value,
                settled_as,
                Source.PROVIDER,
                by,
                via,
                provider=record.provider,
                provider_id=record.provider_id,
                provider_status=record.status,
                code=record.error_code,
                error=record.error_message and record.error_message[:200],
            )
            self._record_settled(tx, account, message, settled_as, event, record, now)
        return found(Reconciled(settled_as.value), reason=reason)

    def _record_settled(
        self,
        tx: Tx,
        account: AccountRow,
        message: MessageRow,
        settled_as: SettledAs,
        event: consent.Event,
        record: ProviderRecord | None,
        now: datetime,
    ) -> None:
        """A settled send's event, and the contact as it follows: a text that never went
        did not tell them the first-text disclosure (the next one carries it), and a
        provider's opted-out refusal opts them out here too."""
        policy = self._policy_of(account)
        state = tx.contacts.get(account.id, message.phone, for_update=True)
        before = state or ContactState(message.phone)
        after, events = before, [event]
        if settled_as is SettledAs.FAILED:
            after = consent.never_sent(after, policy, message.body)
        if record is not None and record.opted_out:
            opted_out = self._provider_outcome(
                after, policy, message.sender, record.provider, record.error_code or ""
            )
            after, events = opted_out.state, [*events, *opted_out.events]
        if after != before:
            tx.contacts.save(account.id, after, now)
        self._append(tx, account.id, events, now)

    # -- event webhooks -------------------------------------------------------------

    def add_subscription(
        self, account: AccountRef, url: str, events: Sequence[str]
    ) -> tuple[int, str]:
        """Subscribe ``url`` to event types; returns its id and signing secret (once)."""
        unknown = sorted(set(events) - SUBSCRIBABLE)
        if unknown:
            raise BadInput(f"unknown event types: {', '.join(unknown)}")
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            return tx.outbox.add_subscription(row.id, url, secret, sorted(set(events))), secret

    def subscriptions(self, account: AccountRef) -> list[SubscriptionRow]:
        with self.store.read() as tx:
            return tx.outbox.subscriptions(self._account(tx, account).id)

    def claim_notifications(self, limit: int, lease_seconds: int = 60) -> list[Notification]:
        """Due event-webhook deliveries, leased to this worker for ``lease_seconds``."""
        now = self._clock()
        # An idle outbox costs a read, not a turn at the write lock that every consent
        # change and inbound text of this process queues for.
        with self.store.read() as tx:
            if not tx.outbox.any_due(now):
                return []
        with self.store.transaction() as tx:
            return tx.outbox.claim(now, limit, lease_seconds)

    def notification_result(self, notification: Notification, error: str | None) -> None:
        """Record a delivery attempt: done, retried later with backoff, or given up."""
        now = self._clock()
        with self.store.transaction() as tx:
            if error is None:
                tx.outbox.delivered(notification.id, now)
                return
            attempts = notification.attempts + 1
            delay = min(NOTIFY_BASE_DELAY * 2 ** (attempts - 1), NOTIFY_MAX_DELAY)
            tx.outbox.retry(
                notification.id,
                attempts,
                now + timedelta(seconds=delay),
                error[:500],
                give_up=attempts >= NOTIFY_MAX_ATTEMPTS,
            )

    def verify(self, account: AccountRef | None = None) -> list[VerifyResult]:
        with self.store.read() as tx:
            rows = [self._account(tx, account)] if account else tx.accounts.all()
            return [tx.ledger.verify(row.id) for row in rows]

    # -- import ---------------------------------------------------------------------

    def import_contacts(
        self,
        account: AccountRef,
        rows: Iterable[ImportRow],
        progress: Callable[[], None] = lambda: None,
    ) -> int:
        """Apply validated rows in one transaction: all of them, or none on any refusal."""
        now = self._clock()
        count = 0
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            policy = self._policy_of(row)
            known_lists = {lst.name for lst in tx.senders.lists(row.id)}
            for item in rows:
                missing = [name for name in item.lists if name not in known_lists]
                if missing:
                    raise BadInput(f"line {item.line}: unknown list {missing[0]!r}")
                state = tx.contacts.get(row.id, item.phone, for_update=True)
                try:
                    outcome = consent.imported(
                        state or ContactState(item.phone),
                        policy,
                        item.status,
                        item.lists,
                        item.evidence,
                        new=state is None,
                    )
                except Refused as exc:
                    raise NotAllowed(f"line {item.line}: {exc}") from None
                self._apply(tx, row.id, state, outcome, now)
                count += 1
                progress()
        return count

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _opt(sender: str | None) -> str | None:
        return sender_number(sender) if sender else None

    def _change(
        self,
        account: AccountRef,
        number: str,
        change: Callable[[ContactState, Policy], Outcome],
        list_name: str | None = None,
        sender: str | None = None,
    ) -> ContactState:
        (state,) = self._change_each(account, [number], change, list_name, sender)
        return state

    def _change_each(
        self,
        account: AccountRef,
        numbers: Sequence[str],
        change: Callable[[ContactState, Policy], Outcome],
        list_name: str | None = None,
        sender: str | None = None,
    ) -> list[ContactState]:
        """Apply ``change`` to each contact in one transaction: all of them, or (on a
        bad number or a refusal) none. ``list_name`` and ``sender``, when given, must
        be the account's."""
        phones = list(dict.fromkeys(phone(n) for n in numbers))
        now = self._clock()
        changed: list[ContactState] = []
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            if sender is not None:
                self._sender(tx, row, sender)
            policy = self._policy_of(row)
            states = self._lock_contacts(tx, row.id, phones)
            for contact_phone in phones:
                state = states[contact_phone]
                try:
                    outcome = change(state or ContactState(contact_phone), policy)
                except Refused as exc:
                    raise NotAllowed(str(exc)) from None
                self._apply(tx, row.id, state, outcome, now)
                changed.append(outcome.state)
        return changed

    def _apply(
        self,
        tx: Tx,
        account_id: int,
        before: ContactState | None,
        outcome: Outcome,
        now: datetime,
    ) -> None:
        if before is None or outcome.state != before:
            tx.contacts.save(account_id, outcome.state, now)
        if outcome.events:
            self._append(tx, account_id, outcome.events, now)

    @staticmethod
    def _append(tx: Tx, account_id: int, events: Sequence[consent.Event], now: datetime) -> None:
        """Append to the ledger and, in the same transaction, queue the event webhooks:
        a change is never committed without its notification, nor notified without
        being committed."""
        stored = tx.ledger.append(account_id, events, now)
        tx.outbox.enqueue(account_id, stored, now)

    @staticmethod
    def _account(tx: Tx, account: AccountRef, exclusive: bool = False) -> AccountRow:
        """The account; in a write transaction as committed now, its row held until the
        end (:meth:`Tx.accounts.hold`: before any contact is locked, so every writer
        takes the account first, and a policy change waits for the writers in flight)."""
        row = tx.accounts.get(account) if isinstance(account, int) else tx.accounts.by_name(account)
        if row is not None and tx.writable:
            row = tx.accounts.hold(row, exclusive)
        if row is None:
            raise UnknownAccount(f"unknown account {account!r}")
        return row

    def _sender(self, tx: Tx, account: AccountRow, number: str) -> SenderRow:
        row = self._lookup_sender(tx, number)
        if row is None or row.account_id != account.id:
            raise UnknownSender(f"{number} is not a sender of account {account.name!r}")
        return row

    @staticmethod
    def _known_list(tx: Tx, account: AccountRow, list_name: str | None) -> None:
        if list_name is not None and list_name not in {
            lst.name for lst in tx.senders.lists(account.id)
        }:
            raise UnknownList(f"unknown list {list_name!r} in account {account.name!r}")

    @staticmethod
    def _account_keyword(keyword: str) -> str:
        try:
            form = normalise_keyword(keyword)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        if form in RESERVED_KEYWORDS:
            raise BadInput(
                f"{form.upper()} is reserved: a carrier-wide opt-out, opt-in or help keyword,"
                " or a revocation per se (47 CFR 64.1200(a)(10))"
            )
        return form

    @staticmethod
    def _keyword_free(tx: Tx, account: AccountRow, keyword: str) -> None:
        taken = {t.keyword for t in tx.senders.triggers(account.id)} | {
            lst.opt_out_keyword for lst in tx.senders.lists(account.id)
        }
        if keyword in taken:
            raise AlreadyExists(f"keyword {keyword.upper()} is already used by this account")

    def _account_keywords(
        self, tx: Tx, row: AccountRow
    ) -> tuple[Mapping[str, Trigger], Mapping[str, str]]:
        """The account's triggers and list opt-out keywords (keyword form -> list), kept
        between inbound texts while the account's ``keywords_version`` stays put."""
        kept = self._keywords.get(row.id)
        if kept is not None and kept[0] == row.keywords_version:
            return kept[1], kept[2]
        triggers = {t.keyword: t for t in tx.senders.triggers(row.id)}
        list_keywords = {
            lst.opt_out_keyword: lst.name for lst in tx.senders.lists(row.id) if lst.opt_out_keyword
        }
        self._keywords[row.id] = (row.keywords_version, triggers, list_keywords)
        return triggers, list_keywords

    def _policy_of(self, row: AccountRow) -> Policy:
        # Kept by account while its profile, name and overrides stay as they were:
        # comparing them costs less than the key of the cache below (every inbound
        # text and send asks).
        kept = self._account_policies.get(row.id)
        if kept is not None and kept[0] == (row.profile, row.name, row.overrides):
            return kept[1]
        # Replies name the brand (CTIA 5.1.2.1); the account name stands in until set.
        policy = self._build_policy(row.profile, {"brand": row.name, **row.overrides})
        settings = (row.profile, row.name, copy.deepcopy(row.overrides))
        self._account_policies[row.id] = (settings, policy)
        return policy

    def _build_policy(self, profile: str, overrides: dict[str, Any]) -> Policy:
        key = (profile, json.dumps(overrides, sort_keys=True))
        policy = self._policies.get(key)
        if policy is None:
            try:
                policy = with_overrides(get_profile(profile), overrides)
            except (UnknownProfile, BadOverride) as exc:
                raise BadInput(str(exc)) from None
            self._policies[key] = policy
        return policy


def _send_fingerprint(
    sender: str, to: str, body: str, list_name: str | None, campaign: bool
) -> str:
    """What identifies a send request, to tell a retry from another request that
    reuses its idempotency key."""
    request = [sender, to, body, list_name, campaign]
    return hashlib.sha256(json.dumps(request, ensure_ascii=False).encode("utf-8")).hexdigest()


def _earlier_send(
    sender: SenderRow,
    key: str,
    request: str,
    fingerprint: str,
    allowed: bool,
    message: MessageRow,
) -> PendingSend:
    """The send first made with ``key``, for a request that repeats it."""
    if fingerprint != request:
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} was first used for another request;"
            " a new text needs a new key"
        )
    reason = None if allowed or message.reason is None else Reason(message.reason)
    decision = Decision(allowed, reason, message.body)
    return PendingSend(sender, message.phone, decision, message.id, earlier=message)


class _Replay(Exception):
    """Internal: a repeated delivery, raised to roll its transaction back; the caller
    answers with the first delivery's stored ``outcome``."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__("repeated delivery")
        self.outcome = outcome


class _Withdrawn(SendWithdrawn):
    """A hand-over ended before a retry: the refusal (None when the text was settled
    by someone else meanwhile) and the reason it was recorded with."""

    def __init__(self, refusal: Decision | None, reason: str | None) -> None:
        super().__init__(reason)
        self.refusal = refusal
        self.reason = reason
