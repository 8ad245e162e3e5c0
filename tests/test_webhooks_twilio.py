"""Twilio webhooks end to end: inbound texts and status callbacks, signed as Twilio signs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from account_support import HELP_CONTACT
from fakeprovider import FakeProvider
from twilio.request_validator import RequestValidator
from webhook_support import (
    ACME,
    APP_URL,
    AUTH_TOKEN,
    BOB,
    EVE,
    FORM,
    GEN,
    PROBLEM,
    PUBLIC_URL,
    SIGNATURE,
    TW,
    TW_B,
    TW_QUIET,
    TX,
    UNKNOWN,
    World,
    _outbound,
    _sent_sid,
    _status,
    assert_problem,
    build_world,
    twilio_form,
    twilio_status,
    twiml_messages,
)

from optline.api.app import Settings
from optline.api.deps import inbound_body_limit
from optline.domain.consent_codes import Status
from optline.domain.inputs import MAX_INBOUND_CHARS
from optline.store import Store

# -- Twilio inbound ------------------------------------------------------------------------


def test_twilio_stop_answers_twiml_confirmation_and_opts_out(world: World) -> None:
    replies = twiml_messages(world.twilio(twilio_form("Stop")))
    assert len(replies) == 1 and replies[0].startswith("You have successfully been unsubscribed")
    assert world.status(TW) is Status.OPTED_OUT
    assert world.status(TW_B) is Status.NO_CONSENT  # twilio profile: per sending number
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
    assert world.status(TW) is Status.NO_CONSENT


def test_twilio_ordinary_text_gets_an_empty_response(world: World) -> None:
    response = world.twilio(twilio_form("See you at 5, I'll stop by the shop"))
    assert twiml_messages(response) == []
    assert world.events() == []
    assert world.status(TW) is Status.NO_CONSENT
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
    world.engine.set_policy(ACME, overrides={**HELP_CONTACT, "brand": "Smith & <Sons>"})
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
    # The webhooks take more than the API's own limit: the longest text accepted, in
    # its widest encoding.
    limit = inbound_body_limit(Settings())
    assert limit == 12 * MAX_INBOUND_CHARS + 64 * 1024 > Settings().max_body_bytes
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
    assert world.status(TW_B) is Status.NO_CONSENT
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
    world.engine.opt_in(ACME, BOB, "signed up at the front desk")  # consent on record
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
    assert world.status(TW) is Status.NO_CONSENT


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
