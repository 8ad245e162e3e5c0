"""Provider-neutral types shared by every provider module."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from optline.domain.consent_codes import ProviderScope
from optline.domain.messages import MessageStatus

# Ids and phone numbers longer than this are not real provider values.
MAX_REF_LENGTH = 256
# Providers attach at most 10 media per message; anything far above is garbage.
MAX_MEDIA = 100


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A text a person sent to one of the account's senders."""

    provider: str
    provider_id: str
    from_: str
    to: str
    body: str
    provider_replied: bool
    media_count: int
    # The provider's own keyword handling (Twilio OptOutType, Telnyx autoresponse_type).
    provider_keyword: str | None = None
    # The provider account / service the text arrived on (Twilio AccountSid, ...).
    account_ref: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's report on an outbound text; ``opted_out`` when it says STOP blocked it."""

    provider: str
    provider_id: str
    from_: str
    to: str
    status: str
    error_code: str | None
    opted_out: bool
    # The provider account / service the text was sent on (Telnyx's messaging profile
    # id), where the report names it.
    account_ref: str | None = None


@dataclass(frozen=True, slots=True)
class IgnoredEvent:
    """A well-formed, signed webhook whose event type optline does not act on."""

    provider: str
    event_type: str
    event_id: str | None


class WebhookError(Exception):
    """Base class for a webhook request that must be refused; nothing may be stored."""


class SignatureError(WebhookError):
    """Unsigned, forged, replayed or stale request (HTTP 403)."""


class PayloadError(WebhookError):
    """Malformed body: missing field, bad JSON, wrong type (HTTP 400). Says what."""


class ProviderError(Exception):
    """An outbound send failed (after retries where the failure was retryable)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class ProviderOptedOut(ProviderError):
    """The provider refused the send because the recipient opted out (never retried)."""

    def __init__(self, code: str, message: str = "recipient has opted out at the provider"):
        super().__init__(f"{message} (error {code})", code=code)


class SendWithdrawn(Exception):
    """Raised by a send's ``before_retry`` check: the text may no longer go (an opt-out
    reached it between two attempts). Ends the send at once; never retried."""


#: Called before each attempt after the first; raises :class:`SendWithdrawn` to stop.
BeforeRetry = Callable[[], None]


class CannotAsk(Exception):
    """The sender's provider cannot be asked about a text it was given (optline has no
    way to look one up there)."""


@dataclass(frozen=True, slots=True)
class SentText:
    """An outbound text as optline recorded it, to be looked up at its provider."""

    from_: str
    to: str
    body: str
    at: datetime  # when it was recorded (it was handed over at or after this)
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """A provider's own record of an outbound text."""

    provider: str
    provider_id: str
    status: str
    # What ``status`` means for the send, by the provider's :class:`Statuses`: SENT
    # (taken), FAILED (not taken), or None for a name that says neither.
    outcome: MessageStatus | None
    error_code: str | None = None
    error_message: str | None = None
    opted_out: bool = False  # refused because the recipient opted out (21610, ...)


