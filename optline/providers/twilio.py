"""Twilio: signed form webhooks (inbound texts, status callbacks), TwiML, outbound sends.

Signature: ``X-Twilio-Signature`` is a base64 HMAC keyed by the auth token over the
full public URL plus the sorted POST parameters; JSON bodies are covered by a
``bodySHA256`` query parameter instead. The SDK's ``RequestValidator`` does both.
Twilio signatures carry no timestamp: replays are caught by the caller's idempotency
check on ``MessageSid``.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit
from xml.sax.saxutils import escape as xml_escape

import requests

# The twilio SDK ships no type hints (no py.typed); its objects are used as Any here.
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from optline.providers.base import (
    MAX_MEDIA,
    Answer,
    DeliveryReport,
    Event,
    InboundMessage,
    PayloadError,
    Provider,
    ProviderError,
    ProviderOptedOut,
    ProviderRecord,
    Received,
    RetryPolicy,
    SentText,
    SignatureError,
    SignedRequest,
    Statuses,
    Webhook,
    clean_text,
    required_ref,
)
from optline.providers.retry import ProviderUnavailable, RetryingAdapter, with_retries

PROVIDER = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
# "Attempt to send to unsubscribed recipient".
OPTED_OUT_CODE = "21610"
MAX_FORM_FIELDS = 200
XML = "application/xml"


# -- inbound: signature ---------------------------------------------------------------


def _validate(
    url: str, params: Any, signature: str | None, auth_token: str, settings: str | None
) -> None:
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        algorithm = get_signature_algorithm(settings)
        validator = RequestValidator(auth_token)
        # The SDK's validate() signs the URL both with and without its port and takes
        # either; the URL as given is one of the two, and the one Twilio signs as a rule,
        # so it is tried alone first, and validate() decides whatever does not match it.
        valid = (
            isinstance(params, FormParams)
            and hmac.compare_digest(
                validator.compute_signature(url, params, algorithm).encode(),
                signature.encode(),
            )
        ) or validator.validate(url, params, signature, algorithm)
    except (ValueError, TypeError):  # bad port in URL, unencodable text, ...
        raise SignatureError("request cannot be verified") from None
    if not valid:
        raise SignatureError("signature does not match")


class FormParams(dict[str, str]):
    """Form parameters (:func:`parse_form`), one text value each, in the shape the SDK's
    signature code asks first (``getall``), sparing it two failed attribute look-ups
    per parameter."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def verify_signature(
    url: str,
    params: Mapping[str, str],
    signature: str | None,
    auth_token: str,
    *,
    signature_settings: str | None = None,
) -> None:
    """Verify a form-encoded webhook; ``url`` is the full public URL Twilio requested.

    Behind a proxy pass the configured public base URL + path (+ query), not the URL
    the app saw. ``signature_settings`` is the X-Twilio-Webhooks-Signature-Settings
    header, when present (selects HMAC-SHA256 shared-key signing).
    """
    if isinstance(params, FormParams):  # texts only, as parse_form builds them
        _validate(url, params, signature, auth_token, signature_settings)
        return
    plain = FormParams()
    for name, value in params.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise PayloadError("form parameters must be strings")
        plain[name] = value
    _validate(url, plain, signature, auth_token, signature_settings)


def verify_json_signature(
    url: str,
    body: bytes,
    signature: str | None,
    auth_token: str,
    *,
    signature_settings: str | None = None,
) -> None:
    """Verify a JSON webhook: the URL's ``bodySHA256`` must hash ``body`` and be signed."""
    if "bodySHA256" not in parse_qs(urlsplit(url).query):
        raise SignatureError("JSON webhook URL carries no bodySHA256 parameter")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body is not valid UTF-8") from None
    _validate(url, text, signature, auth_token, signature_settings)


# -- inbound: parsing -----------------------------------------------------------------


