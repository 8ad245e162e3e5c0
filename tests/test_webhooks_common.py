"""What every provider's webhook shares: never a 5xx under fuzzing, long texts kept whole."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from webhook_support import (
    ACME,
    BOB,
    FORM,
    GEN,
    PROBLEM,
    TW,
    TW_B,
    TW_QUIET,
    TX,
    UNKNOWN,
    World,
    assert_problem,
    generic_message,
    telnyx_delivery,
    telnyx_inbound,
    twilio_form,
    twilio_status,
)

from optline.api.deps import inbound_body_limit
from optline.domain.consent_codes import Status
from optline.domain.inputs import MAX_INBOUND_CHARS
from optline.providers import signing
from optline.providers.base import Provider
from optline.providers.registry import PROVIDERS
from optline.settings import Settings

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


# -- long texts ----------------------------------------------------------------------------

_SMALL_TALK = "Thanks for the reminder, and sorry I could not make it on Tuesday. "


def _long_text(ending: str, length: int) -> str:
    """Small talk, then ``ending`` as its last sentence: ``length`` characters."""
    talk = _SMALL_TALK * ((length - len(ending)) // len(_SMALL_TALK))
    return talk + " " * (length - len(talk) - len(ending)) + ending


def _send_inbound(world: World, provider: str, text: str, message_id: str) -> httpx.Response:
    """One inbound text from Bob, as ``provider`` delivers it."""
    if provider == "twilio":
        return world.twilio(twilio_form(text, sid=message_id))
    if provider == "telnyx":
        return world.telnyx(telnyx_inbound(text, message_id))
    return world.generic(generic_message(text, message_id))


_SENDERS = {"twilio": TW, "telnyx": TX, "generic": GEN}


@pytest.mark.parametrize("provider", list(_SENDERS))
@pytest.mark.parametrize("ending", ["STOP", "Please stop texting me"])
def test_a_long_text_ending_in_an_opt_out_opts_out_and_is_kept_whole(
    default_world: World, provider: str, ending: str
) -> None:
    """Carriers join long texts, and gateways other than Twilio deliver more than 1,600
    characters: a 2,029-character text whose last sentence asks to stop opts out, and
    is stored as it came."""
    world = default_world
    text = _long_text(ending, 2029)
    response = _send_inbound(world, provider, text, "SMlong" + "0" * 28)
    assert response.status_code == 200, response.text
    assert world.status(_SENDERS[provider]) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    [inbound] = [m for m in world.engine.history(ACME, BOB)[1] if m.direction == "in"]
    assert inbound.body == text


@pytest.mark.parametrize("provider", list(_SENDERS))
def test_the_longest_text_is_taken_in_its_widest_encoding(
    default_world: World, provider: str
) -> None:
    """64 Ki characters of emoji: 12 bytes each in Twilio's form and in JSON's escapes
    (the tests' JSON escapes every non-ASCII character), far past the API's own body
    limit, and still one text, read whole: its last word is STOP."""
    world = default_world
    text = "\U0001f600" * (MAX_INBOUND_CHARS - 5) + " STOP"
    assert len(text) == MAX_INBOUND_CHARS
    response = _send_inbound(world, provider, text, "SMwide" + "0" * 28)
    assert response.status_code == 200, response.text
    assert world.status(_SENDERS[provider]) is Status.OPTED_OUT
    [inbound] = [m for m in world.engine.history(ACME, BOB)[1] if m.direction == "in"]
    assert inbound.body == text


@pytest.mark.parametrize("provider", list(_SENDERS))
def test_a_text_longer_than_any_carrier_delivers_is_refused_and_nothing_kept(
    default_world: World, provider: str
) -> None:
    world = default_world
    before = world.counts()
    text = _long_text("STOP", MAX_INBOUND_CHARS + 1)
    response = _send_inbound(world, provider, text, "SMhuge" + "0" * 28)
    assert_problem(response, 422, "text_too_long")
    assert str(MAX_INBOUND_CHARS) in response.json()["detail"]
    assert world.counts() == before
    assert world.engine.contact(ACME, BOB) is None
    assert world.fake.requests == []


# -- the size limit and the signature -----------------------------------------------------

_WEBHOOKS = [
    (provider, f"/webhooks/{webhook.path}")
    for provider in PROVIDERS.values()
    for webhook in provider.webhooks
]


@pytest.mark.parametrize(("provider", "path"), _WEBHOOKS, ids=[p for _, p in _WEBHOOKS])
def test_an_oversized_webhook_is_403_unsigned_and_413_signed(
    world: World, provider: Provider[Any], path: str
) -> None:
    """An unsigned request is refused before its body is read, whatever its size (no
    provider sends one); a signed one over the limit is 413 (docs/api.md#errors)."""
    body = b"x" * (inbound_body_limit(Settings()) + 1)
    before = world.counts()
    unsigned = world.client.post(path, content=body, headers=FORM)
    assert_problem(unsigned, 403, "bad_signature")
    signed = {name: "c2lnbmVk" for name in provider.signature_headers}
    oversized = world.client.post(path, content=body, headers={**FORM, **signed})
    assert_problem(oversized, 413, "body_too_large")
    assert world.counts() == before