class OutboundAdapter(Protocol):
    """Sends one text; returns the provider's message id."""

    def send(
        self, from_: str, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str: ...


class ClosingAdapter(OutboundAdapter, Protocol):
    """An outbound adapter that holds connections until it is closed."""

    def close(self) -> None: ...


@runtime_checkable
class LookUp(Protocol):
    """An adapter that can also ask its provider about a text it was given."""

    def look_up(self, text: SentText) -> list[ProviderRecord]: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff for outbound sends; tests shrink the waits."""

    attempts: int = 3
    initial_wait: float = 0.5
    max_wait: float = 4.0
    timeout: float = 10.0


def clean_text(value: object, field: str, *, limit: int | None = MAX_REF_LENGTH) -> str:
    """Return ``value`` as a storable string, or raise PayloadError naming ``field``."""
    if not isinstance(value, str):
        raise PayloadError(f"{field} must be a string, got {type(value).__name__}")
    if limit is not None and len(value) > limit:
        raise PayloadError(f"{field} is longer than {limit} characters")
    if "\x00" in value:
        raise PayloadError(f"{field} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(f"{field} is not valid Unicode (lone surrogate)") from None
    return value


def required_ref(params: Mapping[str, object], field: str) -> str:
    """A non-empty id or number from ``params``."""
    if field not in params:
        raise PayloadError(f"missing field {field}")
    value = clean_text(params[field], field)
    if not value.strip():
        raise PayloadError(f"field {field} is empty")
    return value


# -- one object per provider ---------------------------------------------------------

#: What a provider's webhook reads from the body before the signature is checked.
Parsed = TypeVar("Parsed")

#: A webhook's event: a text, a report on a text, or an event optline does not act on.
Event = InboundMessage | DeliveryReport | IgnoredEvent


@dataclass(frozen=True, slots=True)
class Webhook:
    """One URL a provider posts to: ``/webhooks/<path>``."""

    path: str
    #: The endpoint's name (the OpenAPI operation id starts with it).
    name: str
    summary: str
    description: str
    #: The answer's media type (the OpenAPI document names it).
    media_type: str = "application/json"
    #: Takes the ``reply`` query parameter: a report on a reply answered in the webhook.
    names_reply: bool = False


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signature check may look at: the body as received, the provider's
    signature headers (by their names; absent ones left out) and the public URL the
    provider requested (computed on demand: only some providers sign it)."""

    body: bytes
    headers: Mapping[str, str]
    url: Callable[[], str]


@dataclass(frozen=True, slots=True)
class Answer:
    """A webhook's answer: ``content`` as text in ``media_type``, or as JSON."""

    content: str | Mapping[str, Any]
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Statuses:
    """A provider's names for an outbound text's statuses: those that mean it took the
    text (:attr:`MessageStatus.SENT`), those that mean it did not
    (:attr:`MessageStatus.FAILED`), and those after which its fate is settled (a later
    report with another name does not replace them)."""

    taken: frozenset[str]
    not_taken: frozenset[str]
    final: frozenset[str] = field(default_factory=frozenset)

    def message_status(self, status: str) -> MessageStatus | None:
        """optline's status of a send the provider reports as ``status``, or None
        for a name that says neither sent nor failed."""
        name = status.strip().lower()
        if name in self.taken:
            return MessageStatus.SENT
        if name in self.not_taken:
            return MessageStatus.FAILED
        return None


class Received(Protocol):
    """What the engine made of an inbound text, as a webhook's answer needs it."""

    @property
    def reply(self) -> str | None: ...

    @property
    def duplicate(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...


class Provider(ABC, Generic[Parsed]):
    """Everything optline knows of one provider, in one object (one per module:
    ``optline/providers/<name>.py``, listed in ``registry.PROVIDERS``).

    A webhook is handled in this order, the same for every provider: the signature
    headers are required (:meth:`signature`: an unsigned request is refused before its
    body is read, whatever its size), the body is read (:meth:`read`), the
    sender it is for found (:meth:`sender_ref`), the signature checked with that
    sender's :attr:`webhook_credential` (:meth:`verify`), the event taken from what
    was read (:meth:`event`), handed to the engine, and answered (:meth:`answer_inbound`,
    :meth:`answer_report`, :meth:`answer_ignored`).
    """

    #: The name senders are registered with, and the webhook path under ``/webhooks``.
    name: ClassVar[str]
    #: The credentials a sender of this provider needs (to verify webhooks, to send).
    credentials: ClassVar[tuple[str, ...]]
    #: The credential that checks the webhooks' signatures.
    webhook_credential: ClassVar[str]
    #: The headers that carry the signature (all required), and optional ones.
    signature_headers: ClassVar[tuple[str, ...]]
    optional_headers: ClassVar[tuple[str, ...]] = ()
    #: The URLs it posts to, under ``/webhooks``.
    webhooks: ClassVar[tuple[Webhook, ...]]
    #: Error codes meaning the recipient opted out at the provider (never retried).
    opted_out_codes: ClassVar[frozenset[str]] = frozenset()
    #: What the provider's own opt-outs cover when wider than the number.
    opt_out_scope: ClassVar[ProviderScope | None] = None
    #: Its statuses of outbound texts.
    statuses: ClassVar[Statuses] = Statuses(frozenset(), frozenset())
    #: Replies go out through its API after the answer, not in the answer.
    replies_by_api: ClassVar[bool] = False
    #: The webhook that reports the delivery of a reply given in the answer.
    reply_status: ClassVar[Webhook | None] = None
    #: optline can ask it about a text it was given (its adapter has ``look_up``).
    can_look_up: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<provider {self.name}>"

    # -- senders ----------------------------------------------------------------------

    def check_credentials(self, credentials: Mapping[str, str]) -> None:
        """Raise ValueError, starting with the credential's name, when a credential
        (all of :attr:`credentials` are present) is one the provider cannot use."""

    def adapter(
        self,
        credentials: Mapping[str, str],
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        status_callback: str | None = None,
    ) -> ClosingAdapter | None:
        """The adapter sending a sender's texts, or None when optline does not send
        through this provider (the gateway sends its own)."""
        return None

    # -- webhooks ---------------------------------------------------------------------

    def signature(self, headers: Mapping[str, str]) -> None:
        """Raise SignatureError when a required signature header is missing."""
        missing = [name for name in self.signature_headers if not headers.get(name)]
        if missing:
            raise SignatureError(f"missing {' and '.join(missing)} header")

    @abstractmethod
    def read(self, webhook: Webhook, body: bytes) -> Parsed:
        """Read the body (raises PayloadError) as far as the signature check needs."""

    @abstractmethod
    def sender_ref(self, webhook: Webhook, parsed: Parsed) -> tuple[str, str] | None:
        """The number of the sender the request is for and the field naming it; None
        when it names none (an ignored event: any sender's credential may sign it)."""

    @abstractmethod
    def verify(self, request: SignedRequest, parsed: Parsed, secret: str) -> None:
        """Raise SignatureError unless ``request`` is signed with ``secret``."""

    @abstractmethod
    def event(self, webhook: Webhook, parsed: Parsed) -> Event:
        """The event the request carries (raises PayloadError)."""

    def answer_inbound(self, result: Received, reply_callback: str | None) -> Answer:
        """The answer to an inbound text: the engine's ``result`` as JSON. A provider
        that sends a reply given in the answer reports its delivery to
        ``reply_callback`` (its :attr:`reply_status` webhook, when there is one)."""
        return Answer({**result.as_dict(), "duplicate": result.duplicate})

    def answer_report(self) -> Answer:
        return Answer({"ok": True})

    def answer_ignored(self, event: IgnoredEvent) -> Answer:
        return Answer({"ignored": event.event_type})
