"""Telnyx: Ed25519-signed JSON webhooks (API v2) and outbound sends via POST /v2/messages.

Signature: ``telnyx-signature-ed25519`` is a base64 Ed25519 signature over
``f"{telnyx-timestamp}|{raw body}"``, checked with the account's public key (base64,
from the Mission Control portal). Timestamps more than 300 s away are refused.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import httpx
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from optline.domain.consent_codes import ProviderScope
from optline.providers import signing
from optline.providers._json import get_list, get_object, load_object
from optline.providers.base import (
    MAX_MEDIA,
    DeliveryReport,
    IgnoredEvent,
    InboundMessage,
    PayloadError,
    Provider,
    ProviderError,
    ProviderOptedOut,
    RetryPolicy,
    SignatureError,
    SignedRequest,
    Statuses,
    Webhook,
    clean_text,
    required_ref,
)
from optline.providers.retry import ProviderUnavailable, RetryingAdapter

PROVIDER = "telnyx"
SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
TOLERANCE_SECONDS = 300
# "Blocked due to STOP message".
OPTED_OUT_CODE = "40300"
INBOUND_EVENTS = frozenset({"message.received"})
DELIVERY_EVENTS = frozenset({"message.sent", "message.finalized", "message.failed"})

TelnyxEvent = InboundMessage | DeliveryReport | IgnoredEvent


# -- inbound: signature ---------------------------------------------------------------


def load_public_key(public_key: str) -> VerifyKey:
    """The account's base64 public key; raises ValueError when it is not one.

    Call it when the key is configured, so a typo is reported there, not per request.
    """
    try:
        raw = base64.b64decode(public_key, validate=True)
        return VerifyKey(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("not a base64 Ed25519 public key") from exc


def _decode_signature(signature: str) -> bytes:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not base64") from None
    if len(raw) != 64:
        raise SignatureError("signature has the wrong length")
    return raw


def verify_signature(
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    public_key: str | VerifyKey,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureError unless the headers sign ``body`` within ``tolerance`` seconds."""
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not timestamp:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise SignatureError("timestamp is not a unix time")
    signing.check_freshness(int(timestamp), now, tolerance)
    try:
        key = public_key if isinstance(public_key, VerifyKey) else load_public_key(public_key)
    except ValueError:
        raise SignatureError("configured public key is invalid") from None
    try:
        key.verify(timestamp.encode("ascii") + b"|" + body, _decode_signature(signature))
    except (CryptoError, ValueError):  # BadSignatureError is a CryptoError
        raise SignatureError("signature does not match") from None


# -- inbound: parsing -----------------------------------------------------------------


def _phone(entry: object, where: str) -> str:
    if not isinstance(entry, dict):
        raise PayloadError(f"{where} must be an object")
    return required_ref(entry, "phone_number")


def _first_recipient(payload: dict[str, Any]) -> dict[str, Any]:
    recipients = get_list(payload, "to", "payload")
    if not recipients or not isinstance(recipients[0], dict):
        raise PayloadError("payload.to must list at least one recipient")
    recipient: dict[str, Any] = recipients[0]
    return recipient


def _optional_str(obj: dict[str, Any], field: str) -> str | None:
    value = obj.get(field)
    return None if value is None else clean_text(value, field) or None


def _inbound(payload: dict[str, Any]) -> InboundMessage:
    media = get_list(payload, "media", "payload")
    if len(media) > MAX_MEDIA:
        raise PayloadError(f"payload.media lists more than {MAX_MEDIA} items")
    text = payload.get("text")
    # An MMS without words arrives with "text": null or "".
    body = "" if text is None else clean_text(text, "payload.text", limit=None)
    # autoresponse_type is set when Telnyx answered a STOP/HELP/START keyword itself.
    autoresponse = _optional_str(payload, "autoresponse_type")
    return InboundMessage(
        provider=PROVIDER,
        provider_id=required_ref(payload, "id"),
        from_=_phone(payload.get("from"), "payload.from"),
        to=_phone(_first_recipient(payload), "payload.to[0]"),
        body=body,
        provider_replied=autoresponse is not None,
        media_count=len(media),
        provider_keyword=autoresponse,
        account_ref=_optional_str(payload, "messaging_profile_id"),
    )


def _error_codes(errors: list[Any]) -> list[str]:
    codes = []
    for error in errors:
        if not isinstance(error, dict):
            raise PayloadError("payload.errors must list objects")
        code = error.get("code")
        if isinstance(code, bool) or not isinstance(code, str | int):
            raise PayloadError("payload.errors[].code must be a string or number")
        codes.append(clean_text(str(code), "payload.errors[].code"))
    return codes


def _delivery(payload: dict[str, Any]) -> DeliveryReport:
    recipient = _first_recipient(payload)
    codes = _error_codes(get_list(payload, "errors", "payload"))
    from_ = payload.get("from")
    return DeliveryReport(
        provider=PROVIDER,
        provider_id=required_ref(payload, "id"),
        from_="" if from_ is None else _phone(from_, "payload.from"),
        to=_phone(recipient, "payload.to[0]"),
        status=_optional_str(recipient, "status") or "unknown",
        error_code=codes[0] if codes else None,
        opted_out=OPTED_OUT_CODE in codes,
        account_ref=_optional_str(payload, "messaging_profile_id"),
    )


