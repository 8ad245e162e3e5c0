"""Provider webhooks end to end: the real app on real databases (SQLite and PostgreSQL).

Only the providers' remote APIs are replaced, by the fake provider on loopback. Each
request is built and signed the way the provider builds and signs it: Twilio with the
SDK's ``RequestValidator``, Telnyx with an Ed25519 key made here, the generic gateway
with optline's own HMAC scheme.
"""

from __future__ import annotations

import base64
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from fakeprovider import FakeProvider, Reply
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey
from test_group_commit import FullDisk
from twilio.request_validator import RequestValidator

from optline.api.app import Settings, create_app
from optline.domain.consent import Status
from optline.engine import Engine
from optline.notify import Worker
from optline.providers import signing
from optline.providers.base import RetryPolicy
from optline.providers.registry import Dispatcher
from optline.store import Store

ACME = "acme"
TW = "+14155550100"  # Twilio long code
TW_B = "+14155550101"  # second Twilio long code
TW_QUIET = "+14155550102"  # Twilio number whose STOP/HELP replies Twilio sends itself
TX = "+14155550103"  # Telnyx long code
GEN = "+14155550104"  # in-house gateway
UNKNOWN = "+14155550199"  # registered nowhere
BOB = "+14155552671"
EVE = "+12025550143"

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
SERVICE_SID = "MG" + "b2" * 16
TELNYX_API_KEY = "KEYtelnyx0123456789"
GENERIC_SECRET = "generic-secret-0123456789"
APP_URL = "http://testserver"
PUBLIC_URL = "https://sms.example.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SIGNATURE = "X-Twilio-Signature"
PROBLEM = "application/problem+json"
STATE_TABLES = (
    "contacts",
    "sender_consent",
    "memberships",
    "events",
    "messages",
    "notifications",
)


@dataclass
class World:
    """The app, its engine and database, the fake provider and the Telnyx signing key."""

    client: TestClient
    engine: Engine
    store: Store
    fake: FakeProvider
    telnyx_key: SigningKey

    # -- Twilio ---------------------------------------------------------------------

    def twilio(
        self,
        params: Mapping[str, str],
        *,
        path: str = "/webhooks/twilio",
        sign_url: str | None = None,
        token: str = AUTH_TOKEN,
        signature: str | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        url = sign_url if sign_url is not None else APP_URL + path
        if signature is None:
            signature = RequestValidator(token).compute_signature(url, dict(params))
        content = body if body is not None else urlencode(params).encode()
        headers = {**FORM, "X-Twilio-Signature": signature} if signature else FORM
        response: httpx.Response = self.client.post(path, content=content, headers=headers)
        return response

    # -- Telnyx ---------------------------------------------------------------------

    def telnyx_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        t = str(int(time.time()) if timestamp is None else timestamp)
        signed = self.telnyx_key.sign(t.encode() + b"|" + body).signature
        return {
            "Content-Type": "application/json",
            "telnyx-signature-ed25519": base64.b64encode(signed).decode(),
            "telnyx-timestamp": t,
        }

    def telnyx(
        self, event: Any, *, timestamp: int | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = json.dumps(event).encode()
        sent = headers if headers is not None else self.telnyx_headers(body, timestamp)
        response: httpx.Response = self.client.post("/webhooks/telnyx", content=body, headers=sent)
        return response

    # -- generic --------------------------------------------------------------------

    def generic(
        self, message: Any, *, timestamp: int | None = None, secret: str = GENERIC_SECRET
    ) -> httpx.Response:
        body = json.dumps(message).encode()
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(secret, body, timestamp),
        }
        response: httpx.Response = self.client.post(
            "/webhooks/generic", content=body, headers=headers
        )
        return response

    # -- state ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self.store.engine.connect() as conn:
            return {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in STATE_TABLES
            }

    def events(self, number: str = BOB) -> list[str]:
        return [e.type for e in self.engine.history(ACME, number)[0]]

    def status(self, sender: str, number: str = BOB) -> Status:
        state = self.engine.contact(ACME, number)
        assert state is not None
        return state.status_from(sender)

    def replies_sent(self) -> list[Any]:
        """Texts the fake provider was asked to send through the Telnyx API."""
        return [r.json for r in self.fake.requests if r.path == "/v2/messages"]


def build_world(
    store: Store, fake: FakeProvider, profile: str, public_base_url: str | None = None
) -> World:
    dispatcher = Dispatcher(
        {"twilio": fake.url, "telnyx": fake.url},
        retry=RetryPolicy(attempts=1, initial_wait=0.0, timeout=5.0),
    )
    engine = Engine(store, dispatch=dispatcher)
    key = SigningKey.generate()
    engine.create_account(ACME, profile)
    twilio_creds = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    engine.add_sender(ACME, TW, provider="twilio", credentials=twilio_creds)
    engine.add_sender(ACME, TW_B, provider="twilio", credentials=twilio_creds)
    engine.add_sender(
        ACME, TW_QUIET, provider="twilio", credentials=twilio_creds, provider_replies=True
    )
    engine.add_sender(
        ACME,
        TX,
        provider="telnyx",
        credentials={
            "api_key": TELNYX_API_KEY,
            "public_key": base64.b64encode(bytes(key.verify_key)).decode(),
        },
    )
    engine.add_sender(ACME, GEN, provider="generic", credentials={"secret": GENERIC_SECRET})
    app = create_app(Settings(notify=False, public_base_url=public_base_url), engine=engine)
    client = TestClient(app, raise_server_exceptions=False)
    return World(client, engine, store, fake, key)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def world(store: Store, fake: FakeProvider) -> Iterator[World]:
    """Account acme on the twilio profile: opt-outs are per sending number."""
    built = build_world(store, fake, "twilio")
    with built.client:
        yield built


@pytest.fixture
def default_world(store: Store, fake: FakeProvider) -> Iterator[World]:
    """Account acme on the default profile: an opt-out closes the whole account."""
    built = build_world(store, fake, "default")
    with built.client:
        yield built


def twilio_form(body: str, sid: str = "SM" + "0" * 32, **extra: str) -> dict[str, str]:
    """An inbound text's form fields as Twilio posts them."""
    form = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": TW,
        "MessagingServiceSid": SERVICE_SID,
        "ToZip": "94107",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": BOB,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def twilio_status(
    sid: str, status: str, error_code: str | None = None, **extra: str
) -> dict[str, str]:
    """A status callback's form fields as Twilio posts them."""
    form = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": BOB,
        "MessagingServiceSid": SERVICE_SID,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": TW,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        form["ErrorCode"] = error_code
    form.update(extra)
    return form


