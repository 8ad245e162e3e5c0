"""Generic JSON webhook for in-house gateways.

Body: ``{"id": str, "from": str, "to": str, "text": str}``; optional
``"media_count": int`` (0..MAX_MEDIA) and ``"provider_replied": bool``.
Header ``X-Optline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>``.
"""

from __future__ import annotations

from optline.providers import signing
from optline.providers._json import load_object
from optline.providers.base import (
    MAX_MEDIA,
    InboundMessage,
    PayloadError,
    Provider,
    SignedRequest,
    Webhook,
    clean_text,
    required_ref,
)

PROVIDER = "generic"
SIGNATURE_HEADER = signing.HEADER
sign = signing.sign


def verify_signature(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    *,
    now: float | None = None,
    tolerance: int = signing.TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureError unless ``header`` signs ``body`` within ``tolerance`` seconds."""
    signing.verify(secret, body, header, now=now, tolerance=tolerance)


def parse_inbound(body: bytes) -> InboundMessage:
    """Parse the JSON body of an inbound text; raises only PayloadError."""
    data = load_object(body)
    if "text" not in data:
        raise PayloadError("missing field text")
    media_count = data.get("media_count", 0)
    if isinstance(media_count, bool) or not isinstance(media_count, int):
        raise PayloadError("media_count must be an integer")
    if not 0 <= media_count <= MAX_MEDIA:
        raise PayloadError(f"media_count must be between 0 and {MAX_MEDIA}")
    replied = data.get("provider_replied", False)
    if not isinstance(replied, bool):
        raise PayloadError("provider_replied must be true or false")
    return InboundMessage(
        provider=PROVIDER,
        provider_id=required_ref(data, "id"),
        from_=required_ref(data, "from"),
        to=required_ref(data, "to"),
        body=clean_text(data["text"], "text", limit=None),
        provider_replied=replied,
        media_count=media_count,
    )


# -- the provider ---------------------------------------------------------------------


class Generic(Provider[InboundMessage]):
    """An in-house gateway: HMAC-signed JSON inbound texts, answered in JSON (the reply
    in the answer, for the gateway to send); optline sends nothing through it."""

    name = PROVIDER
    credentials = ("secret",)
    webhook_credential = "secret"
    signature_headers = (SIGNATURE_HEADER,)
    webhooks = (
        Webhook(
            PROVIDER,
            "generic_inbound",
            "Generic JSON inbound text",
            '``{"id", "from", "to", "text"}`` signed with X-Optline-Signature (HMAC-SHA256).',
        ),
    )

    def read(self, webhook: Webhook, body: bytes) -> InboundMessage:
        return parse_inbound(body)

    def sender_ref(self, webhook: Webhook, parsed: InboundMessage) -> tuple[str, str]:
        return parsed.to, "to"

    def verify(self, request: SignedRequest, parsed: InboundMessage, secret: str) -> None:
        verify_signature(secret, request.body, request.headers.get(SIGNATURE_HEADER))

    def event(self, webhook: Webhook, parsed: InboundMessage) -> InboundMessage:
        return parsed


provider = Generic()
