"""Provider webhooks: verify the signature, parse, hand to the engine, answer.

One handler serves every provider's webhooks (``/webhooks/<path>``, one route per path
a provider object lists); what differs between providers is in their objects
(:class:`optline.providers.base.Provider`, listed in ``registry.PROVIDERS``). The routes
are the app's own (:func:`add_routes`), not an included router's: hit once per text,
they are matched first and without a router's extra layer of matching.

The account is the one that owns the ``To`` number (a registered sender). A request
that is unsigned (at any size), forged or stale gets 403 and nothing is stored; a
signed one over the size limit 413; a malformed one 400; the same delivery twice gets
the first one's outcome again with nothing applied twice (JSON answers add
``"duplicate": true``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

from optline.api.deps import (
    RawRequestRoute,
    engine_of,
    inbound_body_limit,
    read_body,
    settings_of,
)
from optline.api.problems import Problem
from optline.engine import Engine, InboundResult, phone, sender_number
from optline.errors import BadInput
from optline.providers import twilio
from optline.providers.base import (
    Answer,
    DeliveryReport,
    IgnoredEvent,
    PayloadError,
    Provider,
    SignatureError,
    SignedRequest,
    Webhook,
)
from optline.providers.registry import PROVIDERS
from optline.store import SenderRow

#: Where the webhooks are served.
PREFIX = "/webhooks"

# The status callback's query parameter naming the reply it reports on.
REPLY_PARAM = "reply"


def _secret(sender: SenderRow, provider: Provider[Any]) -> str:
    """The sender's credential that checks its provider's signatures."""
    if sender.provider != provider.name:
        raise SignatureError(f"sender {sender.number} is not configured for {provider.name}")
    value = sender.credentials.get(provider.webhook_credential)
    if not value:
        raise SignatureError(
            f"sender {sender.number} has no {provider.name} {provider.webhook_credential}"
        )
    return value


async def _sender(engine: Engine, number: str, field: str) -> SenderRow:
    """The registered sender ``number`` names (the webhook's ``field``)."""
    try:
        normalised = sender_number(number)
    except BadInput as exc:
        raise PayloadError(f"{field}: {exc}") from None
    sender = await engine.aio.sender(normalised)
    if sender is None:
        raise Problem(404, "unknown_sender", f"{normalised} is not a registered sender")
    return sender


async def _verify_any(
    engine: Engine, provider: Provider[Any], request: SignedRequest, parsed: object
) -> None:
    """An event that names no number of ours: it must verify with a credential one of
    the provider's senders holds, or it is refused like any forgery."""
    senders = await engine.aio.senders_of_provider(provider.name)
    secrets = {s.credentials.get(provider.webhook_credential, "") for s in senders} - {""}
    for secret in sorted(secrets):
        try:
            provider.verify(request, parsed, secret)
        except SignatureError:
            continue
        return
    raise SignatureError(f"signature does not match any {provider.name} sender's key")


def _public_url(request: Request) -> str:
    """The URL the provider requested: the configured public base URL with the path and
    query as received, or else the URL as this server saw it."""
    base = settings_of(request).public_base_url
    if not base:
        return str(request.url)
    # The path and query exactly as received (request.url would re-encode them). A
    # query that is not ASCII cannot be what the provider signed: it fails the check,
    # with a 403.
    query = request.scope["query_string"].decode("latin-1")
    return f"{base.rstrip('/')}{request.scope['path']}{'?' + query if query else ''}"


def twilio_status_url(public_base_url: str) -> str:
    """The public URL of the Twilio status webhook (for sends' and replies' callbacks)."""
    return _webhook_url(public_base_url, twilio.provider.STATUS)


def _webhook_url(public_base_url: str, webhook: Webhook) -> str:
    return f"{public_base_url.rstrip('/')}{PREFIX}/{webhook.path}"


def _reply_callback(request: Request, provider: Provider[Any], result: InboundResult) -> str | None:
    """Where the provider reports the delivery of a reply given in the answer: its
    status webhook, naming the recorded reply (the provider gives it a message id
    optline never saw). Needs the public base URL; without one the reply's record stays
    ``sent``."""
    base = settings_of(request).public_base_url
    if provider.reply_status is None or not base or result.reply_message_id is None:
        return None
    return f"{_webhook_url(base, provider.reply_status)}?{REPLY_PARAM}={result.reply_message_id}"


def _reply_id(request: Request) -> int | None:
    """The reply a status report is about (:func:`_reply_callback`); part of the URL the
    provider signs, so it comes from optline's own answer or not at all."""
    value = request.query_params.get(REPLY_PARAM)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise PayloadError(f"{REPLY_PARAM} must be a message id")
    return int(value)


def _response(answer: Answer, background: BackgroundTask | None = None) -> Response:
    if isinstance(answer.content, str):
        return Response(answer.content, media_type=answer.media_type, background=background)
    return JSONResponse(answer.content, background=background)


async def handle(
    request: Request,
    provider: Provider[Any],
    webhook: Webhook,
    header_names: tuple[str, ...],
) -> Response:
    """Any provider's webhook: signature headers, body, sender, signature, event,
    engine, answer (the order :class:`Provider` describes). ``header_names``: the
    provider's signature headers."""
    engine = engine_of(request)
    headers = {n: v for n in header_names if (v := request.headers.get(n))}
    # Before the body is read and the sender looked up: an unsigned request gets 403
    # whatever its size (no provider sends one; nothing of it is read) and learns
    # nothing of which numbers are registered. Only a signed one can get 413.
    provider.signature(headers)
    body = await read_body(request, inbound_body_limit(settings_of(request)))
    parsed = provider.read(webhook, body)
    signed = SignedRequest(body, headers, lambda: _public_url(request))
    ref = provider.sender_ref(webhook, parsed)
    if ref is None:
        await _verify_any(engine, provider, signed, parsed)
        event = provider.event(webhook, parsed)
        if not isinstance(event, IgnoredEvent):
            raise PayloadError("the event names no sender")
        return _response(provider.answer_ignored(event))
    sender = await _sender(engine, *ref)
    provider.verify(signed, parsed, _secret(sender, provider))
    event = provider.event(webhook, parsed)
    if isinstance(event, IgnoredEvent):
        return _response(provider.answer_ignored(event))
    if isinstance(event, DeliveryReport):
        reply_id = _reply_id(request) if webhook.names_reply else None
        await engine.aio.delivery_report(
            sender.account_id,
            sender.number,
            event.provider_id,
            event.to,
            event.status,
            event.error_code,
            event.opted_out,
            reply_id,
            event.account_ref,
        )
        return _response(provider.answer_report())
    result: InboundResult = await engine.aio.receive(
        sender.account_id,
        event.from_,
        sender.number,
        event.body,
        event.provider_id,
        event.provider_replied,
        provider.replies_by_api,
        event.provider_keyword,
    )
    answer = provider.answer_inbound(result, _reply_callback(request, provider, result))
    # A provider that takes no reply in the answer: the reply, recorded queued with the
    # text, goes out through its API once the answer is on its way (a first delivery
    # only: a repeated one was answered the first time); should that never start, the
    # reply worker sends it (Engine.send_queued_replies).
    send_reply = None
    if (
        provider.replies_by_api
        and result.reply is not None
        and result.reply_message_id is not None
        and not result.duplicate
    ):
        send_reply = BackgroundTask(
            engine.aio.dispatch_recorded,
            sender,
            phone(event.from_),
            result.reply,
            result.reply_message_id,
        )
    return _response(answer, send_reply)


def _endpoint(
    provider: Provider[Any], webhook: Webhook
) -> Callable[[Request], Awaitable[Response]]:
    names = provider.signature_headers + provider.optional_headers

    async def endpoint(request: Request) -> Response:
        return await handle(request, provider, webhook, names)

    endpoint.__name__ = webhook.name
    endpoint.__doc__ = webhook.description
    return endpoint


def add_routes(app: FastAPI) -> None:
    """Serve every registered provider's webhooks from ``app``."""
    for provider in PROVIDERS.values():
        for webhook in provider.webhooks:
            app.router.add_api_route(
                f"{PREFIX}/{webhook.path}",
                _endpoint(provider, webhook),
                methods=["POST"],
                tags=["webhooks"],
                summary=webhook.summary,
                response_class=JSONResponse
                if webhook.media_type == "application/json"
                else Response,
                route_class_override=RawRequestRoute,
            )