def twiml_messages(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root)
    return [child.text or "" for child in root]


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code is not None:
        assert body["code"] == code


# -- Twilio inbound ------------------------------------------------------------------------


def test_twilio_stop_answers_twiml_confirmation_and_opts_out(world: World) -> None:
    replies = twiml_messages(world.twilio(twilio_form("Stop")))
    assert len(replies) == 1 and replies[0].startswith("You have successfully been unsubscribed")
    assert world.status(TW) is Status.OPTED_OUT
    assert world.status(TW_B) is Status.OPTED_IN  # twilio profile: per sending number
    events, messages = world.engine.history(ACME, BOB)
    assert [(e.type, e.data["source"], e.data["sender"]) for e in events] == [
        ("opted_out", "keyword", TW)
    ]
    assert [(m.direction, m.provider_id, m.body) for m in messages] == [
        ("in", "SM" + "0" * 32, "Stop"),
        ("out", None, replies[0]),
    ]
    assert world.engine.verify(ACME)[0].ok


def test_twilio_help_answers_the_help_text(world: World) -> None:
    replies = twiml_messages(world.twilio(twilio_form("HELP")))
    assert len(replies) == 1
    assert "STOP" in replies[0] and "rates may apply" in replies[0].lower()
    assert world.events() == ["help_answered"]
    assert world.status(TW) is Status.OPTED_IN


def test_twilio_ordinary_text_gets_an_empty_response(world: World) -> None:
    response = world.twilio(twilio_form("See you at 5, I'll stop by the shop"))
    assert twiml_messages(response) == []
    assert world.events() == []
    assert world.status(TW) is Status.OPTED_IN
    _, messages = world.engine.history(ACME, BOB)
    assert [(m.direction, m.status) for m in messages] == [("in", "received")]


def test_twilio_media_fields_are_accepted(world: World) -> None:
    form = twilio_form(
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME",
        MediaContentType0="image/jpeg",
    )
    assert twiml_messages(world.twilio(form)) == []
    assert world.engine.history(ACME, BOB)[1][0].body == ""


def test_twilio_opt_out_type_records_the_change_without_a_second_reply(world: World) -> None:
    assert twiml_messages(world.twilio(twilio_form("STOP", OptOutType="STOP"))) == []
    assert world.status(TW) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    _, messages = world.engine.history(ACME, BOB)
    assert [m.direction for m in messages] == ["in"]  # no reply recorded or sent


def test_twilio_opt_out_type_opts_out_a_text_the_policy_does_not_read_as_stop(
    world: World,
) -> None:
    # Twilio opted the number out (its REVOKE or OPTOUT, a keyword configured in its
    # console, ...): the record follows it, or optline would still allow the texts
    # that Twilio then refuses with 21610.
    assert twiml_messages(world.twilio(twilio_form("ZZQUIT", OptOutType="STOP"))) == []
    assert world.status(TW) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    assert not world.engine.check(ACME, TW, BOB, "Hi").allowed


def test_twilio_opt_out_type_start_opts_back_in(world: World) -> None:
    world.twilio(twilio_form("STOP", OptOutType="STOP"))
    start = twilio_form("ZZGO", sid="SM" + "1" * 32, OptOutType="START")
    assert twiml_messages(world.twilio(start)) == []
    assert world.status(TW) is Status.OPTED_IN
    assert world.events() == ["opted_out", "opted_in"]


def test_twilio_sender_with_provider_replies_records_without_replying(world: World) -> None:
    assert twiml_messages(world.twilio(twilio_form("STOP", To=TW_QUIET))) == []
    assert world.status(TW_QUIET) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    assert [m.direction for m in world.engine.history(ACME, BOB)[1]] == ["in"]
    assert world.fake.requests == []


def test_twilio_reply_text_is_escaped_in_twiml(default_world: World) -> None:
    world = default_world
    world.engine.set_policy(ACME, overrides={"brand": "Smith & <Sons>"})
    [reply] = twiml_messages(world.twilio(twilio_form("HELP")))
    assert "Smith & <Sons>" in reply


def test_twilio_sha256_signature_settings_are_honoured(world: World) -> None:
    form = twilio_form("STOP")
    url = APP_URL + "/webhooks/twilio"
    settings_header = {"X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_SHA256"}
    sha256 = RequestValidator(AUTH_TOKEN).compute_signature(url, form, "HMAC_SHA256")
    sha1 = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    content = urlencode(form)
    for signature, expected in [(sha1, 403), (sha256, 200)]:
        headers = {**FORM, **settings_header, "X-Twilio-Signature": signature}
        response = world.client.post("/webhooks/twilio", content=content, headers=headers)
        assert response.status_code == expected, response.text
    assert world.events() == ["opted_out"]


def test_twilio_start_after_stop_opts_back_in(world: World) -> None:
    world.twilio(twilio_form("STOP", sid="SM1"))
    replies = twiml_messages(world.twilio(twilio_form("START", sid="SM2")))
    assert len(replies) == 1
    assert world.status(TW) is Status.OPTED_IN
    assert world.events() == ["opted_out", "opted_in"]


def test_twilio_signature_for_the_public_url_behind_a_proxy(
    store: Store, fake: FakeProvider
) -> None:
    world = build_world(store, fake, "twilio", public_base_url=PUBLIC_URL + "/")
    with world.client:
        # Signed for the URL the app sees: not what Twilio signs behind a proxy.
        assert_problem(world.twilio(twilio_form("STOP", sid="SM1")), 403, "bad_signature")
        assert world.engine.contact(ACME, BOB) is None
        public = PUBLIC_URL + "/webhooks/twilio"
        replies = twiml_messages(world.twilio(twilio_form("STOP", sid="SM2"), sign_url=public))
        assert len(replies) == 1
        assert world.status(TW) is Status.OPTED_OUT


@pytest.mark.parametrize("base", [None, PUBLIC_URL])
def test_twilio_webhook_url_with_a_query_string(
    store: Store, fake: FakeProvider, base: str | None
) -> None:
    world = build_world(store, fake, "twilio", public_base_url=base)
    with world.client:
        path = "/webhooks/twilio?tenant=acme&v=2"
        signed_for = (base or APP_URL) + path
        form = twilio_form("STOP", sid="SM1")
        assert len(twiml_messages(world.twilio(form, path=path, sign_url=signed_for))) == 1
        # The query string is part of what Twilio signs.
        bare = (base or APP_URL) + "/webhooks/twilio"
        response = world.twilio(twilio_form("STOP", sid="SM2"), path=path, sign_url=bare)
        assert_problem(response, 403, "bad_signature")
        assert world.events() == ["opted_out"]


