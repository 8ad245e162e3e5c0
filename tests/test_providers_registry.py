"""Every provider object is complete, and the registry, the webhook routes and the
status names agree with it."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from optline.api import webhooks
from optline.api.deps import RawRequestRoute
from optline.domain.messages import MessageStatus
from optline.providers import credentials
from optline.providers.base import Provider, RetryPolicy, Statuses, Webhook
from optline.providers.registry import (
    FINAL_STATUSES,
    PROVIDER_CREDENTIALS,
    PROVIDER_OPT_OUT_SCOPE,
    PROVIDERS,
)

ALL = sorted(PROVIDERS.values(), key=lambda p: p.name)


@pytest.mark.parametrize("provider", ALL, ids=lambda p: p.name)
def test_every_provider_object_is_complete(provider: Provider[Any]) -> None:
    assert isinstance(provider, Provider)
    assert not inspect.isabstract(type(provider))
    assert PROVIDERS[provider.name] is provider
    # Its module is optline/providers/<name>.py, exporting it as ``provider``.
    module = importlib.import_module(f"optline.providers.{provider.name}")
    assert module.provider is provider
    assert provider.credentials and all(isinstance(c, str) and c for c in provider.credentials)
    assert provider.webhook_credential in provider.credentials
    assert provider.signature_headers
    assert provider.webhooks and all(isinstance(w, Webhook) for w in provider.webhooks)
    assert isinstance(provider.statuses, Statuses)
    assert provider.statuses.final <= provider.statuses.taken | provider.statuses.not_taken
    assert not provider.statuses.taken & provider.statuses.not_taken
    assert all(code.isdigit() for code in provider.opted_out_codes)
    assert provider.reply_status is None or provider.reply_status in provider.webhooks


def _webhook_routes() -> list[APIRoute]:
    app = FastAPI()
    webhooks.add_routes(app)
    return [r for r in app.router.routes if isinstance(r, APIRoute)]


@pytest.mark.parametrize("provider", ALL, ids=lambda p: p.name)
def test_webhook_paths_start_with_the_providers_name_and_are_served(
    provider: Provider[Any],
) -> None:
    routes = {r.path: r for r in _webhook_routes()}
    for webhook in provider.webhooks:
        assert webhook.path == provider.name or webhook.path.startswith(f"{provider.name}/")
        route = routes[f"/webhooks/{webhook.path}"]
        assert isinstance(route, RawRequestRoute)
        assert route.methods == {"POST"}
        assert route.name == webhook.name and route.summary == webhook.summary


def test_the_routes_are_the_registered_providers_webhooks_and_no_more() -> None:
    paths = {r.path for r in _webhook_routes()}
    listed = {f"/webhooks/{w.path}" for p in ALL for w in p.webhooks}
    assert paths == listed
    assert {"/webhooks/twilio", "/webhooks/twilio/status", "/webhooks/telnyx"} <= paths
    assert "/webhooks/generic" in paths


def test_the_registry_derives_credentials_and_opt_out_scopes_from_the_objects() -> None:
    assert PROVIDER_CREDENTIALS == {
        "twilio": ("account_sid", "auth_token"),
        "telnyx": ("api_key", "public_key"),
        "generic": ("secret",),
    }
    assert set(PROVIDER_OPT_OUT_SCOPE) == {"telnyx"}
    with pytest.raises(ValueError, match="known: generic, telnyx, twilio"):
        credentials.check("bandwidth", {})


@pytest.mark.parametrize("provider", ALL, ids=lambda p: p.name)
def test_a_provider_without_its_credentials_is_refused(provider: Provider[Any]) -> None:
    with pytest.raises(ValueError, match="needs credentials"):
        credentials.check(provider.name, {})


def test_final_statuses_are_every_providers() -> None:
    assert frozenset().union(*(p.statuses.final for p in ALL)) == FINAL_STATUSES
    assert {"delivered", "undelivered", "delivery_failed", "sending_failed"} <= FINAL_STATUSES


@pytest.mark.parametrize(
    ("provider", "status", "outcome"),
    [
        *[("twilio", s, MessageStatus.SENT) for s in ("accepted", "queued", "sent", "read")],
        ("twilio", " Delivered ", MessageStatus.SENT),
        *[("twilio", s, MessageStatus.FAILED) for s in ("failed", "undelivered", "canceled")],
        *[("telnyx", s, MessageStatus.SENT) for s in ("queued", "sent", "delivered")],
        *[("telnyx", s, MessageStatus.FAILED) for s in ("sending_failed", "delivery_failed")],
        *[(p, s, None) for p in ("twilio", "telnyx") for s in ("", "received", "lost")],
    ],
)
def test_a_providers_status_names_say_whether_it_took_the_text(
    provider: str, status: str, outcome: MessageStatus | None
) -> None:
    assert PROVIDERS[provider].statuses.message_status(status) is outcome


def test_opted_out_codes() -> None:
    assert PROVIDERS["twilio"].opted_out_codes == {"21610"}
    assert PROVIDERS["telnyx"].opted_out_codes == {"40300"}
    assert PROVIDERS["generic"].opted_out_codes == frozenset()


@pytest.mark.parametrize("provider", ALL, ids=lambda p: p.name)
def test_adapters_are_built_by_the_provider_only_where_optline_sends(
    provider: Provider[Any],
) -> None:
    creds = {name: "x" for name in provider.credentials}
    adapter = provider.adapter(creds, base_url="http://127.0.0.1:9", retry=RetryPolicy())
    try:
        assert (adapter is None) == (provider.name == "generic")
        assert provider.can_look_up == hasattr(adapter, "look_up")
    finally:
        if adapter is not None:
            adapter.close()
