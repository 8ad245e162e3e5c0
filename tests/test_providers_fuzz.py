"""Property tests: whatever arrives, webhook code raises only PayloadError/SignatureError."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_samples import FINALIZED_BLOCKED, INBOUND, PUBLIC_KEY, RECEIVED, STATUS_FAILED, TOKEN

from optline.providers import (
    DeliveryReport,
    IgnoredEvent,
    InboundMessage,
    PayloadError,
    SignatureError,
    WebhookError,
    generic,
    signing,
    telnyx,
    twilio,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point, lone surrogates included, plus a few oversized values.
odd_text = st.one_of(
    st.text(st.characters(exclude_categories=[]), max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud800", "STOP", "+14155550100", "١٢", "𝟘", "x" * 5000]),
    st.integers(min_value=0, max_value=10**30).map(str),
)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4)
    ),
    max_leaves=20,
)
form_values = st.one_of(odd_text, st.none(), st.integers(), st.binary(max_size=10))


def form_dicts(base: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    """Real fields with odd values, some dropped, plus arbitrary extra fields."""
    keys = st.sampled_from(sorted(base)) | odd_text
    return st.tuples(
        st.sets(st.sampled_from(sorted(base))),
        st.dictionaries(keys, form_values, max_size=8),
    ).map(lambda t: {k: v for k, v in base.items() if k not in t[0]} | t[1])


def mutated(event: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """A real event with one value somewhere replaced by arbitrary JSON."""

    def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [prefix]
        if isinstance(node, dict | list):
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                found += paths(child, (*prefix, key))
        return found

    def apply(path: tuple[Any, ...], value: Any) -> bytes:
        doc = copy.deepcopy(event)
        if not path:
            return json.dumps(value).encode()
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return json.dumps(doc).encode()

    return st.builds(apply, st.sampled_from(paths(event)), json_value)


json_bodies = st.one_of(
    st.binary(max_size=200),
    json_value.map(lambda v: json.dumps(v).encode()),
    mutated(RECEIVED),
    mutated(FINALIZED_BLOCKED),
)


@FUZZ
@given(form_dicts(INBOUND))
def test_twilio_inbound_raises_only_payload_error(params: dict[str, Any]) -> None:
    with contextlib.suppress(PayloadError):
        assert isinstance(twilio.parse_inbound(params), InboundMessage)


@FUZZ
@given(form_dicts(STATUS_FAILED))
def test_twilio_status_raises_only_payload_error(params: dict[str, Any]) -> None:
    with contextlib.suppress(PayloadError):
        assert isinstance(twilio.parse_status(params), DeliveryReport)


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_twilio_form_decoding_raises_only_payload_error(raw: bytes) -> None:
    try:
        form = twilio.parse_form(raw)
    except PayloadError:
        return
    with contextlib.suppress(PayloadError):
        twilio.parse_inbound(form)


@FUZZ
@given(odd_text, st.dictionaries(odd_text, odd_text, max_size=5), st.none() | odd_text)
def test_twilio_verify_raises_only_webhook_errors(
    url: str, params: dict[str, str], signature: str | None
) -> None:
    for target in (url, "https://sms.example.com/webhooks/twilio?bodySHA256=" + url):
        with contextlib.suppress(WebhookError):
            twilio.verify_signature(target, params, signature, TOKEN)
        with contextlib.suppress(WebhookError):
            twilio.verify_json_signature(target, url.encode("utf-8", "replace"), signature, TOKEN)


@FUZZ
@given(json_bodies)
def test_telnyx_parse_raises_only_payload_error(body: bytes) -> None:
    try:
        event = telnyx.parse_webhook(body)
    except PayloadError:
        return
    assert isinstance(event, InboundMessage | DeliveryReport | IgnoredEvent)


@FUZZ
@given(
    st.binary(max_size=100),
    st.none()
    | odd_text
    | st.binary(min_size=64, max_size=64).map(lambda b: base64.b64encode(b).decode()),
    st.none() | odd_text,
    st.floats(min_value=0, max_value=4e9),
)
def test_telnyx_verify_raises_only_signature_error(
    body: bytes, signature: str | None, timestamp: str | None, now: float
) -> None:
    with contextlib.suppress(SignatureError):
        telnyx.verify_signature(body, signature, timestamp, PUBLIC_KEY, now=now)


@FUZZ
@given(
    st.one_of(
        json_bodies,
        st.dictionaries(
            st.sampled_from(["id", "from", "to", "text", "media_count", "provider_replied"]),
            json_value,
        ).map(lambda d: json.dumps(d).encode()),
    )
)
def test_generic_parse_raises_only_payload_error(body: bytes) -> None:
    with contextlib.suppress(PayloadError):
        assert isinstance(generic.parse_inbound(body), InboundMessage)


@FUZZ
@given(st.binary(max_size=100), st.none() | odd_text, st.floats(min_value=0, max_value=4e9))
def test_generic_verify_raises_only_signature_error(
    body: bytes, header: str | None, now: float
) -> None:
    with contextlib.suppress(SignatureError):
        generic.verify_signature("secret", body, header, now=now)


@FUZZ
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=10**11), odd_text)
def test_sign_then_verify_round_trips(body: bytes, timestamp: int, secret: str) -> None:
    secret_bytes = secret.encode("utf-8", "surrogatepass")
    header = signing.sign(secret_bytes, body, timestamp)
    assert signing.verify(secret_bytes, body, header, now=timestamp) == timestamp