def test_twilio_refuses_unverified_requests_and_stores_nothing(world: World) -> None:
    form = twilio_form("STOP")
    url = APP_URL + "/webhooks/twilio"
    other_body = RequestValidator(AUTH_TOKEN).compute_signature(url, twilio_form("hello"))
    before = world.counts()
    cases: dict[str, httpx.Response] = {
        "unsigned": world.twilio(form, signature=""),
        "empty header": world.client.post(
            "/webhooks/twilio", content=urlencode(form), headers={**FORM, SIGNATURE: ""}
        ),
        "garbage": world.twilio(form, signature="bm90IGEgc2lnbmF0dXJl"),
        "wrong token": world.twilio(form, token="another-token"),
        "wrong host": world.twilio(form, sign_url="https://evil.example/webhooks/twilio"),
        "wrong path": world.twilio(form, sign_url=APP_URL + "/webhooks/twilio/status"),
        "http vs https": world.twilio(form, sign_url="https://testserver/webhooks/twilio"),
        "other body": world.twilio(form, signature=other_body),
    }
    for case, response in cases.items():
        assert response.status_code == 403, case
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before
    assert world.engine.contact(ACME, BOB) is None


@pytest.mark.parametrize("path", ["/webhooks/twilio", "/webhooks/twilio/status"])
def test_an_unsigned_twilio_request_learns_nothing_of_the_registered_numbers(
    world: World, path: str
) -> None:
    # 403 for a registered number and an unknown one alike, before any look-up.
    for number in (TW, "+12025550999", "not a number"):
        form = {**twilio_form("STOP"), "To": number, "From": number}
        response = world.client.post(path, content=urlencode(form), headers=FORM)
        assert_problem(response, 403, "bad_signature")


def test_twilio_tampered_sender_fields_are_refused(world: World) -> None:
    signed = twilio_form("STOP")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(APP_URL + "/webhooks/twilio", signed)
    before = world.counts()
    for field, value in [("From", EVE), ("To", TW_B), ("MessageSid", "SM9"), ("Extra", "1")]:
        response = world.twilio({**signed, field: value}, signature=signature)
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before


def test_twilio_same_message_twice_gets_the_same_answer_once(world: World) -> None:
    form = twilio_form("STOP")
    first = world.twilio(form)
    second = world.twilio(form)
    assert first.status_code == second.status_code == 200
    assert first.text == second.text and len(twiml_messages(first)) == 1
    assert world.events() == ["opted_out"]
    _, messages = world.engine.history(ACME, BOB)
    assert [m.direction for m in messages] == ["in", "out"]


def test_twilio_unknown_number_is_404(world: World) -> None:
    assert_problem(world.twilio(twilio_form("STOP", To=UNKNOWN)), 404, "unknown_sender")


def test_twilio_webhook_for_another_providers_number_is_403(world: World) -> None:
    before = world.counts()
    for number in (TX, GEN):
        assert_problem(world.twilio(twilio_form("STOP", To=number)), 403, "bad_signature")
    assert world.counts() == before


MALFORMED_FORMS = [
    b"",
    b"To=%2B1415555",
    b"To=%ZZ&Body=x",
    b"To=%FF%FE&Body=x",
    b"To=%ED%A0%80&Body=x",  # an encoded UTF-16 surrogate
    "To=+14155550100&Body=caf\u00e9".encode(),  # raw non-ASCII
    b"\xff\xfe\x00",
    b"To=%2B14155550100&To=%2B14155550101",
    b"&".join(b"f%d=1" % i for i in range(300)),
]


def test_twilio_malformed_forms_are_400(world: World) -> None:
    before = world.counts()
    for path in ("/webhooks/twilio", "/webhooks/twilio/status"):
        for body in MALFORMED_FORMS:
            # Signed (badly: the form is read before the signature can be checked).
            headers = {**FORM, SIGNATURE: "bm90IGEgc2lnbmF0dXJl"}
            response = world.client.post(path, content=body, headers=headers)
            assert response.status_code == 400, (path, body)
            assert_problem(response, 400, "bad_payload")
    assert world.counts() == before


def test_twilio_signed_but_malformed_fields_are_400(world: World) -> None:
    changes: list[dict[str, str | None]] = [
        {"Body": None},
        {"MessageSid": None},
        {"From": None},
        {"MessageSid": ""},
        {"MessageSid": "SM" + "9" * 300},
        {"NumMedia": "many"},
        {"NumMedia": "-1"},
        {"Body": "bad\x00byte"},
    ]
    before = world.counts()
    for change in changes:
        form = {k: v for k, v in {**twilio_form("STOP"), **change}.items() if v is not None}
        response = world.twilio(form)
        assert response.status_code == 400, change
        assert_problem(response, 400, "bad_payload")
    assert world.counts() == before


def test_twilio_unusable_from_number_is_a_4xx(world: World) -> None:
    response = world.twilio(twilio_form("STOP", From="whatsapp:not-a-number"))
    assert 400 <= response.status_code < 500 and response.headers["content-type"] == PROBLEM
    assert world.counts()["events"] == 0


def test_twilio_oversized_body_is_413(world: World) -> None:
    limit = Settings().max_body_bytes
    form = twilio_form("x" * limit)
    before = world.counts()
    assert_problem(world.twilio(form), 413, "body_too_large")

    # Without a Content-Length the limit is enforced while reading.
    def chunks() -> Iterator[bytes]:
        data = urlencode(form).encode()
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    response = world.client.post(
        "/webhooks/twilio", content=chunks(), headers={**FORM, SIGNATURE: "bm90IGEgc2lnbmF0dXJl"}
    )
    assert_problem(response, 413, "body_too_large")
    assert world.counts() == before


# -- Twilio status callbacks -------------------------------------------------------------


def _sent_sid(world: World, sender: str = TW) -> str:
    result = world.engine.send(ACME, sender, BOB, "Your table is ready")
    assert result.status == "sent" and result.provider_id is not None
    return result.provider_id


def _status(world: World, form: dict[str, str]) -> httpx.Response:
    response = world.twilio(form, path="/webhooks/twilio/status")
    assert twiml_messages(response) == []
    return response


def _outbound(world: World, sid: str) -> Any:
    [message] = [m for m in world.engine.history(ACME, BOB)[1] if m.provider_id == sid]
    return message


