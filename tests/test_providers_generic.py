"""Generic JSON webhook and the shared timestamped HMAC signing scheme."""

from __future__ import annotations

import json

import pytest

from optline.providers import PayloadError, SignatureError, generic, signing

SECRET = "whsec_test_0123456789"
NOW = 1_760_000_000
BODY = json.dumps(
    {"id": "gw-81f2", "from": "+14155550100", "to": "+14155550199", "text": "Stop. Thank you"}
).encode()


def test_sign_produces_timestamp_and_hex_mac() -> None:
    header = generic.sign(SECRET, BODY, NOW)
    t, v1 = header.split(",")
    assert t == f"t={NOW}"
    assert v1.startswith("v1=") and len(v1) == 3 + 64
    assert header == signing.sign(SECRET, BODY, NOW)  # one primitive for both uses


def test_valid_signature_accepted() -> None:
    header = generic.sign(SECRET, BODY, NOW)
    generic.verify_signature(SECRET, BODY, header, now=NOW + 10)


def test_bytes_secret_same_as_str() -> None:
    header = generic.sign(SECRET.encode(), BODY, NOW)
    generic.verify_signature(SECRET, BODY, header, now=NOW)


def test_rotated_secret_any_v1_may_match() -> None:
    old = generic.sign("old-secret", BODY, NOW).split(",")[1]
    header = generic.sign(SECRET, BODY, NOW) + "," + old
    generic.verify_signature("old-secret", BODY, header, now=NOW)
    generic.verify_signature(SECRET, BODY, header, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"t={NOW}",
        "v1=" + "0" * 64,
        f"t=abc,v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        f"t={NOW},v1={'0' * 64}",
        f"t={NOW},v0=" + "0" * 64,
        f"t={NOW},v1=ünïcode",
    ],
)
def test_missing_or_malformed_header_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        generic.verify_signature(SECRET, BODY, header, now=NOW)


def test_wrong_secret_refused() -> None:
    header = generic.sign("another-secret", BODY, NOW)
    with pytest.raises(SignatureError, match="does not match"):
        generic.verify_signature(SECRET, BODY, header, now=NOW)


def test_tampered_body_refused() -> None:
    header = generic.sign(SECRET, BODY, NOW)
    with pytest.raises(SignatureError):
        generic.verify_signature(SECRET, BODY.replace(b"Stop", b"Stay"), header, now=NOW)


def test_timestamp_swapped_into_old_mac_refused() -> None:
    mac = generic.sign(SECRET, BODY, NOW).split(",")[1]
    with pytest.raises(SignatureError):
        generic.verify_signature(SECRET, BODY, f"t={NOW + 1},{mac}", now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_stale_or_future_timestamp_refused(skew: int) -> None:
    header = generic.sign(SECRET, BODY, NOW)
    with pytest.raises(SignatureError, match="window"):
        generic.verify_signature(SECRET, BODY, header, now=NOW + skew)


@pytest.mark.parametrize("skew", [300, -300, 0])
def test_edge_of_window_accepted(skew: int) -> None:
    generic.verify_signature(SECRET, BODY, generic.sign(SECRET, BODY, NOW), now=NOW + skew)


def test_verify_returns_timestamp_default_now() -> None:
    header = signing.sign(SECRET, BODY)  # current time
    assert signing.verify(SECRET, BODY, header) > NOW


def test_parse_inbound() -> None:
    message = generic.parse_inbound(BODY)
    assert message.provider == "generic"
    assert message.provider_id == "gw-81f2"
    assert (message.from_, message.to) == ("+14155550100", "+14155550199")
    assert message.body == "Stop. Thank you"
    assert message.provider_replied is False
    assert message.media_count == 0


def test_parse_inbound_optional_fields() -> None:
    body = json.loads(BODY)
    body |= {"media_count": 2, "provider_replied": True, "text": ""}
    message = generic.parse_inbound(json.dumps(body).encode())
    assert (message.media_count, message.provider_replied, message.body) == (2, True, "")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'{"from": "+1", "to": "+2", "text": "hi"}', "missing field id"),
        (b'{"id": "x", "to": "+2", "text": "hi"}', "missing field from"),
        (b'{"id": "x", "from": "+1", "to": "+2"}', "missing field text"),
        (b'{"id": 5, "from": "+1", "to": "+2", "text": "hi"}', "id must be a string"),
        (b'{"id": "x", "from": "+1", "to": "+2", "text": null}', "text must be a string"),
        (b'{"id": "  ", "from": "+1", "to": "+2", "text": "hi"}', "id is empty"),
        (b'{"id": "x\\u0000", "from": "+1", "to": "+2", "text": "hi"}', "NUL"),
        (b'{"id": "x", "from": "+1", "to": "+2", "text": "\\ud800"}', "surrogate"),
        (b'{"id": "x", "from": "+1", "to": "+2", "text": "hi", "media_count": -1}', "media"),
        (b'{"id": "x", "from": "+1", "to": "+2", "text": "hi", "media_count": true}', "media"),
        (b'{"id": "x", "from": "+1", "to": "+2", "text": "a", "provider_replied": 1}', "true"),
        (b'{"id": "x", "from": "+1", "to": "+2", "text": NaN}', "NaN"),
    ],
)
def test_parse_inbound_bad_bodies_say_what(body: bytes, says: str) -> None:
    with pytest.raises(PayloadError, match=says):
        generic.parse_inbound(body)


def test_oversized_id_refused() -> None:
    body = {"id": "x" * 10_000, "from": "+1", "to": "+2", "text": "hi"}
    with pytest.raises(PayloadError, match="longer"):
        generic.parse_inbound(json.dumps(body).encode())


def test_deep_nesting_refused() -> None:
    with pytest.raises(PayloadError):
        generic.parse_inbound(b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
