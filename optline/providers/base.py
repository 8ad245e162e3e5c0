"""Provider-neutral types shared by every provider module."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from optline.domain.consent import ProviderScope

#: The credentials each provider's senders need: to verify webhooks and to send.
PROVIDER_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "twilio": ("account_sid", "auth_token"),
    "telnyx": ("api_key", "public_key"),
    "generic": ("secret",),
}

#: Providers whose own opt-outs cover more than one number: a STOP to one of Telnyx's
#: numbers blocks the contact on every number of the same messaging profile, and a
#: send from any of them is refused (40300). Twilio's cover the number (a Messaging
#: Service's numbers share theirs, which optline does not model).
PROVIDER_OPT_OUT_SCOPE: dict[str, ProviderScope] = {
    "telnyx": ProviderScope.MESSAGING_PROFILE,
}

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
    error_code: str | None = None
    error_message: str | None = None
    opted_out: bool = False  # refused because the recipient opted out (21610, ...)


class OutboundAdapter(Protocol):
    """Sends one text; returns the provider's message id."""

    def send(
        self, from_: str, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str: ...


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
