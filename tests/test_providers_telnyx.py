"""Telnyx webhooks: Ed25519 signature, message.received and delivery events."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from nacl.signing import SigningKey
from provider_samples import FINALIZED_BLOCKED, PUBLIC_KEY, RECEIVED, SIGNING_KEY

from optline.providers import (
    DeliveryReport,
    IgnoredEvent,
    InboundMessage,
    PayloadError,
    SignatureError,
    telnyx,
)

NOW = 1_760_000_000


def signed(body: bytes, timestamp: int = NOW, key: SigningKey = SIGNING_KEY) -> tuple[str, str]:
    signature = key.sign(str(timestamp).encode() + b"|" + body).signature
    return base64.b64encode(signature).decode(), str(timestamp)


def dump(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


# -- signatures -----------------------------------------------------------------------


def test_valid_signature_accepted() -> None:
    body = dump(RECEIVED)
    telnyx.verify_signature(body, *signed(body), PUBLIC_KEY, now=NOW + 5)


def test_preloaded_key_accepted() -> None:
    body = dump(RECEIVED)
    key = telnyx.load_public_key(PUBLIC_KEY)
    telnyx.verify_signature(body, *signed(body), key, now=NOW)


@pytest.mark.parametrize(("signature", "timestamp"), [(None, str(NOW)), ("c2ln", None), ("", "")])
def test_missing_headers_refused(signature: str | None, timestamp: str | None) -> None:
    with pytest.raises(SignatureError, match="missing"):
        telnyx.verify_signature(b"{}", signature, timestamp, PUBLIC_KEY, now=NOW)


def test_forged_signature_refused() -> None:
    body = dump(RECEIVED)
    with pytest.raises(SignatureError, match="does not match"):
        telnyx.verify_signature(body, *signed(body, key=SigningKey.generate()), PUBLIC_KEY, now=NOW)


def test_tampered_body_refused() -> None:
    body = dump(RECEIVED)
    signature, timestamp = signed(body)
    with pytest.raises(SignatureError):
        telnyx.verify_signature(
            body.replace(b"stop", b"shop"), signature, timestamp, PUBLIC_KEY, now=NOW
        )


def test_replayed_with_new_timestamp_refused() -> None:
    body = dump(RECEIVED)
    signature, _ = signed(body, NOW - 3600)
    with pytest.raises(SignatureError, match="does not match"):
        telnyx.verify_signature(body, signature, str(NOW), PUBLIC_KEY, now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 3600])
def test_stale_or_future_timestamp_refused(skew: int) -> None:
    body = dump(RECEIVED)
    with pytest.raises(SignatureError, match="window"):
        telnyx.verify_signature(body, *signed(body), PUBLIC_KEY, now=NOW + skew)


@pytest.mark.parametrize("signature", ["not base64!", "c2hvcnQ=", "é"])
def test_malformed_signature_refused(signature: str) -> None:
    with pytest.raises(SignatureError):
        telnyx.verify_signature(b"{}", signature, str(NOW), PUBLIC_KEY, now=NOW)


@pytest.mark.parametrize("timestamp", ["abc", "-1", "1.5", "١٢٣", "9" * 40])
def test_malformed_timestamp_refused(timestamp: str) -> None:
    with pytest.raises(SignatureError):
        telnyx.verify_signature(b"{}", "c2ln", timestamp, PUBLIC_KEY, now=NOW)


def test_bad_configured_key() -> None:
    with pytest.raises(ValueError):
        telnyx.load_public_key("not-a-key")
    body = dump(RECEIVED)
    with pytest.raises(SignatureError, match="public key"):
        telnyx.verify_signature(body, *signed(body), "c2hvcnQ=", now=NOW)


# -- parsing --------------------------------------------------------------------------


def test_message_received() -> None:
    event = telnyx.parse_webhook(dump(RECEIVED))
    assert isinstance(event, InboundMessage)
    assert event.provider == "telnyx"
    assert event.provider_id == "84cca175-9755-4859-b67f-4730d7f58aa3"
    assert (event.from_, event.to, event.body) == ("+13125550001", "+17735550002", "stop please")
    assert event.provider_replied is False
    assert event.media_count == 0
    assert event.account_ref == "740572b6-099c-44a1-89b9-6c92163bc68d"


def test_message_received_autoresponded_mms() -> None:
    event = copy.deepcopy(RECEIVED)
    payload = event["data"]["payload"]
    payload |= {
        "autoresponse_type": "opt_out",
        "text": None,
        "type": "MMS",
        "media": [{"url": "https://media.example/1.jpg", "content_type": "image/jpeg"}],
    }
    message = telnyx.parse_webhook(dump(event))
    assert isinstance(message, InboundMessage)
    assert message.provider_replied is True
    assert message.provider_keyword == "opt_out"
    assert (message.body, message.media_count) == ("", 1)


def test_finalized_40300_is_opted_out() -> None:
    report = telnyx.parse_webhook(dump(FINALIZED_BLOCKED))
    assert isinstance(report, DeliveryReport)
    assert report.provider_id == "40385f64-5717-4562-b3fc-2c963f66afa6"
    assert (report.from_, report.to) == ("+17735550002", "+13125550001")
    assert report.status == "delivery_failed"
    assert report.error_code == "40300"
    assert report.opted_out is True
    # Telnyx keeps opt-outs per messaging profile: the report names the text's.
    assert report.account_ref == "740572b6-099c-44a1-89b9-6c92163bc68d"


def test_numeric_error_code_and_other_errors() -> None:
    event = copy.deepcopy(FINALIZED_BLOCKED)
    event["data"]["payload"]["errors"] = [{"code": 40008, "title": "Undeliverable"}]
    report = telnyx.parse_webhook(dump(event))
    assert isinstance(report, DeliveryReport)
    assert (report.error_code, report.opted_out) == ("40008", False)


def test_delivered_without_errors() -> None:
    event = copy.deepcopy(FINALIZED_BLOCKED)
    event["data"]["payload"]["errors"] = []
    event["data"]["payload"]["to"][0]["status"] = "delivered"
    report = telnyx.parse_webhook(dump(event))
    assert isinstance(report, DeliveryReport)
    assert (report.status, report.error_code, report.opted_out) == ("delivered", None, False)


def test_other_event_ignored() -> None:
    event = {"data": {"event_type": "number_order.complete", "id": "e1", "payload": {}}}
    assert telnyx.parse_webhook(dump(event)) == IgnoredEvent(
        "telnyx", "number_order.complete", "e1"
    )


def mutate(path: list[str | int], value: Any, base: dict[str, Any] = RECEIVED) -> bytes:
    event = copy.deepcopy(base)
    target: Any = event
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return dump(event)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b"{}", "body.data must be an object"),
        (mutate(["data", "event_type"], KeyError), "missing field event_type"),
        (mutate(["data", "event_type"], 7), "event_type must be a string"),
        (mutate(["data", "payload"], "x"), "data.payload must be an object"),
        (mutate(["data", "payload", "id"], KeyError), "missing field id"),
        (mutate(["data", "payload", "from"], KeyError), "payload.from must be an object"),
        (mutate(["data", "payload", "from", "phone_number"], None), "phone_number must be"),
        (mutate(["data", "payload", "to"], []), "at least one recipient"),
        (mutate(["data", "payload", "to"], {"phone_number": "+1"}), "payload.to must be a list"),
        (mutate(["data", "payload", "text"], ["STOP"]), "text must be a string"),
        (mutate(["data", "payload", "media"], "x"), "media must be a list"),
        (mutate(["data", "payload", "media"], [{}] * 101), "media lists more"),
        (mutate(["data", "payload", "autoresponse_type"], 1), "autoresponse_type"),
        (mutate(["data", "payload", "errors"], ["40300"], FINALIZED_BLOCKED), "objects"),
        (mutate(["data", "payload", "errors"], [{"code": None}], FINALIZED_BLOCKED), "code"),
        (mutate(["data", "payload", "to", 0, "status"], 5, FINALIZED_BLOCKED), "status"),
    ],
)
def test_malformed_bodies_say_what(body: bytes, says: str) -> None:
    with pytest.raises(PayloadError, match=says):
        telnyx.parse_webhook(body)