def _twiml_callbacks(response: httpx.Response) -> list[str | None]:
    twiml_messages(response)
    return [child.get("statusCallback") for child in ET.fromstring(response.text)]


def test_a_twiml_reply_names_its_record_in_a_status_callback_and_gets_its_delivery(
    store: Store, fake: FakeProvider
) -> None:
    world = build_world(store, fake, "twilio", public_base_url=PUBLIC_URL)
    with world.client:
        stop = twilio_form("STOP", sid="SM1")
        first = world.twilio(stop, sign_url=PUBLIC_URL + "/webhooks/twilio")
        [callback] = _twiml_callbacks(first)
        [reply] = [m for m in world.engine.history(ACME, BOB)[1] if m.reply]
        assert callback == f"{PUBLIC_URL}/webhooks/twilio/status?reply={reply.id}"
        assert (reply.status, reply.provider_id) == ("sent", None)
        # The same delivery again: the same answer, the same reply named.
        again = world.twilio(stop, sign_url=PUBLIC_URL + "/webhooks/twilio")
        assert again.text == first.text
        # Twilio reports on the reply under the message id it gave it.
        path = f"/webhooks/twilio/status?reply={reply.id}"
        for status in ("sent", "delivered"):
            report = twilio_status("SMreply1", status)
            answer = world.twilio(report, path=path, sign_url=PUBLIC_URL + path)
            assert twiml_messages(answer) == []
        assert _outbound(world, "SMreply1").id == reply.id
        assert _outbound(world, "SMreply1").status == "delivered"


def test_a_reply_callback_reports_on_no_other_message(store: Store, fake: FakeProvider) -> None:
    world = build_world(store, fake, "twilio", public_base_url=PUBLIC_URL)
    with world.client:
        world.twilio(twilio_form("STOP", sid="SM1"), sign_url=PUBLIC_URL + "/webhooks/twilio")
        world.twilio(twilio_form("START", sid="SM2"), sign_url=PUBLIC_URL + "/webhooks/twilio")
        inbound, reply, _, second_reply = world.engine.history(ACME, BOB)[1]
        assert (inbound.direction, reply.reply, second_reply.reply) == ("in", True, True)
        cases = {
            "an inbound text": (inbound.id, twilio_status("SMa", "delivered")),
            "another recipient": (reply.id, twilio_status("SMb", "delivered", To=EVE)),
            "another sender": (reply.id, twilio_status("SMc", "delivered", From=TW_B)),
            "no such message": (999, twilio_status("SMd", "delivered")),
        }
        for name, (message_id, report) in cases.items():
            path = f"/webhooks/twilio/status?reply={message_id}"
            response = world.twilio(report, path=path, sign_url=PUBLIC_URL + path)
            assert response.status_code == 200, name
        # Once reported on, a reply keeps its provider id: a second id is not taken.
        path = f"/webhooks/twilio/status?reply={reply.id}"
        world.twilio(twilio_status("SMe", "delivered"), path=path, sign_url=PUBLIC_URL + path)
        world.twilio(twilio_status("SMf", "failed"), path=path, sign_url=PUBLIC_URL + path)
        messages = {m.id: m for m in world.engine.history(ACME, BOB)[1]}
        assert (messages[reply.id].provider_id, messages[reply.id].status) == ("SMe", "delivered")
        assert messages[inbound.id].status == "received"
        assert messages[second_reply.id].provider_id is None
        bad = "/webhooks/twilio/status?reply=x1"
        report = twilio_status("SMg", "delivered")
        assert_problem(world.twilio(report, path=bad, sign_url=PUBLIC_URL + bad), 400)


def test_a_reply_callback_cannot_give_a_reply_an_inbound_text_s_id(
    store: Store, fake: FakeProvider
) -> None:
    world = build_world(store, fake, "twilio", public_base_url=PUBLIC_URL)
    with world.client:
        world.twilio(twilio_form("STOP", sid="SM1"), sign_url=PUBLIC_URL + "/webhooks/twilio")
        [reply] = [m for m in world.engine.history(ACME, BOB)[1] if m.reply]
        path = f"/webhooks/twilio/status?reply={reply.id}"
        report = twilio_status("SM1", "delivered")
        answer = world.twilio(report, path=path, sign_url=PUBLIC_URL + path)
        assert_problem(answer, 409, "provider_id_conflict")
        # A reply that took an id first: an inbound text under that id is refused too.
        world.twilio(twilio_status("SMnew", "sent"), path=path, sign_url=PUBLIC_URL + path)
        later = twilio_form("STOP", sid="SMnew")
        answer = world.twilio(later, sign_url=PUBLIC_URL + "/webhooks/twilio")
        assert_problem(answer, 409, "provider_id_conflict")
        assert [m.provider_id for m in world.engine.history(ACME, BOB)[1]] == ["SM1", "SMnew"]


def test_a_status_callback_without_its_sender_names_the_field(world: World) -> None:
    report = {k: v for k, v in twilio_status("SM1", "delivered").items() if k != "From"}
    response = world.twilio(report, path="/webhooks/twilio/status")
    assert_problem(response, 400, "bad_payload")
    assert response.json()["detail"].startswith("From:")


def test_without_a_public_url_a_twiml_reply_has_no_status_callback(world: World) -> None:
    assert _twiml_callbacks(world.twilio(twilio_form("STOP"))) == [None]


def test_status_21610_opts_out_the_number_under_the_twilio_profile(world: World) -> None:
    sid = _sent_sid(world)
    _status(world, twilio_status(sid, "failed", "21610"))
    message = _outbound(world, sid)
    assert (message.status, message.reason) == ("failed", "opted_out")
    assert world.status(TW) is Status.OPTED_OUT
    assert world.status(TW_B) is Status.OPTED_IN
    events = world.engine.history(ACME, BOB)[0]
    assert [(e.type, e.data["source"], e.data.get("code")) for e in events] == [
        ("opted_out", "provider", "21610")
    ]
    assert not world.engine.send(ACME, TW, BOB, "again").allowed
    assert world.engine.send(ACME, TW_B, BOB, "from the other number").allowed


def test_status_21610_opts_out_the_account_under_the_default_profile(
    default_world: World,
) -> None:
    world = default_world
    sid = _sent_sid(world)
    _status(world, twilio_status(sid, "undelivered", "21610"))
    assert (_outbound(world, sid).reason) == "opted_out"
    assert world.status(TW) is Status.OPTED_OUT
    assert world.status(TW_B) is Status.OPTED_OUT
    assert world.status(TX) is Status.OPTED_OUT