def parse_webhook(body: bytes) -> TelnyxEvent:
    """Parse a v2 webhook: an inbound text, a delivery report, or an event to ignore."""
    data = get_object(load_object(body), "data", "body")
    event_type = required_ref(data, "event_type")
    event_id = _optional_str(data, "id")
    if event_type in INBOUND_EVENTS:
        return _inbound(get_object(data, "payload", "data"))
    if event_type in DELIVERY_EVENTS:
        return _delivery(get_object(data, "payload", "data"))
    return IgnoredEvent(provider=PROVIDER, event_type=event_type, event_id=event_id)


# -- outbound -------------------------------------------------------------------------


def _response_error_codes(response: httpx.Response) -> list[str]:
    try:
        errors = response.json().get("errors", [])
        return [str(e.get("code")) for e in errors if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError):
        return []


class TelnyxAdapter(RetryingAdapter):
    """Sends through ``POST /v2/messages`` with an API key (Bearer)."""

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.telnyx.com",
        *,
        retry: RetryPolicy | None = None,
        messaging_profile_id: str | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.messaging_profile_id = messaging_profile_id
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=self.retry.timeout,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def _attempt(self, from_: str, to: str, body: str) -> str:
        payload = {"from": from_, "to": to, "text": body}
        if self.messaging_profile_id:
            payload["messaging_profile_id"] = self.messaging_profile_id
        try:
            response = self._client.post("/v2/messages", json=payload)
        except httpx.TransportError as exc:  # timeouts, refused connections, resets
            raise ProviderUnavailable(f"Telnyx unreachable: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:  # redirects, undecodable answers
            raise ProviderError(f"Telnyx send failed: {type(exc).__name__}") from exc
        if response.is_success:
            return self._message_id(response)
        codes = _response_error_codes(response)
        if OPTED_OUT_CODE in codes:
            raise ProviderOptedOut(OPTED_OUT_CODE)
        code = codes[0] if codes else None
        message = f"Telnyx refused the send: HTTP {response.status_code}, error {code}"
        if response.status_code >= 500:
            raise ProviderUnavailable(message, status=response.status_code, code=code)
        raise ProviderError(message, status=response.status_code, code=code)

    @staticmethod
    def _message_id(response: httpx.Response) -> str:
        try:
            message_id = response.json()["data"]["id"]
        except (ValueError, KeyError, TypeError):
            raise ProviderError("Telnyx answered without a message id") from None
        if not isinstance(message_id, str) or not message_id:
            raise ProviderError("Telnyx answered without a message id")
        return message_id


# -- the provider ---------------------------------------------------------------------


class Telnyx(Provider[TelnyxEvent]):
    """JSON webhooks signed with Ed25519, answered in JSON; replies and sends go
    through ``POST /v2/messages``.

    Its opt-outs cover more than one number: a STOP to one of its numbers blocks the
    contact on every number of the same messaging profile, and a send from any of them
    is refused (40300)."""

    name = PROVIDER
    credentials = ("api_key", "public_key")
    webhook_credential = "public_key"
    signature_headers = (SIGNATURE_HEADER, TIMESTAMP_HEADER)
    webhooks = (
        Webhook(
            PROVIDER,
            "telnyx_event",
            "Telnyx message webhook",
            "Telnyx v2 webhooks (message.received, delivery events), Ed25519-signed.\n\n"
            "Answers JSON; a reply is sent through the Telnyx API after the answer.",
        ),
    )
    opted_out_codes = frozenset({OPTED_OUT_CODE})
    opt_out_scope = ProviderScope.MESSAGING_PROFILE
    statuses = Statuses(
        taken=frozenset({"queued", "sending", "sent", "delivered", "delivery_unconfirmed"}),
        not_taken=frozenset({"sending_failed", "delivery_failed"}),
        final=frozenset({"delivered", "sending_failed", "delivery_failed", "delivery_unconfirmed"}),
    )
    replies_by_api = True

    def check_credentials(self, credentials: Mapping[str, str]) -> None:
        try:
            load_public_key(credentials["public_key"])
        except ValueError:
            raise ValueError("public_key: not a base64 Ed25519 public key (32 bytes)") from None

    def adapter(
        self,
        credentials: Mapping[str, str],
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        status_callback: str | None = None,
    ) -> TelnyxAdapter:
        return TelnyxAdapter(
            credentials["api_key"], base_url or "https://api.telnyx.com", retry=retry
        )

    def signature(self, headers: Mapping[str, str]) -> None:
        if not all(headers.get(name) for name in self.signature_headers):
            raise SignatureError("missing Telnyx signature headers")

    def read(self, webhook: Webhook, body: bytes) -> TelnyxEvent:
        return parse_webhook(body)

    def sender_ref(self, webhook: Webhook, parsed: TelnyxEvent) -> tuple[str, str] | None:
        if isinstance(parsed, InboundMessage):
            return parsed.to, "to"
        if isinstance(parsed, DeliveryReport):
            return parsed.from_, "from"
        return None

    def verify(self, request: SignedRequest, parsed: TelnyxEvent, secret: str) -> None:
        verify_signature(
            request.body,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            secret,
        )

    def event(self, webhook: Webhook, parsed: TelnyxEvent) -> TelnyxEvent:
        return parsed


provider = Telnyx()