def parse_form(body: bytes) -> FormParams:
    """Decode an ``application/x-www-form-urlencoded`` body without a web framework.

    The same reading as ``urllib.parse.parse_qsl`` with blank values kept and strict
    UTF-8 (a property test holds them equal), in a fraction of the time. Unless some
    ``&`` or ``=`` is itself encoded (``%26``, ``%3D``), the whole body is decoded in
    one step before it is split, which cannot then split it elsewhere (7-9 against
    9-14 µs for Twilio's usual form, which encodes most fields); otherwise each field
    with ``%`` or ``+`` is decoded on its own. Repeated names are refused: Twilio never
    repeats one, and a single value per name is what the signature check above covers.
    """
    try:
        text = body.decode("ascii")  # form bodies are percent-encoded ASCII
    except UnicodeError:
        raise PayloadError("form body is not valid percent-encoded UTF-8") from None
    if text.count("&") >= MAX_FORM_FIELDS:
        raise PayloadError(f"form body has more than {MAX_FORM_FIELDS} fields")
    by_field = "%" in text or "+" in text
    if by_field and _ENCODED_SEPARATOR.search(text) is None:
        # UTF-8 never encodes a character with the byte of an ASCII one, so the whole
        # body decodes exactly when each of its fields does.
        text = _form_decoded(text)
        by_field = False
    form = FormParams()
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if by_field and ("%" in pair or "+" in pair):
            name, value = _form_decoded(name), _form_decoded(value)
        if name in form:
            raise PayloadError(f"form field {clean_text(name, 'field name')} is repeated")
        form[name] = value
    return form


_ENCODED_SEPARATOR = re.compile("%(?:26|3[Dd])")


def _form_decoded(text: str) -> str:
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeError:
        raise PayloadError("form body is not valid percent-encoded UTF-8") from None


def _optional(params: Mapping[str, object], field: str) -> str | None:
    value = params.get(field)
    if value is None:
        return None
    text = clean_text(value, field)
    return text or None


def _media_count(params: Mapping[str, object]) -> int:
    raw = _optional(params, "NumMedia")
    if raw is None:
        return 0
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_MEDIA:
        raise PayloadError(f"NumMedia must be an integer between 0 and {MAX_MEDIA}")
    return int(raw)


def parse_inbound(params: Mapping[str, object]) -> InboundMessage:
    """An inbound text from the webhook's form fields; raises only PayloadError.

    With Advanced Opt-Out, Twilio adds ``OptOutType`` (STOP, START, HELP) when it has
    handled the keyword and answered itself.
    """
    if "Body" not in params:
        raise PayloadError("missing field Body")
    opt_out_type = _optional(params, "OptOutType")
    return InboundMessage(
        provider=PROVIDER,
        provider_id=required_ref(params, "MessageSid"),
        from_=required_ref(params, "From"),
        to=required_ref(params, "To"),
        body=clean_text(params["Body"], "Body", limit=None),
        provider_replied=opt_out_type is not None,
        media_count=_media_count(params),
        provider_keyword=opt_out_type,
        account_ref=_optional(params, "AccountSid"),
    )


def parse_status(params: Mapping[str, object]) -> DeliveryReport:
    """A status callback (MessageStatus, ErrorCode); 21610 means the recipient opted out."""
    error_code = _optional(params, "ErrorCode")
    if error_code is not None and not (error_code.isascii() and error_code.isdigit()):
        raise PayloadError("ErrorCode must be a number")
    return DeliveryReport(
        provider=PROVIDER,
        provider_id=required_ref(params, "MessageSid"),
        from_=_optional(params, "From") or "",
        to=required_ref(params, "To"),
        status=required_ref(params, "MessageStatus"),
        error_code=error_code,
        opted_out=error_code == OPTED_OUT_CODE,
    )


def twiml(reply: str | None, status_callback: str | None = None) -> str:
    """The TwiML answer: one ``<Message>`` with ``reply`` (Twilio reports its delivery
    to ``status_callback``, when given), or an empty ``<Response />``."""
    if not reply:
        return _twiml(None, None)
    if status_callback is None:
        return _twiml(reply, None)
    # The SDK's document for this reply, built once, with each reply's own URL put in
    # place of a marker (a document built per reply cost 25 µs).
    url = xml_escape(status_callback, {'"': "&quot;"})
    return _twiml(reply, _CALLBACK_MARK).replace(_CALLBACK_MARK, url, 1)


_CALLBACK_MARK = "optline-status-callback"


@lru_cache(maxsize=1024)  # replies are the policies' few texts
def _twiml(reply: str | None, status_callback: str | None) -> str:
    response = MessagingResponse()
    if reply:
        response.message(reply, status_callback=status_callback)
    return str(response)


# -- outbound -------------------------------------------------------------------------