def test_status_21610_twice_records_one_event(world: World) -> None:
    sid = _sent_sid(world)
    form = twilio_status(sid, "failed", "21610")
    first = _status(world, form)
    second = _status(world, form)
    assert first.text == second.text
    assert world.events() == ["opted_out"]


def test_status_21610_retried_for_a_message_sent_elsewhere_records_one_event(
    world: World,
) -> None:
    # A text optline never sent (another system shares the number): the report still
    # opts the recipient out, and Twilio's retries of it change nothing more.
    form = twilio_status("SM" + "e" * 32, "failed", "21610")
    for _ in range(3):
        _status(world, form)
    assert world.events() == ["opted_out"]
    assert world.status(TW) is Status.OPTED_OUT
    assert world.counts()["messages"] == 0


def test_status_21610_after_a_stop_adds_no_event(world: World) -> None:
    world.twilio(twilio_form("STOP"))
    _status(world, twilio_status("SM" + "e" * 32, "failed", "21610"))
    assert world.events() == ["opted_out"]


def test_status_callbacks_update_the_message(world: World) -> None:
    sid = _sent_sid(world)
    _status(world, twilio_status(sid, "sent"))
    assert _outbound(world, sid).status == "sent"
    _status(world, twilio_status(sid, "delivered"))
    message = _outbound(world, sid)
    assert (message.status, message.reason) == ("delivered", None)
    assert world.events() == []
    assert world.status(TW) is Status.OPTED_IN


def test_a_late_earlier_status_does_not_undo_delivered(world: World) -> None:
    # Twilio warns that status callbacks can arrive out of order.
    sid = _sent_sid(world)
    _status(world, twilio_status(sid, "delivered"))
    _status(world, twilio_status(sid, "sent"))
    assert _outbound(world, sid).status == "delivered"


def test_status_other_errors_fail_the_message_without_opting_out(world: World) -> None:
    sid = _sent_sid(world)
    _status(world, twilio_status(sid, "undelivered", "30003"))
    message = _outbound(world, sid)
    assert (message.status, message.reason) == ("undelivered", "provider_30003")
    assert world.events() == []


def test_status_callback_must_be_signed(world: World) -> None:
    sid = _sent_sid(world)
    before = world.counts()
    form = twilio_status(sid, "failed", "21610")
    # Signed for the inbound URL, posted to the status URL.
    response = world.twilio(
        form, path="/webhooks/twilio/status", sign_url=APP_URL + "/webhooks/twilio"
    )
    assert_problem(response, 403, "bad_signature")
    assert_problem(world.twilio(form, path="/webhooks/twilio/status", signature=""), 403)
    assert world.counts() == before
    assert _outbound(world, sid).status == "sent"


def test_status_callback_malformed_is_400(world: World) -> None:
    changes: list[dict[str, str | None]] = [
        {"MessageSid": None},
        {"MessageStatus": None},
        {"ErrorCode": "21x"},
        {"To": None},
    ]
    before = world.counts()
    for change in changes:
        form = {k: v for k, v in {**twilio_status("SM1", "failed", "21610"), **change}.items() if v}
        response = world.twilio(form, path="/webhooks/twilio/status")
        assert response.status_code == 400, change
        assert_problem(response, 400, "bad_payload")
    assert world.counts() == before


# -- Telnyx ------------------------------------------------------------------------------


