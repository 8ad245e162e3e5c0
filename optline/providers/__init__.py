"""Provider adapters: verify and parse inbound webhooks, send outbound texts.

Each provider module (``twilio``, ``telnyx``, ``generic``) exposes pure functions for
the webhook side (``verify_*`` raise :class:`SignatureError`, ``parse_*`` raise
:class:`PayloadError`, nothing else), an outbound adapter that satisfies
:class:`OutboundAdapter` where optline sends, and ``provider``: its
:class:`~optline.providers.base.Provider` object, which the webhooks, the sender checks
and the dispatcher use (``registry.PROVIDERS``, by name).
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