def _map_rest_error(exc: Any) -> ProviderError:
    status = int(exc.status) if exc.status is not None else None
    code = None if exc.code is None else str(exc.code)
    if code == OPTED_OUT_CODE:
        return ProviderOptedOut(OPTED_OUT_CODE)
    message = f"Twilio refused the send: HTTP {status}, error {code}: {exc.msg}"
    if status is not None and status >= 500:
        return ProviderUnavailable(message, status=status, code=code)
    return ProviderError(message, status=status, code=code)


class TwilioAdapter(RetryingAdapter):
    """Sends through the Messages API with the SDK client; ``base_url`` replaces
    ``https://api.twilio.com`` (a fake server in tests, a regional proxy in production)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        status_callback: str | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.status_callback = status_callback
        # A non-empty environment stops the SDK reading TWILIO_EDGE / TWILIO_REGION from
        # os.environ, which would rewrite the host and defeat ``base_url``.
        self._client: Any = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=self.retry.timeout),
            environment={"OPTLINE": "1"},
        )
        if base_url is not None:
            # Every request of the API domain is built from Domain.base_url.
            self._client.api.base_url = base_url.rstrip("/")

    def close(self) -> None:
        session = getattr(self._client.http_client, "session", None)
        if session is not None:
            session.close()

    def _attempt(self, from_: str, to: str, body: str) -> str:
        sender: dict[str, str] = (
            {"messaging_service_sid": from_} if from_.startswith("MG") else {"from_": from_}
        )
        if self.status_callback:
            sender["status_callback"] = self.status_callback
        try:
            message = self._client.messages.create(to=to, body=body, **sender)
        except TwilioRestException as exc:
            raise _map_rest_error(exc) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise ProviderUnavailable(f"Twilio unreachable: {type(exc).__name__}") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise ProviderError(f"Twilio send failed: {type(exc).__name__}") from exc
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # The SDK assumes a well-formed JSON object; anything else surfaces like this.
            raise ProviderError(f"Twilio answered malformed JSON: {type(exc).__name__}") from exc
        sid = getattr(message, "sid", None)
        if not isinstance(sid, str) or not sid:
            raise ProviderError("Twilio answered without a message SID")
        return sid

    def look_up(self, text: SentText) -> list[ProviderRecord]:
        """Twilio's records of a text handed to it, earliest first: the message with
        the text's SID, or, with no SID recorded (the hand-over's answer was lost),
        the messages from its sender to its recipient with its body, sent from a little
        before it was recorded to ``LOOK_UP_AFTER`` after. Empty when Twilio has none."""
        return with_retries(lambda: self._look_up(text), self.retry)

    def _look_up(self, text: SentText) -> list[ProviderRecord]:
        try:
            if text.provider_id is not None:
                return [_record(self._client.messages(text.provider_id).fetch())]
            service = text.from_.startswith("MG")
            found = self._client.messages.list(
                to=text.to,
                **({} if service else {"from_": text.from_}),
                date_sent_after=text.at - LOOK_UP_BEFORE,
                date_sent_before=text.at + LOOK_UP_AFTER,
                limit=LOOK_UP_LIMIT,
            )
        except TwilioRestException as exc:
            if exc.status == 404:
                return []
            raise _look_up_error(exc.status, f"error {exc.code}: {exc.msg}") from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise ProviderUnavailable(f"Twilio unreachable: {type(exc).__name__}") from exc
        except TwilioException as exc:
            # A list page that is not a 200 (the SDK's exception carries the response).
            answer = exc.args[1] if len(exc.args) > 1 else None
            status = getattr(answer, "status_code", None)
            if isinstance(status, int):
                raise _look_up_error(status, "the list could not be read") from exc
            raise ProviderError(f"Twilio look-up failed: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            raise ProviderError(f"Twilio look-up failed: {type(exc).__name__}") from exc
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ProviderError(f"Twilio answered malformed JSON: {type(exc).__name__}") from exc
        same = [m for m in found if _same_text(m, text)]
        same.sort(key=lambda m: (_when(m) or text.at, str(m.sid)))
        return [_record(m) for m in same]


# A text is looked for among those sent from LOOK_UP_BEFORE before it was recorded
# (clocks differ) to LOOK_UP_AFTER after (a broadcast hands its texts over after
# deciding them all), at most LOOK_UP_LIMIT of them.
LOOK_UP_BEFORE = timedelta(minutes=5)
LOOK_UP_AFTER = timedelta(hours=1)
LOOK_UP_LIMIT = 200


def _when(message: Any) -> datetime | None:
    sent: datetime | None = message.date_sent or message.date_created
    return sent


def _same_text(message: Any, text: SentText) -> bool:
    """A listed message is the text: outbound, from its sender (a number, or the
    Messaging Service it was sent through), to its recipient, with its body, and sent
    within the window."""
    when = _when(message)
    return (
        str(message.direction or "").startswith("outbound")
        and message.to == text.to
        and text.from_ in (message.from_, message.messaging_service_sid)
        and message.body == text.body
        and when is not None
        and text.at - LOOK_UP_BEFORE <= when <= text.at + LOOK_UP_AFTER
    )


def _record(message: Any) -> ProviderRecord:
    sid, status = message.sid, message.status
    if not isinstance(sid, str) or not sid or not isinstance(status, str) or not status:
        raise ProviderError("Twilio answered a message without a SID or a status")
    code = None if message.error_code in (None, "", 0) else str(message.error_code)
    error = message.error_message if isinstance(message.error_message, str) else None
    outcome = Twilio.statuses.message_status(status)
    return ProviderRecord(PROVIDER, sid, status, outcome, code, error, code == OPTED_OUT_CODE)


def _look_up_error(status: int | None, what: str) -> ProviderError:
    message = f"Twilio refused the look-up: HTTP {status}, {what}"
    if status is not None and (status >= 500 or status == 429):
        return ProviderUnavailable(message, status=status)
    return ProviderError(message, status=status)


# -- the provider ---------------------------------------------------------------------


class Twilio(Provider[FormParams]):
    """Form webhooks signed with the auth token, answered in TwiML; sends and look-ups
    through the SDK."""

    name = PROVIDER
    credentials = ("account_sid", "auth_token")
    webhook_credential = "auth_token"
    signature_headers = (SIGNATURE_HEADER,)
    optional_headers = (SIGNATURE_SETTINGS_HEADER,)
    INBOUND = Webhook(
        PROVIDER,
        "twilio_inbound",
        "Twilio inbound text",
        "Form-encoded inbound text, signed with X-Twilio-Signature; answers TwiML.",
        media_type=XML,
    )
    STATUS = Webhook(
        f"{PROVIDER}/status",
        "twilio_status",
        "Twilio status callback",
        "MessageStatus / ErrorCode for an outbound text; 21610 opts the recipient out.",
        media_type=XML,
        names_reply=True,
    )
    webhooks = (INBOUND, STATUS)
    opted_out_codes = frozenset({OPTED_OUT_CODE})
    statuses = Statuses(
        taken=frozenset(
            {
                "accepted",
                "scheduled",
                "queued",
                "sending",
                "sent",
                "delivered",
                "partially_delivered",
                "read",
            }
        ),
        not_taken=frozenset({"failed", "undelivered", "canceled"}),
        final=frozenset({"delivered", "undelivered", "failed", "read", "canceled"}),
    )
    reply_status = STATUS
    can_look_up = True

    def adapter(
        self,
        credentials: Mapping[str, str],
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        status_callback: str | None = None,
    ) -> TwilioAdapter:
        return TwilioAdapter(
            credentials["account_sid"],
            credentials["auth_token"],
            base_url,
            retry=retry,
            status_callback=status_callback,
        )

    def read(self, webhook: Webhook, body: bytes) -> FormParams:
        return parse_form(body)

    def sender_ref(self, webhook: Webhook, parsed: FormParams) -> tuple[str, str]:
        field = "From" if webhook is self.STATUS else "To"
        return parsed.get(field, ""), field

    def verify(self, request: SignedRequest, parsed: FormParams, secret: str) -> None:
        verify_signature(
            request.url(),
            parsed,
            request.headers.get(SIGNATURE_HEADER),
            secret,
            signature_settings=request.headers.get(SIGNATURE_SETTINGS_HEADER),
        )

    def event(self, webhook: Webhook, parsed: FormParams) -> Event:
        return parse_status(parsed) if webhook is self.STATUS else parse_inbound(parsed)

    def answer_inbound(self, result: Received, reply_callback: str | None) -> Answer:
        return Answer(twiml(result.reply, reply_callback), XML)

    def answer_report(self) -> Answer:
        return Answer(twiml(None), XML)


provider = Twilio()
