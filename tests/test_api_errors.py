"""Every bad input is a 4xx problem document with a stable code, never a 5xx.

Hand-picked bad inputs first, then schemathesis against the app's own OpenAPI schema
and hypothesis on JSON bodies, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from account_support import HELP_CONTACT
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from nacl.signing import SigningKey
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    use_after_free,
)
from test_api_support import (
    ADMIN_KEY,
    BOB,
    EVE,
    PROBLEM,
    ZED,
    A,
    Tenant,
    assert_problem,
    auth,
)

from optline.api.app import Settings, create_app
from optline.engine import Engine

JSON = {"Content-Type": "application/json"}


def raw(tenant: Tenant, method: str, path: str, content: bytes, **headers: str) -> Any:
    return tenant.client.request(
        method, path, content=content, headers={**tenant.headers, **JSON, **headers}
    )


def test_bad_inputs_are_problems_with_stable_codes(acme: Tenant) -> None:
    acme.ok("POST", "/v1/lists", {"name": "news"}, status=201)
    cases: list[tuple[Any, int, str]] = [
        (acme.get("/v1/contacts/555"), 422, "bad_input"),
        (acme.post("/v1/messages", {"from": A, "to": "+1 nope", "body": "hi"}), 422, "bad_input"),
        (
            acme.post("/v1/messages", {"from": "+14155550999", "to": BOB, "body": "hi"}),
            404,
            "unknown_sender",
        ),
        (acme.post("/v1/lists/nope/members", {"numbers": [BOB]}), 404, "unknown_list"),
        (acme.post("/v1/messages", {"from": A, "body": "hi"}), 422, "invalid_request"),
        (acme.post("/v1/messages", {"from": A, "to": BOB, "body": 5}), 422, "invalid_request"),
        (acme.post("/v1/messages", {"from": A, "to": [BOB], "body": "x"}), 422, "invalid_request"),
        (acme.post("/v1/messages", [1, 2]), 422, "invalid_request"),
        (
            acme.post("/v1/messages", {"from": A, "to": BOB, "body": "x" * 1601}),
            422,
            "bad_input",
        ),
        (acme.post("/v1/opt-outs", {"numbers": "+14155552671"}), 422, "invalid_request"),
        (
            acme.post("/v1/subscriptions", {"url": "ftp://x.example", "events": ["opted_out"]}),
            422,
            "bad_input",
        ),
        (acme.get("/v1/contacts?limit=abc"), 422, "invalid_request"),
        (acme.get("/v1/nowhere"), 404, "not_found"),
        (acme.delete("/v1/contacts"), 405, "method_not_allowed"),
    ]
    for response, status, code in cases:
        body = assert_problem(response, status, code)
        assert len(body["detail"]) > 5


def test_missing_field_names_the_field(acme: Tenant) -> None:
    body = assert_problem(acme.post("/v1/messages", {"from": A, "body": "hi"}), 422)
    assert "to" in body["detail"]
    assert any(e["field"].endswith("to") for e in body["errors"])


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b'{"from": "+14155550100", "to": ',
        b"not json",
        b'{"from": "\xff\xfe", "to": "+14155552671", "body": "hi"}',
        b"\xef\xbb\xbf{}",
        b'{"from": "+14155550100", "to": "+14155552671", "body": "\xed\xa0\x80"}',
    ],
)
def test_unparsable_bodies_are_4xx_problems(acme: Tenant, content: bytes) -> None:
    response = raw(acme, "POST", "/v1/messages", content)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


_SEND = json.dumps({"from": A, "to": BOB, "body": "hi"}).encode()


@pytest.mark.parametrize(
    ("content", "headers", "status", "code", "detail"),
    [
        (b"", JSON, 422, "invalid_request", "body: Field required"),
        (b"null", JSON, 422, "invalid_request", "body: Input should be a valid dictionary"),
        (_SEND, {"Content-Type": "text/plain"}, 422, "invalid_request", "body: Input should"),
        (_SEND, {}, 422, "invalid_request", "body: Input should be a valid dictionary"),
        (_SEND, {"Content-Type": "application/merge-patch+json"}, 200, None, None),
        (_SEND, {"Content-Type": "Application/JSON; charset=utf-8"}, 200, None, None),
        # The body is read and parsed before the key is looked at, as FastAPI does.
        (b"{", {**JSON, "Authorization": ""}, 400, "invalid_json", "request body is not valid"),
        (b'{"from": 1}', {**JSON, "Authorization": "Bearer x"}, 401, "unauthorized", "unknown"),
        (_SEND, {**JSON, "Authorization": ""}, 401, "unauthorized", "missing API key"),
    ],
)
def test_the_send_reads_its_body_as_a_body_parameter_is_read(
    acme: Tenant, content: bytes, headers: dict[str, str], status: int, code: str, detail: str
) -> None:
    sent = {k: v for k, v in {**acme.headers, **headers}.items() if v}
    response = acme.client.post("/v1/messages", content=content, headers=sent)
    if code is None:
        assert response.status_code == status, response.text
        return
    body = assert_problem(response, status, code)
    assert body["detail"].startswith(detail), body["detail"]


def test_text_that_no_database_can_store_is_refused(acme: Tenant) -> None:
    """NUL characters and lone surrogates (both valid JSON escapes) are bad input."""
    for name in ["a\u0000b", "\ud800", "x\udfff"]:
        body = json.dumps({"name": name}).encode()
        assert_problem(raw(acme, "POST", "/v1/lists", body), 422)
        body = json.dumps({"from": A, "to": BOB, "body": name}).encode()
        assert_problem(raw(acme, "POST", "/v1/messages", body), 422)
    assert_problem(acme.get("/v1/contacts?cursor=%00"), 422)
    # A literal backslash-u sequence is ordinary text.
    body = json.dumps({"name": "back\\u0000slash"}).encode()
    assert raw(acme, "POST", "/v1/lists", body).status_code == 201


_DEEP = b"[" * 20000 + b"]" * 20000
_DEEP_NUL = b"[" * 20000 + b'"\\u0000"' + b"]" * 20000
_LONG_INTEGER = b"9" * 5000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/messages"),
        ("POST", "/v1/lists"),
        ("POST", "/v1/subscriptions"),
        ("PUT", "/v1/policy"),
        ("POST", "/v1/accounts"),
    ],
)
def test_json_past_the_parsers_limits_is_invalid_json(acme: Tenant, method: str, path: str) -> None:
    """Nesting deeper than the recursion limit, or an integer of more digits than Python
    converts, is unreadable JSON like any other (400), and nothing is changed."""
    before = acme.ok("GET", "/v1/policy"), acme.ok("GET", "/v1/lists")
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"} if path == "/v1/accounts" else {}
    long_integers = [_LONG_INTEGER, b'{"name": ' + _LONG_INTEGER + b"}"]
    for content in [_DEEP, _DEEP_NUL, *long_integers]:
        response = raw(acme, method, path, content, **admin)
        body = assert_problem(response, 400, "invalid_json")
        assert body["detail"].startswith("request body is not valid JSON: "), body
    assert (acme.ok("GET", "/v1/policy"), acme.ok("GET", "/v1/lists")) == before
    assert acme.ok("GET", "/v1/contacts")["contacts"] == []
    assert acme.ok("GET", "/v1/messages?status=queued")["messages"] == []


def test_unstorable_text_nested_deep_in_a_body_is_refused(acme: Tenant) -> None:
    """Nested as deep as the parser allows, a NUL is still found (and the search does
    not exhaust the stack)."""
    nested = b"[" * 900 + b'"\\u0000"' + b"]" * 900
    content = b'{"overrides": {"brand": ' + nested + b"}}"
    assert_problem(raw(acme, "PUT", "/v1/policy", content), 422, "bad_text")
    assert acme.ok("GET", "/v1/policy")["overrides"] == HELP_CONTACT


# -- inputs accepted once would be unusable later ----------------------------------------

_TELNYX_KEY = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()


@pytest.mark.parametrize(
    "public_key",
    [
        "nope",
        "",
        base64.b64encode(b"k" * 31).decode(),
        base64.b64encode(b"k" * 33).decode(),
        _TELNYX_KEY[:-1],
        _TELNYX_KEY + "\n",
    ],
)
def test_a_telnyx_sender_needs_a_usable_public_key(acme: Tenant, public_key: str) -> None:
    """Every webhook to a sender whose key cannot be loaded would be refused (403)."""
    sender = {"number": ZED, "provider": "telnyx"}
    credentials = {"api_key": "KEY123", "public_key": public_key}
    response = acme.post("/v1/senders", {**sender, "credentials": credentials})
    body = assert_problem(response, 422, "bad_input")
    assert "public_key" in body["detail"], body
    assert ZED not in {s["number"] for s in acme.ok("GET", "/v1/senders")["senders"]}
    credentials["public_key"] = _TELNYX_KEY
    acme.ok("POST", "/v1/senders", {**sender, "credentials": credentials}, status=201)


@pytest.mark.parametrize("name", ["a/b", "/", ".", "..", " .. ", "a\tb", "a\nb", "a\u200bb"])
def test_list_names_that_a_path_cannot_hold_are_refused(acme: Tenant, name: str) -> None:
    assert_problem(acme.post("/v1/lists", {"name": name}), 422, "bad_input")
    assert acme.ok("GET", "/v1/lists")["lists"] == []


def test_a_new_list_is_answered_as_stored(acme: Tenant) -> None:
    created = acme.ok("POST", "/v1/lists", {"name": "  vip  ", "opt_out_keyword": "No VIP"}, 201)
    assert created == {"name": "vip", "opt_out_keyword": "no vip", "purpose": None}
    assert acme.ok("GET", "/v1/lists")["lists"] == [created]


@pytest.mark.parametrize("name", ["100% news", "a?b#c", "a\\b", "café ☕", "+cmd|x", "a.b", "..."])
def test_list_names_of_printable_characters_are_managed_by_path(acme: Tenant, name: str) -> None:
    acme.ok("POST", "/v1/lists", {"name": name}, status=201)
    members = f"/v1/lists/{quote(name, safe='')}/members"
    assert acme.ok("POST", members, {"numbers": [BOB]}) == {"subscribed": 1}
    assert acme.ok("GET", f"/v1/contacts/{BOB}")["lists"] == {name: True}
    acme.ok("DELETE", f"{members}/{BOB}")
    assert acme.ok("GET", f"/v1/contacts/{BOB}")["lists"] == {name: False}


@pytest.mark.parametrize("kind", ["short_code", "long_code"])
def test_short_codes_are_written_in_ascii_digits(acme: Tenant, kind: str) -> None:
    """Arabic-Indic digits would make a sender distinct from 12345."""
    response = acme.post("/v1/senders", {"number": "\u0661\u0662\u0663\u0664\u0665", "kind": kind})
    assert_problem(response, 422, "bad_input")
    acme.ok("POST", "/v1/senders", {"number": "12345", "kind": "short_code"}, status=201)
    short_codes = [s for s in acme.ok("GET", "/v1/senders")["senders"] if s["kind"] == "short_code"]
    assert [s["number"] for s in short_codes] == ["12345"]


@pytest.mark.parametrize("cursor", ["zzz", "9" * 5000, "+" + "9" * 5000, "14155552671", "+", " "])
def test_a_contacts_cursor_that_no_page_gave_is_refused(acme: Tenant, cursor: str) -> None:
    acme.ok("POST", "/v1/opt-outs", {"numbers": [BOB, EVE]})
    response = acme.get("/v1/contacts", params={"cursor": cursor})
    assert_problem(response, 400, "invalid_cursor")
    first = acme.ok("GET", "/v1/contacts?limit=1")
    rest = acme.ok("GET", f"/v1/contacts?cursor={quote(first['next_cursor'])}")
    assert [c["phone"] for c in first["contacts"] + rest["contacts"]] == sorted([BOB, EVE])


def test_bodies_past_the_limit_are_413(engine: Engine) -> None:
    app = create_app(Settings(admin_key=ADMIN_KEY, max_body_bytes=2048, notify=False), engine)
    with TestClient(app) as client:
        body = {"name": "acme", "overrides": HELP_CONTACT}
        key = client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY)).json()["api_key"]
        tenant = Tenant(client, key, "acme")
        big = json.dumps({"numbers": ["+14155552671"] * 400}).encode()
        assert_problem(raw(tenant, "POST", "/v1/opt-outs", big), 413, "body_too_large")

        def chunks() -> Any:
            for _ in range(40):
                yield b" " * 100
            yield b"{}"

        # No Content-Length (chunked): refused while reading.
        response = client.post("/v1/opt-outs", content=chunks(), headers={**tenant.headers, **JSON})
        assert_problem(response, 413, "body_too_large")
        assert tenant.ok("GET", "/v1/contacts")["contacts"] == []


# -- hypothesis on JSON bodies ----------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "from",
    "to",
    "body",
    "list",
    "campaign",
    "numbers",
    "name",
    "profile",
    "overrides",
    "evidence",
    "sender",
    "note",
    "keyword",
    "reply",
    "url",
    "events",
    "number",
    "kind",
    "provider",
    "credentials",
    "opt_out_keyword",
]
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
    st.fixed_dictionaries(
        {"from": st.just(A), "to": st.text(max_size=20), "body": st.text(max_size=30)}
    ),
)
POSTS = [
    "/v1/messages",
    "/v1/broadcasts",
    "/v1/senders",
    "/v1/lists",
    "/v1/lists/news/members",
    "/v1/triggers",
    "/v1/opt-outs",
    "/v1/subscriptions",
    f"/v1/contacts/{BOB}/opt-in",
    f"/v1/contacts/{BOB}/opt-out",
    "/v1/messages/1/settle",
]


def test_arbitrary_json_bodies_never_cause_a_5xx(acme: Tenant) -> None:
    acme.ok("POST", "/v1/lists", {"name": "news"}, status=201)

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=st.sampled_from([*POSTS, "PUT /v1/policy"]), body=bodies)
    def check(path: str, body: Any) -> None:
        method, _, path = path.rpartition(" ")
        response = acme.client.request(method or "POST", path, json=body, headers=acme.headers)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert_problem(response, response.status_code)

    check()


# -- schemathesis against the OpenAPI schema -------------------------------------------


def seeded_app(engine: Engine) -> tuple[FastAPI, str]:
    """The app with an account that has a sender, a list and a contact on it."""
    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=engine)
    with TestClient(app) as client:
        body = {"name": "acme", "overrides": HELP_CONTACT}
        created = client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY))
        tenant = Tenant(client, created.json()["api_key"], "acme")
        tenant.ok("POST", "/v1/senders", {"number": A}, status=201)
        tenant.ok("POST", "/v1/lists", {"name": "news"}, status=201)
        tenant.ok("POST", "/v1/lists/news/members", {"numbers": [BOB]})
    return app, tenant.key


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schema_fuzz_no_5xx_and_responses_conform(engine: Engine, mode: GenerationMode) -> None:
    """Schemathesis cases for every operation of /openapi.json, sent with the account's
    key: never a 5xx, every error a problem document, every answer as documented."""
    app, key = seeded_app(engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/v1/")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema's every operation loads
        operations.append(result.ok())
    assert len(operations) >= 25
    for operation in operations:

        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode, headers=auth(key)))
        def check(case: Any) -> None:
            response = case.call()
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{where}: {response.text}"
            if response.status_code >= 400:
                (content_type,) = response.headers["content-type"]
                assert content_type.startswith(PROBLEM), f"{where}: {content_type}"
                problem = response.json()
                assert problem["code"] and problem["detail"], f"{where}: {problem}"
            case.validate_response(
                response,
                excluded_checks=[negative_data_rejection, positive_data_acceptance, use_after_free],
            )

        try:
            check()
        except Unsatisfiable:
            # No invalid request exists for an operation without inputs.
            assert mode is GenerationMode.NEGATIVE
