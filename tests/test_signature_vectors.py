"""Known-answer vectors for every signature optline checks or makes.

Each expected value below was computed once, outside optline, from the algorithm as
documented (docs/api.md, docs/operations.md, the providers' own documentation), and is
kept here as a literal. The other signature tests sign with optline's own signer (or
the SDK optline itself uses) and check with its checker: a change to what is signed,
made to both at once, passes them and fails here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest
from nacl.signing import SigningKey

from optline.notify import EVENT_ID_HEADER, deliver
from optline.providers import SignatureError, generic, telnyx, twilio
from optline.store import Notification

NOW = 1_760_000_000

# -- Twilio: X-Twilio-Signature -------------------------------------------------------

TWILIO_TOKEN = "9f3c2a7be41d4c08a6e5f1d2c3b4a596"
TWILIO_URL = "https://sms.example.com/webhooks/twilio"
# In the order a form might carry them, not sorted; a non-ASCII body.
TWILIO_FORM = {
    "To": "+14155550199",
    "From": "+14155550100",
    "Body": "Arrêt, merci",
    "MessageSid": "SM5f1c0a8e2d3b4c6a7e9f0b1d2c3e4f50",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "NumMedia": "0",
}
# base64 HMAC-SHA1(auth token, URL + each parameter's name and value, sorted by name).
TWILIO_FORM_SHA1 = "RCRq/mTaSmJCuDoQL0W2Fon17Wo="
# The same with HMAC-SHA256, as the X-Twilio-Webhooks-Signature-Settings header selects.
TWILIO_FORM_SHA256 = "fVUzcvx1oH4RO4T/iINY9oOszoGgGnEEJ3yl4Q/mhcg="
TWILIO_SHA256_SETTINGS = "key=webhooks_sharedkey_0123,algorithm=HMAC_SHA256"
# A JSON body: the URL carries its hex SHA-256 as bodySHA256, and only the URL is signed.
TWILIO_JSON_BODY = b'{"MessageSid":"SM5f1c0a8e2d3b4c6a7e9f0b1d2c3e4f50","Body":"STOP"}'
TWILIO_JSON_URL = (
    "https://sms.example.com/webhooks/twilio"
    "?bodySHA256=f90770b0e50a2c0bc60f81d5d613db62a32869413316bf55e87b45b40f15cc67"
)
TWILIO_JSON_SHA1 = "wrqFKXQKx/wGQSuJQxNkcVqxdkI="


def _twilio_mac(signed: str, digest: str = "sha1") -> str:
    mac = hmac.new(TWILIO_TOKEN.encode(), signed.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode()


def twilio_documented(url: str, params: dict[str, str], digest: str = "sha1") -> str:
    """X-Twilio-Signature as Twilio documents it, written out here apart from optline and
    the SDK: the full URL, then each POST parameter's name and value, sorted by name;
    an HMAC of that keyed by the auth token, in base64."""
    return _twilio_mac(url + "".join(name + params[name] for name in sorted(params)), digest)


def test_the_twilio_vectors_follow_the_documented_algorithm() -> None:
    assert twilio_documented(TWILIO_URL, TWILIO_FORM) == TWILIO_FORM_SHA1
    assert twilio_documented(TWILIO_URL, TWILIO_FORM, "sha256") == TWILIO_FORM_SHA256
    query_hash = TWILIO_JSON_URL.partition("bodySHA256=")[2]
    assert hashlib.sha256(TWILIO_JSON_BODY).hexdigest() == query_hash
    assert twilio_documented(TWILIO_JSON_URL, {}) == TWILIO_JSON_SHA1


def test_twilio_form_vector_is_accepted() -> None:
    twilio.verify_signature(TWILIO_URL, TWILIO_FORM, TWILIO_FORM_SHA1, TWILIO_TOKEN)
    # And on the form as the webhook reads it from the raw body.
    form = twilio.parse_form(urlencode(TWILIO_FORM).encode())
    twilio.verify_signature(TWILIO_URL, form, TWILIO_FORM_SHA1, TWILIO_TOKEN)


def test_twilio_sha256_vector_is_accepted_where_the_settings_header_asks_for_it() -> None:
    twilio.verify_signature(
        TWILIO_URL,
        TWILIO_FORM,
        TWILIO_FORM_SHA256,
        TWILIO_TOKEN,
        signature_settings=TWILIO_SHA256_SETTINGS,
    )
    with pytest.raises(SignatureError):  # without the header, SHA-1 is meant
        twilio.verify_signature(TWILIO_URL, TWILIO_FORM, TWILIO_FORM_SHA256, TWILIO_TOKEN)
    with pytest.raises(SignatureError):
        twilio.verify_signature(
            TWILIO_URL,
            TWILIO_FORM,
            TWILIO_FORM_SHA1,
            TWILIO_TOKEN,
            signature_settings=TWILIO_SHA256_SETTINGS,
        )


def test_twilio_json_vector_is_accepted() -> None:
    twilio.verify_json_signature(TWILIO_JSON_URL, TWILIO_JSON_BODY, TWILIO_JSON_SHA1, TWILIO_TOKEN)
    with pytest.raises(SignatureError):  # the URL's hash no longer matches the body
        twilio.verify_json_signature(
            TWILIO_JSON_URL,
            TWILIO_JSON_BODY.replace(b"STOP", b"START"),
            TWILIO_JSON_SHA1,
            TWILIO_TOKEN,
        )


def _unsorted(url: str, params: dict[str, str]) -> str:
    return _twilio_mac(url + "".join(name + value for name, value in params.items()))


def _with_separators(url: str, params: dict[str, str]) -> str:
    return _twilio_mac(url + "&".join(f"{name}={params[name]}" for name in sorted(params)))


def _body_only(url: str, params: dict[str, str]) -> str:
    return _twilio_mac("".join(name + params[name] for name in sorted(params)))


@pytest.mark.parametrize("near_miss", [_unsorted, _with_separators, _body_only])
def test_twilio_signatures_of_another_layout_are_refused(
    near_miss: Callable[[str, dict[str, str]], str],
) -> None:
    signature = near_miss(TWILIO_URL, TWILIO_FORM)
    assert signature != TWILIO_FORM_SHA1
    with pytest.raises(SignatureError):
        twilio.verify_signature(TWILIO_URL, TWILIO_FORM, signature, TWILIO_TOKEN)


# -- Telnyx: telnyx-signature-ed25519 over "{timestamp}|{raw body}" --------------------

TELNYX_SEED = bytes(range(32))
TELNYX_PUBLIC_KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
TELNYX_TIMESTAMP = str(NOW)
TELNYX_BODY = (
    b'{"data":{"event_type":"message.received","id":"b301ed3f-1490-491f-995f-6e64e69674d4",'
    b'"payload":{"id":"40385f64-5717-4562-b3fc-2c963f66afa6",'
    b'"from":{"phone_number":"+14155550100"},"to":[{"phone_number":"+14155550199"}],'
    b'"text":"STOP"}}}'
)
# base64 Ed25519 signature of b"1760000000|" + TELNYX_BODY with the seed's key.
TELNYX_SIGNATURE = (
    "0PDwbZnZqTDrUbqZVY3FDSk3BMhXeZi6dMVUXdlkp0g+JEIHs9ge0KGsPnhHPDG7ZuIJz4abXjpMsDiBMppSCA=="
)


def test_the_telnyx_vector_follows_the_documented_algorithm() -> None:
    key = SigningKey(TELNYX_SEED)
    assert base64.b64encode(bytes(key.verify_key)).decode() == TELNYX_PUBLIC_KEY
    signed = key.sign(f"{TELNYX_TIMESTAMP}|".encode() + TELNYX_BODY).signature
    assert base64.b64encode(signed).decode() == TELNYX_SIGNATURE  # Ed25519 is deterministic


def test_telnyx_vector_is_accepted() -> None:
    telnyx.verify_signature(
        TELNYX_BODY, TELNYX_SIGNATURE, TELNYX_TIMESTAMP, TELNYX_PUBLIC_KEY, now=NOW + 1
    )


@pytest.mark.parametrize(
    "signed",
    [
        f"{TELNYX_TIMESTAMP}.".encode() + TELNYX_BODY,
        TELNYX_BODY,
        TELNYX_BODY + f"|{TELNYX_TIMESTAMP}".encode(),
    ],
    ids=["dot", "body-only", "timestamp-after"],
)
def test_telnyx_signatures_over_another_layout_are_refused(signed: bytes) -> None:
    signature = base64.b64encode(SigningKey(TELNYX_SEED).sign(signed).signature).decode()
    with pytest.raises(SignatureError):
        telnyx.verify_signature(
            TELNYX_BODY, signature, TELNYX_TIMESTAMP, TELNYX_PUBLIC_KEY, now=NOW + 1
        )


# -- optline's own: X-Optline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

GENERIC_SECRET = "whsec_test_0123456789"
GENERIC_BODY = (
    b'{"id":"gw-81f2","from":"+14155550100","to":"+14155550199","text":"Stop. Thank you"}'
)
GENERIC_HEADER = "t=1760000000,v1=4b9c88cff54f954f4b4244daa923ecc6ab3b95c7981556285fcd8884059f655c"


def _optline_mac(secret: str, signed: bytes) -> str:
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def test_the_generic_vector_follows_the_documented_algorithm() -> None:
    documented = _optline_mac(GENERIC_SECRET, f"{NOW}.".encode() + GENERIC_BODY)
    assert f"t={NOW},v1={documented}" == GENERIC_HEADER


def test_the_generic_gateway_signs_and_checks_the_vector() -> None:
    assert generic.sign(GENERIC_SECRET, GENERIC_BODY, NOW) == GENERIC_HEADER
    generic.verify_signature(GENERIC_SECRET, GENERIC_BODY, GENERIC_HEADER, now=NOW + 1)


@pytest.mark.parametrize(
    "signed",
    [
        f"{NOW}:".encode() + GENERIC_BODY,
        f"{NOW}".encode() + GENERIC_BODY,
        GENERIC_BODY,
        GENERIC_BODY + f".{NOW}".encode(),
    ],
    ids=["colon", "no-separator", "body-only", "timestamp-after"],
)
def test_generic_signatures_over_another_layout_are_refused(signed: bytes) -> None:
    header = f"t={NOW},v1={_optline_mac(GENERIC_SECRET, signed)}"
    with pytest.raises(SignatureError):
        generic.verify_signature(GENERIC_SECRET, GENERIC_BODY, header, now=NOW)


EVENT_SECRET = "whsec_ev_5a1b2c3d4e5f6a7b"
EVENT = Notification(
    account_id=1,
    subscription_id=3,
    id=7,
    url="https://hooks.example.com/optline",
    secret=EVENT_SECRET,
    payload={
        "id": "1-42",
        "type": "opted_out",
        "phone": "+14155550100",
        "data": {"sender": "+14155550199"},
        "occurred_at": "2025-10-09T08:53:20+00:00",
        "seq": 42,
        "hash": "ab" * 32,
    },
    attempts=0,
)
# The body as sent (compact JSON) and its header, signed at 1760000007.
EVENT_BODY = (
    b'{"id":"1-42","type":"opted_out","phone":"+14155550100","data":{"sender":"+14155550199"},'
    b'"occurred_at":"2025-10-09T08:53:20+00:00","seq":42,"hash":"' + b"ab" * 32 + b'"}'
)
EVENT_HEADER = "t=1760000007,v1=082d35b850dcb9c563f81068f4f95191d2d0d8e98849ff5108eb28545b016a4e"


def test_the_event_webhook_vector_follows_the_documented_algorithm() -> None:
    documented = _optline_mac(EVENT_SECRET, f"{NOW + 7}.".encode() + EVENT_BODY)
    assert f"t={NOW + 7},v1={documented}" == EVENT_HEADER


def test_an_event_webhook_is_delivered_signed_as_documented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[httpx.Request] = []

    def subscriber(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(time, "time", lambda: NOW + 7.6)  # signed at this moment
    with httpx.Client(transport=httpx.MockTransport(subscriber)) as client:
        assert deliver(client, EVENT) is None

    (request,) = sent
    assert str(request.url) == EVENT.url
    assert request.content == EVENT_BODY
    assert request.headers["X-Optline-Signature"] == EVENT_HEADER
    assert request.headers[EVENT_ID_HEADER] == "1-42"


def _off_by_one(signature: str) -> dict[str, str]:
    last = "0" if signature[-1] != "0" else "1"
    return {
        "last character": signature[:-1] + last,
        "one shorter": signature[:-1],
        "one longer": signature + signature[-1],
    }


@pytest.mark.parametrize("what", ["last character", "one shorter", "one longer"])
def test_a_vector_off_by_one_character_is_refused(what: str) -> None:
    v1 = GENERIC_HEADER.partition(",v1=")[2]
    with pytest.raises(SignatureError):
        header = f"t={NOW},v1={_off_by_one(v1)[what]}"
        generic.verify_signature(GENERIC_SECRET, GENERIC_BODY, header, now=NOW)
    with pytest.raises(SignatureError):
        forged = _off_by_one(TWILIO_FORM_SHA1.rstrip("="))[what] + "="
        twilio.verify_signature(TWILIO_URL, TWILIO_FORM, forged, TWILIO_TOKEN)
    with pytest.raises(SignatureError):
        forged = _off_by_one(TELNYX_SIGNATURE.rstrip("="))[what] + "=="
        telnyx.verify_signature(
            TELNYX_BODY, forged, TELNYX_TIMESTAMP, TELNYX_PUBLIC_KEY, now=NOW + 1
        )
