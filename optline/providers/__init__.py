"""Provider adapters: verify and parse inbound webhooks, send outbound texts.

Each provider module exposes pure functions for the webhook side (``verify_*`` raise
:class:`SignatureError`, ``parse_*`` raise :class:`PayloadError`, nothing else) and an
outbound adapter that satisfies :class:`OutboundAdapter`.
"""

from __future__ import annotations

from optline.providers.base import (
    DeliveryReport,
    IgnoredEvent,
    InboundMessage,
    OutboundAdapter,
    PayloadError,
    ProviderError,
    ProviderOptedOut,
    RetryPolicy,
    SendWithdrawn,
    SignatureError,
    WebhookError,
)

__all__ = [
    "DeliveryReport",
    "IgnoredEvent",
    "InboundMessage",
    "OutboundAdapter",
    "PayloadError",
    "ProviderError",
    "ProviderOptedOut",
    "RetryPolicy",
    "SendWithdrawn",
    "SignatureError",
    "WebhookError",
]
