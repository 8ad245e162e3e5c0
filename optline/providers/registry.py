"""Outbound dispatch: one adapter per sender, built from its stored credentials."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from optline.providers.base import (
    BeforeRetry,
    CannotAsk,
    ProviderRecord,
    RetryPolicy,
    SentText,
)
from optline.providers.retry import RetryingAdapter
from optline.providers.telnyx import TelnyxAdapter
from optline.providers.twilio import TwilioAdapter
from optline.store import SenderRow


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
        self._adapters: dict[tuple[str, str, tuple[tuple[str, str], ...]], RetryingAdapter] = {}
        self._lock = threading.Lock()

    def __call__(
        self, sender: SenderRow, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str | None:
        adapter = self._adapter(sender)
        return None if adapter is None else adapter.send(sender.number, to, body, before_retry)

    def look_up(self, sender: SenderRow, text: SentText) -> list[ProviderRecord]:
        """The provider's records of a text ``sender`` handed over (Twilio only: raises
        :class:`CannotAsk` for other providers)."""
        adapter = self._adapter(sender)
        if not isinstance(adapter, TwilioAdapter):
            raise CannotAsk(f"optline cannot ask {sender.provider or 'no provider'} about a text")
        return adapter.look_up(text)

    def _adapter(self, sender: SenderRow) -> RetryingAdapter | None:
        if sender.provider not in ("twilio", "telnyx"):
            return None  # generic gateways send their own texts
        key = (sender.number, sender.provider, tuple(sorted(sender.credentials.items())))
        with self._lock:
            adapter = self._adapters.get(key)
            if adapter is None:
                adapter = self._build(sender)
                self._adapters[key] = adapter
            return adapter

    def _build(self, sender: SenderRow) -> RetryingAdapter:
        creds = sender.credentials
        if sender.provider == "twilio":
            return TwilioAdapter(
                creds["account_sid"],
                creds["auth_token"],
                self._base_urls.get("twilio"),
                retry=self._retry,
                status_callback=self._status_callback,
            )
        return TelnyxAdapter(
            creds["api_key"],
            self._base_urls.get("telnyx", "https://api.telnyx.com"),
            retry=self._retry,
        )

    def close(self) -> None:
        with self._lock:
            for adapter in self._adapters.values():
                adapter.close()
            self._adapters.clear()