def telnyx_inbound(
    text: str | None, message_id: str = "b301ed3f-1490-491f-995f-6e64e69674d4", **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "record_type": "message",
        "direction": "inbound",
        "id": message_id,
        "type": "SMS",
        "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d",
        "from": {"phone_number": BOB, "carrier": "T-Mobile USA", "line_type": "Wireless"},
        "to": [{"phone_number": TX, "status": "webhook_delivered"}],
        "text": text,
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "received_at": "2025-06-01T12:00:00.000+00:00",
        "errors": [],
    }
    payload.update(extra)
    return {
        "data": {
            "event_type": "message.received",
            "id": "e" + message_id[1:],
            "occurred_at": "2025-06-01T12:00:00.000+00:00",
            "payload": payload,
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
    }


def telnyx_delivery(
    message_id: str,
    status: str,
    errors: list[dict[str, Any]],
    event_type: str = "message.finalized",
) -> dict[str, Any]:
    return {
        "data": {
            "event_type": event_type,
            "id": "0c2d6b8e-5bd1-4d4b-9a1d-1f2e3d4c5b6a",
            "occurred_at": "2025-06-01T12:00:05.000+00:00",
            "payload": {
                "record_type": "message",
                "direction": "outbound",
                "id": message_id,
                "type": "SMS",
                "from": {"phone_number": TX, "carrier": "Telnyx", "line_type": "Wireless"},
                "to": [{"phone_number": BOB, "status": status, "carrier": "T-Mobile USA"}],
                "text": "Your table is ready",
                "errors": errors,
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
    }


def test_telnyx_stop_opts_out_and_sends_the_confirmation_through_telnyx(world: World) -> None:
    response = world.telnyx(telnyx_inbound("STOP"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["intent"], body["status"], body["duplicate"]) == ("opt_out", "opted_out", False)
    assert world.status(TX) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]

    [sent] = world.replies_sent()
    assert sent == {"from": TX, "to": BOB, "text": body["reply"]}
    [request] = world.fake.requests
    assert request.headers["Authorization"] == f"Bearer {TELNYX_API_KEY}"
    _, messages = world.engine.history(ACME, BOB)
    assert [(m.direction, m.status, m.body) for m in messages] == [
        ("in", "received", "STOP"),
        ("out", "sent", body["reply"]),
    ]
    assert messages[1].provider_id is not None and messages[1].provider_id.startswith("fake-")


def test_telnyx_duplicate_delivery_sends_no_second_reply(world: World) -> None:
    event = telnyx_inbound("STOP")
    first = world.telnyx(event)
    second = world.telnyx(event)
    assert second.status_code == 200
    assert {**first.json(), "duplicate": True} == second.json()
    assert len(world.replies_sent()) == 1
    assert world.events() == ["opted_out"]
    assert len(world.engine.history(ACME, BOB)[1]) == 2


def test_telnyx_concurrent_duplicates_send_one_reply(world: World) -> None:
    event = telnyx_inbound("STOP")
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: world.telnyx(event), range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 5
    assert len({json.dumps({**r.json(), "duplicate": None}) for r in responses}) == 1
    assert len(world.replies_sent()) == 1
    assert world.events() == ["opted_out"]
    assert len(world.engine.history(ACME, BOB)[1]) == 2


def test_telnyx_ordinary_text_sends_nothing(world: World) -> None:
    response = world.telnyx(telnyx_inbound("running 5 min late"))
    assert response.status_code == 200 and response.json()["reply"] is None
    assert world.fake.requests == []
    assert world.events() == []


def test_telnyx_mms_without_text_is_recorded(world: World) -> None:
    media = [{"url": "https://media.example/1.jpg", "content_type": "image/jpeg"}]
    response = world.telnyx(telnyx_inbound(None, media=media))
    assert response.status_code == 200, response.text
    assert world.engine.history(ACME, BOB)[1][0].body == ""


def test_telnyx_autoresponse_records_the_change_without_a_reply(world: World) -> None:
    response = world.telnyx(telnyx_inbound("STOP", autoresponse_type="stop"))
    assert response.status_code == 200 and response.json()["reply"] is None
    assert world.status(TX) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    assert world.fake.requests == []
    assert [m.direction for m in world.engine.history(ACME, BOB)[1]] == ["in"]


def test_telnyx_autoresponse_stop_opts_out_a_text_the_policy_does_not_read(
    world: World,
) -> None:
    response = world.telnyx(telnyx_inbound("ALTO", autoresponse_type="stop"))
    assert response.status_code == 200 and response.json()["reply"] is None
    assert world.status(TX) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    assert world.fake.requests == []


def test_telnyx_refusing_the_stop_confirmation_adds_no_second_opt_out(world: World) -> None:
    # Telnyx saw the STOP too and answers 40300 to the confirmation.
    world.fake.script(Reply.opted_out())
    assert world.telnyx(telnyx_inbound("STOP")).status_code == 200
    assert world.events() == ["opted_out"]
    _, messages = world.engine.history(ACME, BOB)
    assert [(m.direction, m.status, m.reason) for m in messages] == [
        ("in", "received", None),
        ("out", "failed", "opted_out"),
    ]


def test_telnyx_reply_refused_by_the_provider_is_recorded_failed(world: World) -> None:
    world.fake.script(Reply.error(500))
    response = world.telnyx(telnyx_inbound("HELP"))
    assert response.status_code == 200
    _, messages = world.engine.history(ACME, BOB)
    assert [(m.direction, m.status, m.reason) for m in messages] == [
        ("in", "received", None),
        ("out", "failed", "provider_error"),
    ]


def _engine_later(world: World, seconds: float) -> Engine:
    """Another engine on the same database whose clock runs ``seconds`` ahead."""
    dispatcher = Dispatcher(
        {"twilio": world.fake.url, "telnyx": world.fake.url},
        retry=RetryPolicy(attempts=1, initial_wait=0.0, timeout=5.0),
    )
    return Engine(
        world.store,
        clock=lambda: datetime.now(UTC) + timedelta(seconds=seconds),
        dispatch=dispatcher,
    )


def _sent_texts(world: World) -> list[tuple[str, str | None]]:
    return [
        (m.status, m.provider_id)
        for m in world.engine.history(ACME, BOB)[1]
        if m.direction == "out"
    ]


def test_a_telnyx_reply_whose_send_never_started_is_sent_by_the_reply_worker(
    world: World,
) -> None:
    # As if the process stopped right after answering the webhook: the STOP and its
    # confirmation, queued, are on record together, and nothing was sent.
    result = world.engine.receive(ACME, BOB, TX, "STOP", "tx-lost-1", reply_by_api=True)
    assert result.reply is not None
    assert _sent_texts(world) == [("queued", None)]

    # Within the grace period its own send may still start: the worker leaves it.
    assert _engine_later(world, 5).send_queued_replies() == 0
    assert world.replies_sent() == []

    later = _engine_later(world, 31)
    assert later.send_queued_replies() == 1
    assert world.replies_sent() == [{"from": TX, "to": BOB, "text": result.reply}]
    [(status, provider_id)] = _sent_texts(world)
    assert status == "sent" and provider_id is not None
    assert later.send_queued_replies() == 0  # once only
    assert len(world.replies_sent()) == 1


def test_a_late_reply_is_not_sent_once_the_contact_has_changed_their_consent(
    world: World,
) -> None:
    # Both sends never started; between the two texts the contact opted out.
    help_reply = world.engine.receive(ACME, BOB, TX, "HELP", "tx-late-1", reply_by_api=True)
    stop = world.engine.receive(ACME, BOB, TX, "STOP", "tx-late-2", reply_by_api=True)
    assert help_reply.reply and stop.reply

    assert _engine_later(world, 31).send_queued_replies() == 2
    # Only the STOP's confirmation goes: the HELP answer is from before the opt-out.
    assert world.replies_sent() == [{"from": TX, "to": BOB, "text": stop.reply}]
    replies = [(m.body, m.status, m.reason) for m in world.engine.history(ACME, BOB)[1] if m.reply]
    assert replies == [
        (help_reply.reply, "failed", "superseded"),
        (stop.reply, "sent", None),
    ]


def test_the_service_worker_sends_queued_replies(world: World) -> None:
    result = world.engine.receive(ACME, BOB, TX, "HELP", "tx-lost-2", reply_by_api=True)
    worker = Worker(_engine_later(world, 60), interval=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not world.replies_sent() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert world.replies_sent() == [{"from": TX, "to": BOB, "text": result.reply}]


def test_a_queued_reply_is_handed_to_the_provider_once(world: World) -> None:
    result = world.engine.receive(ACME, BOB, TX, "STOP", "tx-twice", reply_by_api=True)
    assert result.reply is not None and result.reply_message_id is not None
    sender = world.engine.sender(TX)
    assert sender is not None
    attempts = [
        world.engine.dispatch_recorded(sender, BOB, result.reply, result.reply_message_id)
        for _ in range(2)
    ]
    assert attempts[0][0] == "sent"
    assert attempts[1] == ("sending", None, "already being sent")
    assert len(world.replies_sent()) == 1


def test_a_send_decided_but_not_yet_handed_over_is_on_record_as_queued(world: World) -> None:
    pending = world.engine.decide_send(ACME, TX, BOB, "Your table is ready")
    assert _sent_texts(world) == [("queued", None)]  # not "sent": nothing has left yet
    result = world.engine.deliver(pending)
    assert result.status == "sent"
    [(status, provider_id)] = _sent_texts(world)
    assert status == "sent" and provider_id == result.provider_id


def test_telnyx_stale_or_future_timestamps_are_403(world: World) -> None:
    before = world.counts()
    # Well past the 300 s window either way, so a slow test run cannot bring them back in.
    for skew in (-330, 330, -3600, 10**6):
        response = world.telnyx(telnyx_inbound("STOP"), timestamp=int(time.time()) + skew)
        assert response.status_code == 403, skew
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before
    assert world.fake.requests == []


def test_telnyx_timestamp_within_the_window_is_accepted(world: World) -> None:
    response = world.telnyx(telnyx_inbound("STOP"), timestamp=int(time.time()) - 250)
    assert response.status_code == 200


def test_telnyx_forged_requests_are_403(world: World) -> None:
    body = json.dumps(telnyx_inbound("STOP")).encode()
    good = world.telnyx_headers(body)
    t = good["telnyx-timestamp"]
    other_key = SigningKey.generate().sign(t.encode() + b"|" + body).signature
    signature = "telnyx-signature-ed25519"
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "unsigned": (body, {k: v for k, v in good.items() if k != signature}),
        "no timestamp": (body, {k: v for k, v in good.items() if k != "telnyx-timestamp"}),
        "other key": (body, {**good, signature: base64.b64encode(other_key).decode()}),
        "tampered": (body.replace(BOB.encode(), EVE.encode()), good),
        "retimed": (body, {**good, "telnyx-timestamp": str(int(t) - 1)}),
        "not base64": (body, {**good, signature: "not base64!"}),
        "short": (body, {**good, signature: base64.b64encode(b"x" * 32).decode()}),
    }
    before = world.counts()
    for case, (content, headers) in cases.items():
        response = world.client.post("/webhooks/telnyx", content=content, headers=headers)
        assert response.status_code == 403, case
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before
    assert world.fake.requests == []


def test_telnyx_delivery_40300_opts_the_recipient_out(world: World) -> None:
    sent = _sent_sid(world, TX)
    errors = [{"code": "40300", "title": "Blocked due to STOP message", "detail": "..."}]
    response = world.telnyx(telnyx_delivery(sent, "delivery_failed", errors))
    assert response.status_code == 200, response.text
    message = _outbound(world, sent)
    assert (message.status, message.reason) == ("delivery_failed", "opted_out")
    assert world.status(TX) is Status.OPTED_OUT
    assert world.status(TW) is Status.OPTED_IN  # twilio profile: per number
    events = world.engine.history(ACME, BOB)[0]
    assert [(e.type, e.data["source"]) for e in events] == [("opted_out", "provider")]
    # The same event again changes nothing.
    assert world.telnyx(telnyx_delivery(sent, "delivery_failed", errors)).status_code == 200
    assert world.events() == ["opted_out"]


def test_telnyx_delivered_event_updates_the_message(world: World) -> None:
    sent = _sent_sid(world, TX)
    assert world.telnyx(telnyx_delivery(sent, "delivered", [])).status_code == 200
    assert _outbound(world, sent).status == "delivered"
    assert world.events() == []


def test_telnyx_other_event_types_are_acknowledged_and_ignored(world: World) -> None:
    event = {"data": {"event_type": "call.initiated", "id": "x", "payload": {}}}
    response = world.telnyx(event)
    assert response.status_code == 200 and response.json() == {"ignored": "call.initiated"}
    assert world.counts()["messages"] == 0


@pytest.mark.parametrize("forged", ["unsigned", "other key", "stale"])
def test_telnyx_other_event_types_must_be_signed_too(world: World, forged: str) -> None:
    event = {"data": {"event_type": "call.initiated", "id": "x", "payload": {}}}
    body = json.dumps(event).encode()
    t = str(int(time.time()) - (1000 if forged == "stale" else 0))
    key = world.telnyx_key if forged == "stale" else SigningKey.generate()
    headers = {
        "Content-Type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(
            key.sign(t.encode() + b"|" + body).signature
        ).decode(),
        "telnyx-timestamp": t,
    }
    if forged == "unsigned":
        headers = {"Content-Type": "application/json"}
    assert_problem(world.telnyx(event, headers=headers), 403, "bad_signature")


def test_telnyx_for_a_twilio_number_is_403(world: World) -> None:
    event = telnyx_inbound("STOP")
    event["data"]["payload"]["to"] = [{"phone_number": TW}]
    assert_problem(world.telnyx(event), 403, "bad_signature")
    assert world.counts()["events"] == 0


def test_telnyx_malformed_bodies_are_400(world: World) -> None:
    bodies = [b"", b"{", b"[]", b"\xff\xfe", b'{"data": 1}', b'{"data": {"event_type": 5}}']
    event = telnyx_inbound("STOP")
    event["data"]["payload"]["to"] = []
    bodies.append(json.dumps(event).encode())
    for body in bodies:
        response = world.client.post(
            "/webhooks/telnyx", content=body, headers=world.telnyx_headers(body)
        )
        assert response.status_code == 400, body
        assert_problem(response, 400, "bad_payload")
    assert world.counts()["messages"] == 0


# -- generic ----------------------------------------------------------------------------


def generic_message(text: str, message_id: str = "gw-1", **extra: Any) -> dict[str, Any]:
    return {"id": message_id, "from": BOB, "to": GEN, "text": text, **extra}


def test_generic_stop_returns_the_reply_in_the_body(world: World) -> None:
    response = world.generic(generic_message("STOP"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"] == "opt_out" and body["duplicate"] is False
    assert body["reply"].startswith("You have successfully been unsubscribed")
    assert world.status(GEN) is Status.OPTED_OUT
    assert world.fake.requests == []  # the gateway sends the reply itself

    again = world.generic(generic_message("STOP"))
    assert again.json() == {**body, "duplicate": True}
    assert world.events() == ["opted_out"]


def test_a_message_id_already_another_text_s_is_refused_and_keeps_nothing(world: World) -> None:
    # A gateway numbering texts per number: the same id from someone else is not a
    # repeat of Bob's text. Answered 409, never Bob's outcome, and nothing is kept.
    assert world.generic(generic_message("hello")).status_code == 200
    before = world.counts()
    other = {**generic_message("STOP"), "from": EVE}
    assert_problem(world.generic(other), 409, "provider_id_conflict")
    assert world.counts() == before
    assert world.engine.contact(ACME, EVE) is None


def test_a_failed_commit_answers_503_keeps_nothing_and_the_retry_lands(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    if world.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")
    before = world.counts()
    open_group = world.store.group_commit._open_group

    def full_disk_group() -> Any:
        group = open_group()
        if group is not None and not isinstance(group.driver, FullDisk):
            group.driver = FullDisk(group.driver)  # type: ignore[assignment]
        return group

    monkeypatch.setattr(world.store.group_commit, "_open_group", full_disk_group)
    response = world.generic(generic_message("STOP"))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "commit_failed"
    assert world.counts() == before

    monkeypatch.undo()  # the disk has room again; the gateway sends the text again
    again = world.generic(generic_message("STOP"))
    assert again.status_code == 200 and again.json()["duplicate"] is False
    assert world.events() == ["opted_out"]


def test_generic_provider_replied_suppresses_the_reply(world: World) -> None:
    response = world.generic(generic_message("STOP", provider_replied=True))
    assert response.json()["reply"] is None
    assert world.status(GEN) is Status.OPTED_OUT


def test_generic_refuses_replayed_or_forged_signatures(world: World) -> None:
    message = generic_message("STOP")
    body = json.dumps(message).encode()
    now = int(time.time())
    tampered = body.replace(b"STOP", b"STOP ")
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "old": (body, {signing.HEADER: signing.sign(GENERIC_SECRET, body, now - 330)}),
        "future": (body, {signing.HEADER: signing.sign(GENERIC_SECRET, body, now + 330)}),
        "secret": (body, {signing.HEADER: signing.sign("guess", body)}),
        "missing": (body, {}),
        "tampered": (tampered, {signing.HEADER: signing.sign(GENERIC_SECRET, body)}),
        "retimed": (
            body,
            {
                signing.HEADER: signing.sign(GENERIC_SECRET, body, now - 1).replace(
                    f"t={now - 1}", f"t={now}"
                )
            },
        ),
    }
    before = world.counts()
    for case, (content, headers) in cases.items():
        response = world.client.post("/webhooks/generic", content=content, headers=headers)
        assert response.status_code == 403, case
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before


def test_generic_replay_of_a_captured_request_later_is_refused(world: World) -> None:
    message = generic_message("STOP")
    body = json.dumps(message).encode()
    captured = signing.sign(GENERIC_SECRET, body, int(time.time()) - 600)
    response = world.client.post(
        "/webhooks/generic", content=body, headers={signing.HEADER: captured}
    )
    assert_problem(response, 403, "bad_signature")
    assert world.engine.contact(ACME, BOB) is None


def test_generic_for_a_twilio_number_is_403(world: World) -> None:
    assert_problem(world.generic(generic_message("STOP", to=TW)), 403, "bad_signature")


# -- never a 5xx -------------------------------------------------------------------------

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
field_names = st.sampled_from(
    [
        "From",
        "To",
        "Body",
        "MessageSid",
        "NumMedia",
        "OptOutType",
        "AccountSid",
        "ErrorCode",
        "MessageStatus",
        "MediaUrl0",
    ]
) | st.text(max_size=8)
field_values = st.text(max_size=40) | st.sampled_from([BOB, TW, TX, UNKNOWN, "", "21610", "99"])
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120
)


def _no_5xx(response: httpx.Response) -> None:
    event(f"HTTP {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"]


@FUZZ
@given(raw=st.binary(max_size=300), signature=header_values, algorithm=header_values)
def test_fuzz_twilio_raw_bodies(world: World, raw: bytes, signature: str, algorithm: str) -> None:
    for path in ("/webhooks/twilio", "/webhooks/twilio/status"):
        headers = {
            **FORM,
            "X-Twilio-Signature": signature,
            "X-Twilio-Webhooks-Signature-Settings": algorithm,
        }
        _no_5xx(world.client.post(path, content=raw, headers=headers))


@FUZZ
@given(
    fields=st.dictionaries(field_names, field_values, max_size=8),
    to=st.sampled_from([TW, TW_B, TW_QUIET, TX]),
    status_path=st.booleans(),
)
def test_fuzz_twilio_signed_forms(
    world: World, fields: dict[str, str], to: str, status_path: bool
) -> None:
    """Correctly signed forms with arbitrary fields reach the parser and the engine."""
    if status_path:
        # A text sent now, unless an earlier example opted Bob out from the number.
        sid = world.engine.send(ACME, TW, BOB, "Your table is ready").provider_id
        form = twilio_status(sid or "SM-unsent", "failed")
    else:
        form = twilio_form("hi")
    form.update(fields)
    form["From" if status_path else "To"] = to
    path = "/webhooks/twilio/status" if status_path else "/webhooks/twilio"
    _no_5xx(world.twilio(form, path=path))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def _mutate(event: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    target: Any = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


telnyx_paths = st.sampled_from(
    [
        ["data", "event_type"],
        ["data", "payload"],
        ["data", "payload", "id"],
        ["data", "payload", "from"],
        ["data", "payload", "to"],
        ["data", "payload", "text"],
        ["data", "payload", "media"],
        ["data", "payload", "errors"],
        ["data", "payload", "autoresponse_type"],
        ["data", "payload", "messaging_profile_id"],
    ]
)


@FUZZ
@given(
    path=telnyx_paths,
    value=json_values,
    delivery=st.booleans(),
)
def test_fuzz_telnyx_signed_events(
    world: World, path: list[str], value: Any, delivery: bool
) -> None:
    """Correctly signed events with one field replaced by arbitrary JSON."""
    base = (
        telnyx_delivery("m-1", "delivery_failed", [{"code": "40300"}])
        if delivery
        else telnyx_inbound("STOP", message_id="m-2")
    )
    _no_5xx(world.telnyx(_mutate(base, path, value)))


@FUZZ
@given(raw=st.binary(max_size=300), signature=header_values, timestamp=header_values)
def test_fuzz_telnyx_raw_bodies_and_headers(
    world: World, raw: bytes, signature: str, timestamp: str
) -> None:
    headers = {"telnyx-signature-ed25519": signature, "telnyx-timestamp": timestamp}
    _no_5xx(world.client.post("/webhooks/telnyx", content=raw, headers=headers))
    _no_5xx(world.client.post("/webhooks/telnyx", content=raw, headers=world.telnyx_headers(raw)))


@FUZZ
@given(
    message=st.dictionaries(
        st.sampled_from(["id", "from", "to", "text", "media_count", "provider_replied"])
        | st.text(max_size=6),
        json_values,
        max_size=6,
    ),
    signature=header_values,
)
def test_fuzz_generic(world: World, message: dict[str, Any], signature: str) -> None:
    full = {**generic_message("hi"), **message}
    _no_5xx(world.generic(full))
    body = json.dumps(full).encode()
    _no_5xx(
        world.client.post("/webhooks/generic", content=body, headers={signing.HEADER: signature})
    )
