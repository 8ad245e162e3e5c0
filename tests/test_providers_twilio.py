"""Twilio webhooks: signature, inbound and status parsing, TwiML."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from provider_samples import INBOUND, STATUS_FAILED, TOKEN
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from optline.providers import PayloadError, SignatureError, twilio

URL = "https://sms.example.com/webhooks/twilio"


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


# -- signatures -----------------------------------------------------------------------


def test_valid_form_signature_accepted() -> None:
    twilio.verify_signature(URL, INBOUND, sign(URL, INBOUND), TOKEN)


def test_signature_with_explicit_port_accepted() -> None:
    # Twilio may sign with or without the default port; the SDK accepts both.
    twilio.verify_signature(
        URL, INBOUND, sign("https://sms.example.com:443/webhooks/twilio", INBOUND), TOKEN
    )


def test_url_with_port_accepts_a_signature_without_it() -> None:
    # The URL as given is tried first; the other form is still the SDK's to accept.
    with_port = "https://sms.example.com:443/webhooks/twilio"
    twilio.verify_signature(with_port, INBOUND, sign(URL, INBOUND), TOKEN)
    with pytest.raises(SignatureError):
        twilio.verify_signature(with_port, INBOUND, sign(URL + "x", INBOUND), TOKEN)


def test_sha256_shared_key_signature() -> None:
    settings = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    signature = RequestValidator(TOKEN).compute_signature(URL, INBOUND, "HMAC_SHA256")
    twilio.verify_signature(URL, INBOUND, signature, TOKEN, signature_settings=settings)
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, INBOUND, signature, TOKEN)


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_refused(signature: str | None) -> None:
    with pytest.raises(SignatureError, match="missing"):
        twilio.verify_signature(URL, INBOUND, signature, TOKEN)


def test_forged_signature_refused() -> None:
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, INBOUND, sign(URL, INBOUND, "f" * 32), TOKEN)


def test_wrong_url_refused() -> None:
    # What the app sees behind a proxy is not what Twilio signed.
    signature = sign(URL, INBOUND)
    with pytest.raises(SignatureError):
        twilio.verify_signature("http://10.0.0.7:8000/webhooks/twilio", INBOUND, signature, TOKEN)


def test_tampered_params_refused() -> None:
    signature = sign(URL, INBOUND)
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, INBOUND | {"Body": "START"}, signature, TOKEN)
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, INBOUND | {"Extra": "1"}, signature, TOKEN)


def test_unverifiable_input_is_a_signature_error() -> None:
    with pytest.raises(SignatureError):
        twilio.verify_signature("https://h:99999999/x", INBOUND, "abc", TOKEN)
    with pytest.raises(SignatureError):
        twilio.verify_signature(URL, {"Body": "\ud800"}, "abc", TOKEN)


def test_non_string_params_refused() -> None:
    with pytest.raises(PayloadError):
        twilio.verify_signature(URL, {"Body": 1}, "abc", TOKEN)  # type: ignore[dict-item]


def test_json_body_signature() -> None:
    body = json.dumps({"MessageSid": "SM1", "Body": "hi"}).encode()
    url = f"{URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = sign(url, {})
    twilio.verify_json_signature(url, body, signature, TOKEN)
    with pytest.raises(SignatureError):
        twilio.verify_json_signature(url, body + b" ", signature, TOKEN)
    with pytest.raises(SignatureError, match="bodySHA256"):
        twilio.verify_json_signature(URL, body, sign(URL, {}), TOKEN)
    with pytest.raises(PayloadError):
        twilio.verify_json_signature(url, b"\xff", signature, TOKEN)


# -- form decoding --------------------------------------------------------------------


def test_parse_form_round_trip_and_signature() -> None:
    raw = urlencode(INBOUND | {"Body": "Arrêt 🙏 & más"}).encode()
    form = twilio.parse_form(raw)
    assert form["Body"] == "Arrêt 🙏 & más"
    twilio.verify_signature(URL, form, sign(URL, form), TOKEN)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"Body=%FF%FE", "UTF-8"),
        ("Body=é".encode(), "UTF-8"),
        (b"Body=a&Body=b", "repeated"),
        (b"&".join(b"f%d=1" % i for i in range(500)), "fields"),
    ],
)
def test_parse_form_refuses(raw: bytes, says: str) -> None:
    with pytest.raises(PayloadError, match=says):
        twilio.parse_form(raw)


@pytest.mark.parametrize(
    "url",
    [
        "https://sms.example.com/webhooks/twilio/status?reply=17",
        'https://sms.example.com/a&b?x="q"&y=<z>&reply=optline-status-callback',
    ],
)
@pytest.mark.parametrize("reply", ["You are unsubscribed.", 'Tom & Jerry <3 "quotes"'])
def test_twiml_with_a_status_callback_is_the_sdks_own(url: str, reply: str) -> None:
    expected = MessagingResponse()
    expected.message(reply, status_callback=url)
    assert twilio.twiml(reply, url) == str(expected)
    plain = MessagingResponse()
    plain.message(reply)
    assert twilio.twiml(reply) == str(plain)
    assert twilio.twiml(None, url) == str(MessagingResponse())


def test_parse_form_empty() -> None:
    assert twilio.parse_form(b"") == {}


_FORM_TEXT = st.text(st.sampled_from("ab=&+%20C3A9FfZz;é\x00"), max_size=60)
# Whole escapes, among them encoded separators (the whole body is decoded at once only
# when it has none) and escapes of "%" itself.
_FORM_ESCAPES = ("%26", "%3D", "%3d", "%25", "%2526", "%C3%A9", "%C3", "%FF", "%2", "%", "%2B")
_FORM_TOKENS = st.lists(st.sampled_from([*"aB=&+é", *_FORM_ESCAPES]), max_size=30).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_FORM_TEXT | _FORM_TOKENS)
def test_parse_form_reads_as_the_standard_library_does(text: str) -> None:
    body = text.encode("utf-8")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=200)
    except (UnicodeError, ValueError):
        pairs = None
    if pairs is None or not body.isascii() or len(dict(pairs)) != len(pairs):
        with pytest.raises(PayloadError):  # not ASCII, bad UTF-8, a name given twice
            twilio.parse_form(body)
    else:
        assert twilio.parse_form(body) == dict(pairs)


# -- inbound --------------------------------------------------------------------------


def test_parse_inbound_opt_out_handled_by_twilio() -> None:
    message = twilio.parse_inbound(INBOUND)
    assert message.provider == "twilio"
    assert message.provider_id == INBOUND["MessageSid"]
    assert (message.from_, message.to, message.body) == ("+14155550100", "+14155550199", "STOP")
    assert message.provider_replied is True
    assert message.provider_keyword == "STOP"
    assert message.account_ref == INBOUND["AccountSid"]
    assert message.media_count == 0


def test_parse_inbound_plain_text_with_media() -> None:
    params = {k: v for k, v in INBOUND.items() if k != "OptOutType"}
    params |= {
        "Body": "please stop texting me",
        "NumMedia": "2",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1",
        "MediaContentType0": "image/jpeg",
    }
    message = twilio.parse_inbound(params)
    assert message.provider_replied is False
    assert message.provider_keyword is None
    assert message.media_count == 2
    assert message.body == "please stop texting me"


def test_parse_inbound_mms_without_words() -> None:
    assert twilio.parse_inbound(INBOUND | {"Body": "", "NumMedia": "1"}).body == ""


def test_empty_opt_out_type_is_absent() -> None:
    assert twilio.parse_inbound(INBOUND | {"OptOutType": ""}).provider_replied is False


@pytest.mark.parametrize("field", ["From", "To", "MessageSid", "Body"])
def test_parse_inbound_missing_field(field: str) -> None:
    params = {k: v for k, v in INBOUND.items() if k != field}
    with pytest.raises(PayloadError, match=f"missing field {field}"):
        twilio.parse_inbound(params)


@pytest.mark.parametrize("num_media", ["-1", "two", "１", "101", "99999999999999999999"])
def test_parse_inbound_bad_num_media(num_media: str) -> None:
    with pytest.raises(PayloadError, match="NumMedia"):
        twilio.parse_inbound(INBOUND | {"NumMedia": num_media})


def test_parse_inbound_non_string_value() -> None:
    with pytest.raises(PayloadError, match="From must be a string"):
        twilio.parse_inbound(INBOUND | {"From": object()})


# -- status callbacks -----------------------------------------------------------------


def test_status_21610_marks_opted_out() -> None:
    report = twilio.parse_status(STATUS_FAILED)
    assert report.provider_id == STATUS_FAILED["MessageSid"]
    assert report.status == "undelivered"
    assert report.error_code == "21610"
    assert report.opted_out is True
    assert (report.from_, report.to) == ("+14155550199", "+14155550100")


def test_status_delivered() -> None:
    params = {k: v for k, v in STATUS_FAILED.items() if k != "ErrorCode"}
    report = twilio.parse_status(params | {"MessageStatus": "delivered"})
    assert (report.status, report.error_code, report.opted_out) == ("delivered", None, False)


def test_status_other_error_not_opted_out() -> None:
    report = twilio.parse_status(STATUS_FAILED | {"ErrorCode": "30003"})
    assert (report.error_code, report.opted_out) == ("30003", False)


@pytest.mark.parametrize("field", ["MessageSid", "MessageStatus", "To"])
def test_status_missing_field(field: str) -> None:
    params = {k: v for k, v in STATUS_FAILED.items() if k != field}
    with pytest.raises(PayloadError, match=field):
        twilio.parse_status(params)


def test_status_bad_error_code() -> None:
    with pytest.raises(PayloadError, match="ErrorCode"):
        twilio.parse_status(STATUS_FAILED | {"ErrorCode": "21610; DROP"})


# -- TwiML ----------------------------------------------------------------------------


def test_twiml_empty() -> None:
    assert twilio.twiml(None) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert twilio.twiml("") == twilio.twiml(None)


def test_twiml_reply_escaped() -> None:
    xml = twilio.twiml("You're out <for good> & won't hear from us. Reply START")
    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        "You're out &lt;for good&gt; &amp; won't hear from us. Reply START"
        "</Message></Response>"
    )
