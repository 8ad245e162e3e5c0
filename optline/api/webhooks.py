"""Provider webhooks: verify the signature, parse, hand to the engine, answer.

The account is the one that owns the ``To`` number (a registered sender). A request
that is unsigned, forged or stale gets 403 and nothing is stored; a malformed one gets
400; the same delivery twice gets the same answer with nothing applied twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from optline.api.deps import (
    RawRequestRoute,
    engine_of,
    header,
    inbound_body_limit,
    read_body,
    settings_of,
)
from optline.api.problems import Problem
from optline.engine import Engine, InboundResult, phone, sender_number
from optline.errors import BadInput
from optline.providers import generic, telnyx, twilio
from optline.providers.base import (
    DeliveryReport,
    IgnoredEvent,
    InboundMessage,
    PayloadError,
    SignatureError,
)
from optline.store import SenderRow

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=RawRequestRoute)

XML = "application/xml"
# The status callback's query parameter naming the reply it reports on.
REPLY_PARAM = "reply"
# The signature headers' names as ASGI gives them (lower case), for ``header``.
_TWILIO_SIGNATURE = twilio.SIGNATURE_HEADER.lower().encode()
_TWILIO_SIGNATURE_SETTINGS = twilio.SIGNATURE_SETTINGS_HEADER.lower().encode()
_TELNYX_SIGNATURE = telnyx.SIGNATURE_HEADER.lower().encode()
_TELNYX_TIMESTAMP = telnyx.TIMESTAMP_HEADER.lower().encode()
_GENERIC_SIGNATURE = generic.SIGNATURE_HEADER.lower().encode()


def _credential(sender: SenderRow, provider: str, name: str) -> str:
    if sender.provider != provider:
        raise SignatureError(f"sender {sender.number} is not configured for {provider}")
    value = sender.credentials.get(name)
    if not value:
        raise SignatureError(f"sender {sender.number} has no {provider} {name}")
    return value


async def _sender(engine: Engine, number: str, field: str = "To") -> SenderRow:
    """The registered sender ``number`` names (the webhook's ``field``)."""
    try:
        normalised = sender_number(number)
    except BadInput as exc:
        raise PayloadError(f"{field}: {exc}") from None
    sender = await engine.store.lookup(engine.sender, normalised)
    if sender is None:
        raise Problem(404, "unknown_sender", f"{normalised} is not a registered sender")
    return sender


async def _receive(
    engine: Engine, sender: SenderRow, message: InboundMessage, reply_by_api: bool = False
) -> InboundResult:
    return await engine.store.write_grouped(
        engine.receive,
        sender.account_id,
        message.from_,
        sender.number,
        message.body,
        message.provider_id,
        message.provider_replied,
        reply_by_api,
        message.provider_keyword,
    )


async def _read_body(request: Request) -> bytes:
    """A webhook's body: large enough for the longest inbound text accepted, whatever
    the provider's encoding of it (413 past that)."""
    return await read_body(request, inbound_body_limit(settings_of(request)))


def _public_url(request: Request) -> str:
    """The URL the provider requested: the configured public base URL with the path and
    query as received, or else the URL as this server saw it."""
    base = settings_of(request).public_base_url
    if not base:
        return str(request.url)
    # From the scope itself: building request.url cost 10 µs a webhook. A query that
    # is not ASCII cannot be what the provider signed: it fails the check, with a 403.
    query = request.scope["query_string"].decode("latin-1")
    return f"{base.rstrip('/')}{request.scope['path']}{'?' + query if query else ''}"


@router.post("/twilio", response_class=Response, summary="Twilio inbound text")
async def twilio_inbound(request: Request) -> Response:
    """Form-encoded inbound text, signed with X-Twilio-Signature; answers TwiML."""
    engine = engine_of(request)
    params = await _twilio_form(request)
    sender = await _sender(engine, params.get("To", ""))
    _verify_twilio(request, params, sender)
    result = await _receive(engine, sender, twilio.parse_inbound(params))
    return Response(twilio.twiml(result.reply, _reply_callback(request, result)), media_type=XML)


def _reply_callback(request: Request, result: InboundResult) -> str | None:
    """Where Twilio reports the delivery of a reply answered in TwiML: the status
    webhook, naming the recorded reply (Twilio gives it a message id optline never
    saw). Needs the public base URL; without one the reply's record stays ``sent``."""
    base = settings_of(request).public_base_url
    if not base or result.reply_message_id is None:
        return None
    return f"{twilio_status_url(base)}?{REPLY_PARAM}={result.reply_message_id}"


def twilio_status_url(public_base_url: str) -> str:
    """The public URL of the Twilio status webhook (for sends' and replies' callbacks)."""
    return f"{public_base_url.rstrip('/')}{router.prefix}/twilio/status"


@router.post("/twilio/status", response_class=Response, summary="Twilio status callback")
async def twilio_status(request: Request) -> Response:
    """MessageStatus / ErrorCode for an outbound text; 21610 opts the recipient out."""
    engine = engine_of(request)
    params = await _twilio_form(request)
    sender = await _sender(engine, params.get("From", ""), "From")
    _verify_twilio(request, params, sender)
    await _report(engine, sender, twilio.parse_status(params), _reply_id(request))
    return Response(twilio.twiml(None), media_type=XML)


def _reply_id(request: Request) -> int | None:
    """The reply a status callback is about (:func:`_reply_callback`); part of the URL
    Twilio signs, so it comes from optline's own answer or not at all."""
    value = request.query_params.get(REPLY_PARAM)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise PayloadError(f"{REPLY_PARAM} must be a message id")
    return int(value)


async def _twilio_form(request: Request) -> twilio.FormParams:
    """A Twilio webhook's form, once it is seen to carry a signature: checked before the
    sender is looked up, so that an unsigned request gets 403 and learns nothing of
    which numbers are registered."""
    if not header(request, _TWILIO_SIGNATURE):
        raise SignatureError(f"missing {twilio.SIGNATURE_HEADER} header")
    return twilio.parse_form(await _read_body(request))


def _verify_twilio(request: Request, params: Mapping[str, str], sender: SenderRow) -> None:
    twilio.verify_signature(
        _public_url(request),
        params,
        header(request, _TWILIO_SIGNATURE),
        _credential(sender, "twilio", "auth_token"),
        signature_settings=header(request, _TWILIO_SIGNATURE_SETTINGS),
    )


@router.post("/telnyx", summary="Telnyx message webhook")
async def telnyx_event(request: Request) -> JSONResponse:
    """Telnyx v2 webhooks (message.received, delivery events), Ed25519-signed.

    Answers JSON; a reply is sent through the Telnyx API after the answer."""
    engine = engine_of(request)
    body = await _read_body(request)
    signature = header(request, _TELNYX_SIGNATURE)
    timestamp = header(request, _TELNYX_TIMESTAMP)
    if not signature or not timestamp:
        raise SignatureError("missing Telnyx signature headers")
    event = telnyx.parse_webhook(body)
    if isinstance(event, IgnoredEvent):
        # No number of ours to take the key from: it must verify with a key one of our
        # Telnyx senders holds, or it is refused like any forgery.
        await _verify_telnyx_any(engine, body, signature, timestamp)
        return JSONResponse({"ignored": event.event_type})
    if isinstance(event, InboundMessage):
        sender = await _sender(engine, event.to, "to")
    else:
        sender = await _sender(engine, event.from_, "from")
    telnyx.verify_signature(body, signature, timestamp, _credential(sender, "telnyx", "public_key"))
    if isinstance(event, DeliveryReport):
        await _report(engine, sender, event)
        return JSONResponse({"ok": True})
    result = await _receive(engine, sender, event, reply_by_api=True)
    # Telnyx takes no reply in the webhook's answer: the reply, recorded queued with the
    # text, goes out through its API once the answer is on its way (a first delivery
    # only: a repeated one was answered the first time); should that never start, the
    # reply worker sends it (Engine.send_queued_replies).
    send_reply = None
    if result.reply is not None and result.reply_message_id is not None and not result.duplicate:
        send_reply = BackgroundTask(
            engine.dispatch_recorded,
            sender,
            phone(event.from_),
            result.reply,
            result.reply_message_id,
        )
    return JSONResponse(_inbound_body(result), background=send_reply)


async def _verify_telnyx_any(engine: Engine, body: bytes, signature: str, timestamp: str) -> None:
    senders = await run_in_threadpool(engine.senders_of_provider, "telnyx")
    for key in sorted({s.credentials.get("public_key", "") for s in senders} - {""}):
        try:
            telnyx.verify_signature(body, signature, timestamp, key)
        except SignatureError:
            continue
        return
    raise SignatureError("signature does not match any Telnyx sender's key")


@router.post("/generic", summary="Generic JSON inbound text")
async def generic_inbound(request: Request) -> JSONResponse:
    """``{"id", "from", "to", "text"}`` signed with X-Optline-Signature (HMAC-SHA256)."""
    engine = engine_of(request)
    body = await _read_body(request)
    signature = header(request, _GENERIC_SIGNATURE)
    if not signature:
        raise SignatureError(f"missing {generic.SIGNATURE_HEADER} header")
    message = generic.parse_inbound(body)
    sender = await _sender(engine, message.to, "to")
    generic.verify_signature(_credential(sender, "generic", "secret"), body, signature)
    result = await _receive(engine, sender, message)
    return JSONResponse(_inbound_body(result))


def _inbound_body(result: InboundResult) -> dict[str, Any]:
    return {**result.as_dict(), "duplicate": result.duplicate}


async def _report(
    engine: Engine, sender: SenderRow, report: DeliveryReport, reply_id: int | None = None
) -> None:
    await engine.store.write_grouped(
        engine.delivery_report,
        sender.account_id,
        sender.number,
        report.provider_id,
        report.to,
        report.status,
        report.error_code,
        report.opted_out,
        reply_id,
        report.account_ref,
    )
