"""The providers by name, and outbound dispatch: one adapter per sender, built by
its provider from the sender's stored credentials."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from optline.domain.consent_codes import ProviderScope
from optline.domain.messages import MessageStatus
from optline.providers import generic, telnyx, twilio
from optline.providers.base import (
    BeforeRetry,
    CannotAsk,
    ClosingAdapter,
    LookUp,
    Provider,
    ProviderRecord,
    RetryPolicy,
    SentText,
)
from optline.store import SenderRow

#: Every provider optline knows, by the name its senders are registered with.
PROVIDERS: dict[str, Provider[Any]] = {
    p.name: p for p in (twilio.provider, telnyx.provider, generic.provider)
}

#: The credentials each provider's senders need: to verify webhooks and to send.
PROVIDER_CREDENTIALS: dict[str, tuple[str, ...]] = {
    name: p.credentials for name, p in PROVIDERS.items()
}

#: Providers whose own opt-outs cover more than one number (Telnyx: a messaging
#: profile). Twilio's cover the number (a Messaging Service's numbers share theirs,
#: which optline does not model).
PROVIDER_OPT_OUT_SCOPE: dict[str, ProviderScope] = {
    name: p.opt_out_scope for name, p in PROVIDERS.items() if p.opt_out_scope is not None
}

#: Provider delivery statuses after which a message's fate is settled (any provider's
#: names); an earlier status arriving later does not replace them.
FINAL_STATUSES: frozenset[str] = frozenset({MessageStatus.FAILED.value}).union(
    *(p.statuses.final for p in PROVIDERS.values())
)


class Dispatcher:
    """Sends texts through each sender's provider, reusing one adapter per sender.

    ``base_urls`` overrides a provider's API host (``{"twilio": "http://127.0.0.1:…"}``);
    ``status_callback`` is the public URL of the Twilio status webhook.
    """

    def __init__(
        self,
        base_urls: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        status_callback: str | None = None,
    ) -> None:
        self._base_urls = dict(base_urls or {})
        self._retry = retry
        self._status_callback = status_callback
        self._adapters: dict[tuple[str, str, tuple[tuple[str, str], ...]], ClosingAdapter] = {}
        self._lock = threading.Lock()

    def __call__(
        self, sender: SenderRow, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str | None:
        adapter = self._adapter(sender)
        return None if adapter is None else adapter.send(sender.number, to, body, before_retry)

    def look_up(self, sender: SenderRow, text: SentText) -> list[ProviderRecord]:
        """The provider's records of a text ``sender`` handed over (raises
        :class:`CannotAsk` for a provider that cannot be asked: all but Twilio)."""
        provider = PROVIDERS.get(sender.provider or "")
        adapter = self._adapter(sender) if provider and provider.can_look_up else None
        if not isinstance(adapter, LookUp):
            raise CannotAsk(f"optline cannot ask {sender.provider or 'no provider'} about a text")
        return adapter.look_up(text)

    def _adapter(self, sender: SenderRow) -> ClosingAdapter | None:
        provider = PROVIDERS.get(sender.provider or "")
        if provider is None:
            return None
        key = (sender.number, provider.name, tuple(sorted(sender.credentials.items())))
        with self._lock:
            adapter = self._adapters.get(key)
            if adapter is None:
                adapter = provider.adapter(
                    sender.credentials,
                    base_url=self._base_urls.get(provider.name),
                    retry=self._retry,
                    status_callback=self._status_callback,
                )
                if adapter is None:
                    return None  # a gateway that sends its own texts
                self._adapters[key] = adapter
            return adapter

    def close(self) -> None:
        with self._lock:
            for adapter in self._adapters.values():
                adapter.close()
            self._adapters.clear()
