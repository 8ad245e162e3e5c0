"""The REST API (/v1) on the real app and real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import gc
import io
import json
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from account_support import HELP_CONTACT
from fakeprovider import FakeProvider, Reply
from fastapi.testclient import TestClient
from store_support import ANY_HOUR, consent_body, record_send
from test_api_support import (
    ADMIN_KEY,
    BOB,
    EVE,
    TF,
    ZED,
    A,
    B,
    Tenant,
    assert_problem,
    auth,
    new_tenant,
)
from typer.testing import CliRunner

from optline.api.app import Settings, app_from_env, create_app
from optline.cli import app as cli_app
from optline.engine import BROADCAST_CHUNK, Engine, SendResult
from optline.proof import check_proof
from optline.providers.base import RetryPolicy
from optline.providers.registry import Dispatcher
from optline.store import Store

# -- accounts and keys ------------------------------------------------------------------


def test_admin_creates_an_account_and_its_key_works(client: TestClient, store: Store) -> None:
    response = client.post(
        "/v1/accounts", json={"name": "acme", "profile": "twilio"}, headers=auth(ADMIN_KEY)
    )
    assert response.status_code == 201
    body = response.json()
    key = body["api_key"]
    assert key.startswith("ol_") and len(key) > 40
    assert body["account"]["name"] == "acme" and body["account"]["profile"] == "twilio"

    me = client.get("/v1/account", headers=auth(key))
    assert me.status_code == 200 and me.json()["name"] == "acme"
    assert "api_key" not in me.json()

    # Only the hash is stored: no column of any account row holds the key.
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM accounts")).all()
    stored = json.dumps([list(map(str, row)) for row in rows])
    assert key not in stored and key[3:] not in stored


def test_account_creation_needs_the_admin_key(client: TestClient) -> None:
    body = {"name": "acme", "overrides": HELP_CONTACT}
    assert_problem(client.post("/v1/accounts", json=body), 401, "unauthorized")
    assert_problem(
        client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY + "x")), 401, "unauthorized"
    )
    assert_problem(client.post("/v1/accounts", json=body, headers=auth("")), 401)
    tenant = new_tenant(client, "acme")
    # An account key is not an admin key.
    assert_problem(client.post("/v1/accounts", json={"name": "b"}, headers=tenant.headers), 401)
    assert_problem(client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY)), 409, "conflict")
    assert_problem(
        client.post("/v1/accounts", json={"name": "x", "profile": "nope"}, headers=auth(ADMIN_KEY)),
        422,
    )


def test_no_admin_key_configured_means_no_account_creation(engine: Engine) -> None:
    app = create_app(Settings(admin_key=None, notify=False), engine=engine)
    with TestClient(app) as client:
        response = client.post("/v1/accounts", json={"name": "a"}, headers=auth("anything"))
        assert_problem(response, 403, "admin_disabled")


def test_routes_need_a_valid_key(client: TestClient, acme: Tenant) -> None:
    assert_problem(client.get("/v1/account"), 401, "unauthorized")
    assert_problem(client.get("/v1/contacts", headers=auth("ol_wrong")), 401, "unauthorized")
    assert_problem(client.get("/v1/contacts", headers=auth(acme.key[:-1])), 401)
    assert_problem(client.get("/v1/contacts", headers={"Authorization": acme.key}), 401)
    assert acme.get("/v1/contacts").status_code == 200


# -- senders and policy -----------------------------------------------------------------


def test_senders_never_show_credentials(acme: Tenant) -> None:
    secret = "tok_" + "s" * 30
    added = acme.ok(
        "POST",
        "/v1/senders",
        {
            "number": "+1 415 555 0111",
            "provider": "twilio",
            "credentials": {"account_sid": "AC1", "auth_token": secret},
        },
        status=201,
    )
    assert added["number"] == "+14155550111"
    assert added["credentials"] == ["account_sid", "auth_token"]
    listed = acme.get("/v1/senders")
    assert secret not in listed.text and "AC1" not in listed.text
    assert [s["number"] for s in listed.json()["senders"]] == [
        A,
        B,
        "+14155550111",
        TF,
    ]
    assert_problem(acme.post("/v1/senders", {"number": A}), 409, "conflict")
    assert_problem(acme.post("/v1/senders", {"number": "12"}), 422, "bad_input")
    assert_problem(acme.post("/v1/senders", {"number": A, "provider": "twilio"}), 422)
    assert_problem(acme.post("/v1/senders", {"number": "+14155550112", "kind": "pager"}), 422)


def test_policy_read_switch_and_overrides(acme: Tenant) -> None:
    assert acme.ok("GET", "/v1/policy")["profile"] == "default"
    changed = acme.ok("PUT", "/v1/policy", {"profile": "twilio"})
    assert changed == {"profile": "twilio", "overrides": HELP_CONTACT, "contacts_changed": 0}
    changed = acme.ok("PUT", "/v1/policy", {"overrides": {"brand": "Acme Dental"}})
    assert changed == {
        "profile": "twilio",
        "overrides": {"brand": "Acme Dental"},
        "contacts_changed": 0,
    }
    assert acme.ok("GET", "/v1/policy")["overrides"] == {"brand": "Acme Dental"}

    assert_problem(acme.put("/v1/policy", {"overrides": {"no_such_field": 1}}), 422, "bad_input")
    assert_problem(acme.put("/v1/policy", {"profile": "nope"}), 422, "bad_input")
    assert_problem(acme.put("/v1/policy", {"overrides": {"brand": 5}}), 422)
    # A string is not a flag: stored, "false" would turn typo tolerance on.
    refused = acme.put("/v1/policy", {"overrides": {"typo_tolerance": "false"}})
    assert (
        "typo_tolerance must be true or false"
        in assert_problem(refused, 422, "bad_input")["detail"]
    )
    # Nothing changed by the refusals.
    assert acme.ok("GET", "/v1/policy")["overrides"] == {"brand": "Acme Dental"}


# -- contacts and consent actions -------------------------------------------------------


def test_consent_actions(acme: Tenant) -> None:
    out = acme.ok("POST", f"/v1/contacts/{BOB}/opt-out", {"note": "asked on the phone"})
    assert (out["phone"], out["status"]) == (BOB, "opted_out")
    # No body at all is fine too.
    assert acme.ok("POST", f"/v1/contacts/{EVE}/opt-out")["status"] == "opted_out"

    assert_problem(acme.post(f"/v1/contacts/{BOB}/opt-in", {}), 409, "refused_by_policy")
    back = acme.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "web form 2025-05-01"})
    assert back["status"] == "opted_in"

    blocked = acme.ok("POST", f"/v1/contacts/{BOB}/block")
    assert (blocked["status"], blocked["blocked"]) == ("blocked", True)
    unblocked = acme.ok("POST", f"/v1/contacts/{BOB}/unblock")
    # Unblocking does not opt back in.
    assert (unblocked["status"], unblocked["blocked"]) == ("opted_out", False)

    got = acme.ok("GET", f"/v1/contacts/{BOB.replace('+1', '')}")
    assert got["phone"] == BOB
    assert_problem(acme.get(f"/v1/contacts/{ZED}"), 404, "unknown_contact")
    assert_problem(acme.get("/v1/contacts/not-a-number"), 422, "bad_input")

    history = acme.ok("GET", f"/v1/contacts/{BOB}/history")
    assert [e["type"] for e in history["events"]] == [
        "opted_out",
        "opted_in",
        "blocked",
        "unblocked",
    ]
    assert history["events"][1]["data"].get("evidence") == "web form 2025-05-01"


def test_opt_in_is_refused_with_a_clear_problem_under_salesmsg(client: TestClient) -> None:
    tenant = new_tenant(client, "sm", profile="salesmsg", senders=(A,))
    tenant.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    body = assert_problem(
        tenant.post(f"/v1/contacts/{BOB}/opt-in", {"evidence": "signed form"}),
        409,
        "refused_by_policy",
    )
    assert "salesmsg" in body["detail"] and "opt" in body["detail"]
    assert tenant.ok("GET", f"/v1/contacts/{BOB}")["status"] == "opted_out"


def test_bulk_opt_out_is_all_or_nothing(acme: Tenant) -> None:
    assert_problem(acme.post("/v1/opt-outs", {"numbers": [BOB, "nonsense", EVE]}), 422)
    assert acme.ok("GET", "/v1/contacts")["contacts"] == []
    assert acme.ok("POST", "/v1/opt-outs", {"numbers": [BOB, EVE, BOB]}) == {"opted_out": 2}
    statuses = {c["phone"]: c["status"] for c in acme.ok("GET", "/v1/contacts")["contacts"]}
    assert statuses == {BOB: "opted_out", EVE: "opted_out"}
    assert_problem(acme.post("/v1/opt-outs", {"numbers": []}), 422, "invalid_request")


def numbers(count: int) -> list[str]:
    return [f"+1415555{3000 + i:04d}" for i in range(count)]


def test_contacts_filters_and_cursor_pagination(acme: Tenant) -> None:
    everyone = numbers(23)
    acme.ok("POST", "/v1/lists", {"name": "news"}, status=201)
    acme.ok("POST", "/v1/lists/news/members", {"numbers": everyone[:10]})
    acme.ok("POST", "/v1/contacts/+14155553011/opt-in", {"evidence": "form"})
    acme.ok("POST", "/v1/opt-outs", {"numbers": everyone[15:20]})
    acme.ok("POST", f"/v1/contacts/{everyone[3]}/block")
    for number in everyone[10:15] + everyone[20:]:
        acme.ok("POST", f"/v1/contacts/{number}/opt-in", {"evidence": "form"})

    def walk(query: str, limit: int) -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = f"?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
            page = acme.ok("GET", f"/v1/contacts{params}".replace("+", "%2B"))
            assert len(page["contacts"]) <= limit
            seen += [c["phone"] for c in page["contacts"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    for limit in (1, 4, 7, 23, 100):
        assert walk("", limit) == sorted(everyone)
    assert walk("&status=opted_out", 3) == sorted(everyone[15:20])
    assert walk("&status=blocked", 3) == [everyone[3]]
    assert walk("&list=news", 4) == [n for n in everyone[:10]]
    opted_in = sorted(set(everyone[10:15] + everyone[20:]))
    assert walk("&status=opted_in", 5) == opted_in
    # List members never opted in: nothing on record.
    assert walk("&status=no_consent", 4) == sorted(set(everyone[:10]) - {everyone[3]})
    assert_problem(acme.get("/v1/contacts?list=nope"), 404, "unknown_list")
    assert_problem(acme.get("/v1/contacts?status=maybe"), 422, "invalid_request")
    assert_problem(acme.get("/v1/contacts?limit=0"), 422, "invalid_request")


def test_csv_export_is_streamed_with_a_row_per_contact_and_scope(acme: Tenant) -> None:
    everyone = numbers(12)
    acme.ok("POST", "/v1/lists", {"name": "news"}, status=201)
    acme.ok("POST", "/v1/lists/news/members", {"numbers": everyone[:4]})
    acme.ok("POST", "/v1/opt-outs", {"numbers": everyone[4:6]})
    with acme.client.stream("GET", "/v1/contacts.csv", headers=acme.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "content-length" not in response.headers  # streamed, not buffered
        text = "".join(response.iter_text())
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["phone", "scope", "status", "since", "method", "event_seq", "purpose"]
    assert [r[0] for r in rows[1:]] == everyone[:6]
    # List members only: no consent on record.
    assert rows[1] == [everyone[0], "account", "no_consent", "", "", "", ""]
    history = acme.get(f"/v1/contacts/{everyone[4]}/history").json()
    (event,) = [e for e in history["events"] if e["type"] == "opted_out"]
    assert rows[5] == [
        everyone[4],
        "account",
        "opted_out",
        event["at"],
        "manual",
        str(event["seq"]),
        "",
    ]
    only_out = list(csv.reader(io.StringIO(acme.get("/v1/contacts.csv?status=opted_out").text)))
    assert [r[:3] for r in only_out[1:]] == [[p, "account", "opted_out"] for p in everyone[4:6]]


# -- lists and triggers -----------------------------------------------------------------


def test_lists_memberships_and_triggers(acme: Tenant) -> None:
    created = acme.ok("POST", "/v1/lists", {"name": "deals", "opt_out_keyword": "nodeals"}, 201)
    assert created == {"name": "deals", "opt_out_keyword": "nodeals", "purpose": None}
    assert_problem(acme.post("/v1/lists", {"name": "deals"}), 409, "conflict")
    assert acme.ok("GET", "/v1/lists")["lists"][0]["name"] == "deals"
    assert acme.ok("POST", "/v1/lists/deals/members", {"numbers": [BOB, EVE]}) == {"subscribed": 2}
    assert_problem(acme.post("/v1/lists/nope/members", {"numbers": [BOB]}), 404, "unknown_list")
    removed = acme.ok("DELETE", f"/v1/lists/deals/members/{EVE}")
    assert removed["lists"] == {"deals": False}
    assert_problem(acme.delete(f"/v1/lists/nope/members/{EVE}"), 404, "unknown_list")

    trigger = acme.ok(
        "POST",
        "/v1/triggers",
        {"keyword": "hours", "reply": "Open 9-5", "subscribe_list": "deals"},
        201,
    )
    assert trigger == {"keyword": "HOURS", "reply": "Open 9-5"}
    assert acme.ok("GET", "/v1/triggers")["triggers"] == [
        {
            "keyword": "HOURS",
            "reply": "Open 9-5",
            "unsubscribe_list": None,
            "subscribe_list": "deals",
            "confirm_purpose": None,
        }
    ]
    assert_problem(acme.post("/v1/triggers", {"keyword": "stop", "reply": "x"}), 422, "bad_input")
    assert_problem(acme.post("/v1/triggers", {"keyword": "hours", "reply": "x"}), 409)
    assert_problem(
        acme.post("/v1/triggers", {"keyword": "x1", "reply": "x", "unsubscribe_list": "nope"}),
        404,
        "unknown_list",
    )


# -- messages and broadcasts ------------------------------------------------------------


def test_a_message_is_read_back_by_its_id_as_it_is_now(acme: Tenant, engine: Engine) -> None:
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "booked online"})
    sent = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Your visit is at 3"})
    message = acme.ok("GET", f"/v1/messages/{sent['message_id']}")
    assert message["id"] == sent["message_id"]
    assert (message["direction"], message["phone"], message["sender"]) == ("out", BOB, A)
    assert (message["status"], message["reply"]) == ("sent", False)
    assert message["body"].startswith("Your visit is at 3")  # with the policy's footer
    # A provider's report moves it on (as the status webhooks record one); reading it
    # again shows where it got.
    with engine.store.transaction() as tx:
        tx.messages.set_status(
            engine.account("acme").id, sent["message_id"], "delivered", None, "SMx"
        )
    message = acme.ok("GET", f"/v1/messages/{sent['message_id']}")
    assert (message["status"], message["provider_id"]) == ("delivered", "SMx")
    assert_problem(acme.get("/v1/messages/999999"), 404, "unknown_message")
    assert_problem(acme.get("/v1/messages/0"), 422, "invalid_request")
    assert_problem(acme.get("/v1/messages/x"), 422, "invalid_request")
    assert_problem(acme.get(f"/v1/messages/{2**63}"), 422, "invalid_request")


def test_texts_left_queued_or_sending_are_listed_oldest_first(acme: Tenant, engine: Engine) -> None:
    # As a crash leaves them: recorded, never handed over (queued), or handed over with
    # no answer recorded (sending).
    account_id = engine.account("acme").id
    ids = {}
    with engine.store.transaction() as tx:
        for n, status in enumerate(["queued", "sending", "queued", "sent", "queued"]):
            ids[n] = record_send(tx, account_id, BOB, A, f"text {n}", status)
    engine.receive("acme", BOB, A, "hello", provider_id="SMin1")  # inbound: never listed

    first = acme.ok("GET", "/v1/messages?status=queued&limit=2")
    assert [m["id"] for m in first["messages"]] == [ids[0], ids[2]]
    assert first["next_cursor"] == ids[2]
    rest = acme.ok("GET", f"/v1/messages?status=queued&cursor={first['next_cursor']}")
    assert [(m["id"], m["body"]) for m in rest["messages"]] == [(ids[4], "text 4")]
    assert rest["next_cursor"] is None
    sending = acme.ok("GET", "/v1/messages?status=sending")["messages"]
    assert [(m["id"], m["status"]) for m in sending] == [(ids[1], "sending")]
    for bad in ("status=sent", "status=received", "", "status=queued&cursor=0"):
        assert_problem(acme.get(f"/v1/messages?{bad}"), 422, "invalid_request")


def test_messages_allowed_and_refused_are_recorded(acme: Tenant) -> None:
    refused = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Your visit is at 3"})
    assert (refused["allowed"], refused["reason"]) == (False, "no_consent")  # nothing on record
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "booked online"})
    sent = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Your visit is at 3"})
    assert (sent["allowed"], sent["status"], sent["reason"]) == (True, "sent", None)
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    refused = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Hello again"})
    assert (refused["allowed"], refused["status"], refused["reason"]) == (
        False,
        "failed",
        "opted_out",
    )
    history = acme.ok("GET", f"/v1/contacts/{BOB}/history")
    outbound = [(m["status"], m["reason"]) for m in history["messages"] if m["direction"] == "out"]
    assert outbound == [("failed", "no_consent"), ("sent", None), ("failed", "opted_out")]
    assert history["events"][-1]["type"] == "send_refused"

    assert_problem(
        acme.post("/v1/messages", {"from": "+14155550999", "to": BOB, "body": "x"}),
        404,
        "unknown_sender",
    )
    assert_problem(acme.post("/v1/messages", {"from": A, "to": "123", "body": "x"}), 422)
    assert_problem(
        acme.post("/v1/messages", {"from": A, "to": EVE, "body": "x", "list": "nope"}),
        404,
        "unknown_list",
    )


@pytest.fixture
def dispatching(store: Store, fake: FakeProvider) -> Iterator[Engine]:
    """An engine whose texts go to the fake provider."""
    dispatcher = Dispatcher(
        {"twilio": fake.url}, retry=RetryPolicy(attempts=2, initial_wait=0.01, timeout=5)
    )
    yield Engine(store, dispatch=dispatcher)
    dispatcher.close()


@pytest.fixture
def sending(dispatching: Engine) -> Iterator[Tenant]:
    """acme with a Twilio sender whose texts go to the fake provider. Texts to contacts
    with no consent on record are allowed (``no_consent: allow``): the hand-over is
    under test here, consent in test_consent_record.py."""
    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=dispatching)
    with TestClient(app) as client:
        tenant = new_tenant(client, "acme", overrides={"no_consent": "allow"})
        creds = {"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32}
        tenant.ok(
            "POST",
            "/v1/senders",
            {"number": A, "provider": "twilio", "credentials": creds},
            status=201,
        )
        yield tenant


def test_allowed_texts_reach_the_provider_and_refused_ones_never(
    sending: Tenant, fake: FakeProvider
) -> None:
    sending.ok("POST", f"/v1/contacts/{EVE}/opt-out")
    sent = sending.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Table for two"})
    assert sent["status"] == "sent" and sent["provider_id"].startswith("SM")
    refused = sending.ok("POST", "/v1/messages", {"from": A, "to": EVE, "body": "Dinner?"})
    assert (refused["status"], refused["reason"]) == ("failed", "opted_out")
    forms = [r.form for r in fake.requests]
    assert [(f["To"], f["Body"][0].startswith("Table for two")) for f in forms] == [([BOB], True)]
    history = sending.ok("GET", f"/v1/contacts/{BOB}/history")
    assert history["messages"][0]["provider_id"] == sent["provider_id"]


def test_a_provider_opt_out_answer_opts_the_recipient_out(
    sending: Tenant, fake: FakeProvider
) -> None:
    fake.script(Reply.opted_out())
    result = sending.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Hi"})
    assert result["status"] == "failed" and "21610" in (result["error"] or "")
    contact = sending.ok("GET", f"/v1/contacts/{BOB}")
    assert contact["status"] == "opted_out" or contact["senders"].get(A) == "opted_out"
    history = sending.ok("GET", f"/v1/contacts/{BOB}/history")
    assert [(m["status"], m["reason"]) for m in history["messages"]] == [("failed", "opted_out")]
    assert "opted_out" in [e["type"] for e in history["events"]]
    # The next text is refused here and never reaches the provider.
    again = sending.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Hi"})
    assert (again["status"], again["reason"]) == ("failed", "opted_out")
    assert len(fake.requests) == 1


# -- idempotency keys -----------------------------------------------------------------


def keyed(tenant: Tenant, key: str, text: dict[str, Any]) -> httpx.Response:
    headers = {**tenant.headers, "Idempotency-Key": key}
    response: httpx.Response = tenant.client.post("/v1/messages", json=text, headers=headers)
    return response


def outbound(tenant: Tenant, number: str) -> list[tuple[str, str | None]]:
    history = tenant.ok("GET", f"/v1/contacts/{number}/history")
    return [(m["status"], m["reason"]) for m in history["messages"] if m["direction"] == "out"]


def test_a_send_retried_with_its_idempotency_key_sends_one_text(
    sending: Tenant, fake: FakeProvider
) -> None:
    text = {"from": A, "to": BOB, "body": "Your table is ready"}
    first = keyed(sending, "order-1", text)
    again = keyed(sending, "order-1", text)
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json() == again.json()
    assert first.json()["status"] == "sent" and first.json()["provider_id"].startswith("SM")
    assert len(fake.requests) == 1
    assert outbound(sending, BOB) == [("sent", None)]
    # Another key is another text.
    assert keyed(sending, "order-2", text).json()["message_id"] != first.json()["message_id"]
    assert len(fake.requests) == 2


def test_an_idempotency_key_given_with_another_request_is_refused(
    sending: Tenant, fake: FakeProvider
) -> None:
    keyed(sending, "k-1", {"from": A, "to": BOB, "body": "Hello"})
    for other in (
        {"from": A, "to": BOB, "body": "Hello!"},
        {"from": A, "to": EVE, "body": "Hello"},
        {"from": A, "to": BOB, "body": "Hello", "campaign": True},
    ):
        assert_problem(keyed(sending, "k-1", other), 409, "idempotency_key_reused")
    assert len(fake.requests) == 1
    assert outbound(sending, BOB) == [("sent", None)] and outbound(sending, EVE) == []


def test_a_refused_send_replays_as_refused_with_one_event(sending: Tenant) -> None:
    sending.ok("POST", f"/v1/contacts/{EVE}/opt-out")
    text = {"from": A, "to": EVE, "body": "Last chance!"}
    first, again = keyed(sending, "promo-9", text), keyed(sending, "promo-9", text)
    assert (again.json()["status"], again.json()["reason"]) == ("failed", "opted_out")
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    events = sending.ok("GET", f"/v1/contacts/{EVE}/history")["events"]
    assert [e["type"] for e in events].count("send_refused") == 1


def test_idempotency_keys_belong_to_their_account(acme: Tenant) -> None:
    globex_sender = "+14155550177"
    other = new_tenant(acme.client, "globex", senders=(globex_sender,))
    for tenant in (acme, other):
        tenant.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "booked online"})
    mine = keyed(acme, "same", {"from": A, "to": BOB, "body": "Hi"})
    theirs = keyed(other, "same", {"from": globex_sender, "to": BOB, "body": "Hi"})
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["message_id"] and theirs.json()["status"] == "sent"


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "two words"])
def test_an_unusable_idempotency_key_is_a_422(acme: Tenant, key: str) -> None:
    response = acme.client.post(
        "/v1/messages",
        json={"from": A, "to": BOB, "body": "Hi"},
        headers=[*acme.headers.items(), ("Idempotency-Key", key.encode("utf-8"))],
    )
    assert_problem(response, 422)
    assert outbound(acme, BOB) == []


def test_a_retry_of_an_interrupted_send_decides_it_again(
    sending: Tenant, dispatching: Engine, fake: FakeProvider
) -> None:
    # Decided and recorded queued, then the process stopped before the hand-over.
    for to in (BOB, EVE):
        pending = dispatching.decide_send("acme", A, to, "See you at 6", idempotency_key=to)
        assert pending.decision.allowed
    assert outbound(sending, BOB) == outbound(sending, EVE) == [("queued", None)]
    # EVE opts out meanwhile: her text must not go now.
    sending.ok("POST", f"/v1/contacts/{EVE}/opt-out")
    text = {"from": A, "body": "See you at 6"}
    refused = keyed(sending, EVE, {**text, "to": EVE})
    assert (refused.json()["status"], refused.json()["reason"]) == ("failed", "opted_out")
    assert outbound(sending, EVE) == [("failed", "opted_out")]
    sent = keyed(sending, BOB, {**text, "to": BOB})
    assert sent.json()["status"] == "sent" and sent.headers["idempotent-replayed"] == "true"
    assert outbound(sending, BOB) == [("sent", None)]
    assert [f["To"] for f in (r.form for r in fake.requests)] == [[BOB]]
    # Once handed over, a further retry only reports it.
    assert keyed(sending, BOB, {**text, "to": BOB}).json() == sent.json()
    assert len(fake.requests) == 1


def test_concurrent_requests_with_one_idempotency_key_send_one_text(
    sending: Tenant, dispatching: Engine, fake: FakeProvider
) -> None:
    def send(_: int) -> SendResult:
        return dispatching.send("acme", A, BOB, "Flash sale", idempotency_key="burst")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(send, range(12)))
    assert len({r.message_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert len(fake.requests) == 1
    assert outbound(sending, BOB) == [("sent", None)]


def test_a_broadcast_sends_each_allowed_text_once_and_answers_in_order(
    sending: Tenant, fake: FakeProvider
) -> None:
    # More recipients than one transaction decides, handed over several at a time.
    # Consent aside (anyone not opted out may be texted): this is about the hand-over.
    overrides = {
        **HELP_CONTACT,
        "no_consent": "allow",
        "written_consent_required": False,
        **ANY_HOUR,
    }
    sending.ok("PUT", "/v1/policy", {"overrides": overrides})
    recipients = numbers(2 * BROADCAST_CHUNK + 50)
    opted_out = recipients[::7]
    sending.ok("POST", "/v1/opt-outs", {"numbers": opted_out})
    answer = sending.ok(
        "POST", "/v1/broadcasts", {"from": A, "body": "Open late today", "numbers": recipients}
    )
    results = answer["results"]
    assert [r["to"] for r in results] == recipients
    refused = {r["to"] for r in results if r["status"] == "failed"}
    assert refused == set(opted_out)
    assert {r["reason"] for r in results if r["to"] in refused} == {"opted_out"}
    reached = [f["To"][0] for f in (r.form for r in fake.requests)]
    assert sorted(reached) == sorted(set(recipients) - set(opted_out))  # each once
    sent = {r["provider_id"] for r in results if r["status"] == "sent"}
    assert len(sent) == len(reached) and None not in sent
    assert (answer["sent"], answer["refused"]) == (len(reached), len(opted_out))


def test_concurrent_broadcasts_in_different_orders_all_finish(
    sending: Tenant, dispatching: Engine
) -> None:
    # Refusals append to the ledger (the account's head) while contacts are locked:
    # contacts locked in one order, all before any append, keep two from deadlocking.
    recipients = numbers(BROADCAST_CHUNK)
    dispatching.bulk_opt_out("acme", recipients[::2])
    orders = [random.Random(seed).sample(recipients, len(recipients)) for seed in range(4)]

    def broadcast(order: list[str]) -> list[SendResult]:
        return dispatching.broadcast("acme", A, "Flash sale", numbers=order, campaign=False)

    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        outcomes = list(pool.map(broadcast, orders))
    for order, results in zip(orders, outcomes, strict=True):
        assert [r.to for r in results] == order
        assert {r.to for r in results if r.status == "failed"} == set(recipients[::2])


def test_broadcasts_to_numbers_and_to_a_list(acme: Tenant) -> None:
    acme.ok("PUT", "/v1/policy", {"overrides": {**HELP_CONTACT, **ANY_HOUR}})
    acme.ok("POST", "/v1/lists", {"name": "news"}, status=201)
    acme.ok("POST", "/v1/lists/news/members", {"numbers": [BOB, EVE, ZED]})
    acme.ok("DELETE", f"/v1/lists/news/members/{ZED}")
    acme.ok("POST", "/v1/consents", consent_body(BOB), status=201)  # in writing: a campaign
    acme.ok("POST", f"/v1/contacts/{EVE}/opt-out")
    body = "Sale today. Reply STOP to opt out"
    out = acme.ok("POST", "/v1/broadcasts", {"from": A, "body": body, "list": "news"})
    assert (out["sent"], out["refused"]) == (1, 1)
    assert {(r["to"], r["status"], r["reason"]) for r in out["results"]} == {
        (BOB, "sent", None),
        (EVE, "failed", "opted_out"),
    }
    out = acme.ok("POST", "/v1/broadcasts", {"from": A, "body": body, "numbers": [ZED, EVE]})
    # ZED left the list and never opted in: no campaign text (default profile).
    assert [(r["to"], r["reason"]) for r in out["results"]] == [
        (ZED, "no_consent"),
        (EVE, "opted_out"),
    ]
    # Campaign texts need opt-out language.
    out = acme.ok("POST", "/v1/broadcasts", {"from": A, "body": "Sale!", "numbers": [BOB]})
    assert out["results"][0]["reason"] == "missing_opt_out_language"
    assert_problem(acme.post("/v1/broadcasts", {"from": A, "body": body}), 422)
    assert_problem(
        acme.post("/v1/broadcasts", {"from": A, "body": body, "list": "news", "numbers": [BOB]}),
        422,
    )
    assert_problem(
        acme.post("/v1/broadcasts", {"from": A, "body": body, "numbers": [BOB, "x"]}), 422
    )


# -- review, ledger and proofs ----------------------------------------------------------


def test_review_lists_possible_opt_outs(acme: Tenant, engine: Engine) -> None:
    result = engine.receive("acme", BOB, A, "how do i stop these texts?", provider_id="SM9")
    assert result.events == ("revocation_flagged",)
    engine.receive("acme", EVE, A, "See you at 5", provider_id="SM10")
    review = acme.ok("GET", "/v1/review")
    assert [f["phone"] for f in review["flagged"]] == [BOB]
    assert review["flagged"][0]["reason"] and review["flagged"][0]["sender"] == A
    assert (review["open"], review["next"]) == (1, None)


def test_ledger_verify_and_proof_checked_offline(
    acme: Tenant, other: Tenant, engine: Engine, tmp_path: Path
) -> None:
    engine.receive("acme", BOB, A, "STOP", provider_id="SM1")
    acme.ok("POST", f"/v1/contacts/{EVE}/opt-out")
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "paper form"})
    acme.ok("POST", "/v1/messages", {"from": A, "to": EVE, "body": "hi"})
    verified = acme.ok("GET", "/v1/ledger/verify")
    assert verified["ok"] is True and verified["checked"] == 4
    assert verified["log"] == {"size": 0, "pending": 4, "checkpoint": None}
    engine.opt_out("other", EVE)  # another account's event: not this account's backlog
    assert acme.ok("GET", "/v1/ledger/verify")["log"]["pending"] == 4
    engine.sequence_pending()
    log = acme.ok("GET", "/v1/ledger/verify")["log"]
    assert log == {"size": 5, "pending": 0, "checkpoint": engine.newest_checkpoint()}

    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    assert [e["type"] for e in proof["events"]] == ["opted_out", "opted_in"]
    assert check_proof(proof).problems == []

    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    runner = CliRunner()
    done = runner.invoke(cli_app, ["ledger", "check-proof", str(path)])
    assert done.exit_code == 0, done.output

    proof["events"][1]["data"]["evidence"] = "someone said so"
    path.write_text(json.dumps(proof))
    assert check_proof(proof).problems
    done = runner.invoke(cli_app, ["ledger", "check-proof", str(path)])
    assert done.exit_code == 1 and "#" in done.output


def test_a_proof_shows_each_sequenced_event_in_the_signed_log_and_nothing_else(
    acme: Tenant, engine: Engine, tmp_path: Path
) -> None:
    engine.receive("acme", BOB, A, "STOP", provider_id="SM1")
    acme.ok("POST", f"/v1/contacts/{EVE}/opt-out")
    engine.sequence_pending()
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "paper form"})  # not yet
    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    assert proof["format"] == "optline-proof/2"
    assert [e["log_position"] is not None for e in proof["events"]] == [True, False]
    assert EVE not in json.dumps(proof)  # the other contact's events are not in it
    checked = check_proof(proof)
    assert (checked.problems, checked.in_log, checked.log_size) == ([], 1, 2)
    public = proof["log"]["public_keys"][0]
    assert check_proof(proof, public).problems == []

    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    runner = CliRunner()
    done = runner.invoke(cli_app, ["ledger", "check-proof", str(path), "--key", public])
    assert done.exit_code == 0, done.output
    assert "1 events in the log under checkpoint 2 (1 not sequenced when exported)" in done.stdout

    # A key the log does not sign with, a bent path, an edited event: each refused.
    other = "A" * 43 + "="
    assert "not a trusted key" in check_proof(proof, other).problems[0]
    bent = json.loads(json.dumps(proof))
    bent["events"][0]["inclusion"][0] = "00" * 32
    assert "not in the log at position" in check_proof(bent).problems[0]
    edited = json.loads(json.dumps(proof))
    edited["events"][0]["data"]["keyword"] = "CANCEL"
    assert any("not in the log" in p for p in check_proof(edited).problems)

    # A proof exported before the log (chain only) still checks.
    old = {k: v for k, v in proof.items() if k != "log"} | {"format": "optline-proof/1"}
    old["events"] = [
        {k: v for k, v in e.items() if k not in ("log_position", "inclusion")}
        for e in proof["events"]
    ]
    assert check_proof(old).problems == []


def test_history_and_proof_of_a_number_never_seen_are_200_and_empty(
    acme: Tenant, engine: Engine
) -> None:
    # docs/api.md: "no record" is an answer, not a 404 (a proof of it checks out).
    engine.receive("acme", BOB, A, "STOP")
    assert acme.ok("GET", f"/v1/contacts/{EVE}/history") == {"events": [], "messages": []}
    proof = acme.ok("GET", f"/v1/contacts/{EVE}/proof")
    assert (proof["phone"], proof["events"], proof["chain_verified"]) == (EVE, [], True)
    assert check_proof(proof).problems == []
    assert_problem(acme.get(f"/v1/contacts/{EVE}"), 404)


def test_the_service_app_freezes_its_start_up_objects_and_an_embedded_one_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'frozen.db'}"
    embedded = create_app(Settings(database_url=url, notify=False))
    gc.unfreeze()
    with TestClient(embedded):
        assert gc.get_freeze_count() == 0
    monkeypatch.setenv("OPTLINE_DATABASE_URL", url)
    try:
        with TestClient(app_from_env()):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_body_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().max_body_bytes == 64 * 1024
    monkeypatch.setenv("OPTLINE_MAX_BODY_BYTES", "1048576")
    assert Settings.from_env().max_body_bytes == 1024 * 1024
    for bad in ("lots", "-5", "100"):
        monkeypatch.setenv("OPTLINE_MAX_BODY_BYTES", bad)
        with pytest.raises(ValueError, match="OPTLINE_MAX_BODY_BYTES"):
            Settings.from_env()


def test_history_tells_automatic_replies_from_sends(acme: Tenant, engine: Engine) -> None:
    engine.receive("acme", BOB, A, "HELP", "SMhelp")
    acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Your table is ready"})
    messages = acme.ok("GET", f"/v1/contacts/{BOB}/history")["messages"]
    assert [(m["direction"], m["reply"]) for m in messages] == [
        ("in", False),
        ("out", True),
        ("out", False),
    ]
