"""Tenant isolation, key handling and log hygiene of the REST API."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from account_support import HELP_CONTACT
from fakeprovider import FakeProvider, Reply
from fastapi.testclient import TestClient
from store_support import record_send
from test_api_support import (
    ADMIN_KEY,
    BOB,
    EVE,
    OTHER,
    ZED,
    A,
    Tenant,
    assert_problem,
    auth,
    new_tenant,
)

from optline.api.app import Settings, create_app
from optline.engine import Engine
from optline.notify import drain
from optline.providers.base import RetryPolicy
from optline.providers.registry import Dispatcher
from optline.store import Store

# Account B ("other") and its data; account A ("acme") tries to reach it.
B_ONLY = "+16175550123"


def snapshot(b: Tenant) -> dict[str, Any]:
    """Everything B can see through the API."""
    return {
        "contacts": b.ok("GET", "/v1/contacts"),
        "lists": b.ok("GET", "/v1/lists"),
        "triggers": b.ok("GET", "/v1/triggers"),
        "policy": b.ok("GET", "/v1/policy"),
        "subscriptions": b.ok("GET", "/v1/subscriptions"),
        "senders": b.ok("GET", "/v1/senders"),
        "review": b.ok("GET", "/v1/review"),
        "ledger": b.ok("GET", "/v1/ledger/verify"),
        "history": {p: b.ok("GET", f"/v1/contacts/{p}/history") for p in (BOB, B_ONLY)},
        "csv": b.get("/v1/contacts.csv").text,
        "unsettled": b.ok("GET", "/v1/messages?status=queued"),
    }


@pytest.fixture
def b_data(other: Tenant, engine: Engine) -> Tenant:
    other.ok("PUT", "/v1/policy", {"overrides": {**HELP_CONTACT, "brand": "Other Co"}})
    other.ok("POST", "/v1/lists", {"name": "vip", "opt_out_keyword": "novip"}, 201)
    other.ok("POST", "/v1/lists/vip/members", {"numbers": [BOB, B_ONLY]})
    other.ok("POST", "/v1/triggers", {"keyword": "menu", "reply": "Today: soup"}, 201)
    other.ok(
        "POST", "/v1/subscriptions", {"url": "https://b.example/h", "events": ["opted_out"]}, 201
    )
    other.ok("POST", "/v1/messages", {"from": OTHER, "to": BOB, "body": "B's private text"})
    engine.receive("other", B_ONLY, OTHER, "how do i stop these texts?", provider_id="SMb1")
    with engine.store.transaction() as tx:  # a send whose hand-over never started
        record_send(tx, engine.account("other").id, BOB, OTHER, "B's stuck text", "queued")
    return other


def test_account_a_cannot_read_or_change_account_b(acme: Tenant, b_data: Tenant) -> None:
    before = snapshot(b_data)
    a = acme

    # Reads: nothing of B's shows.
    assert_problem(a.get(f"/v1/contacts/{B_ONLY}"), 404, "unknown_contact")
    assert_problem(a.get(f"/v1/contacts/{BOB}"), 404, "unknown_contact")
    assert a.ok("GET", "/v1/contacts")["contacts"] == []
    assert a.get("/v1/contacts.csv").text.splitlines() == [
        "phone,scope,status,since,method,event_seq,purpose"
    ]
    assert_problem(a.get("/v1/contacts?list=vip"), 404, "unknown_list")
    assert a.ok("GET", f"/v1/contacts/{BOB}/history") == {"events": [], "messages": []}
    assert a.ok("GET", f"/v1/contacts/{B_ONLY}/proof")["events"] == []
    assert a.ok("GET", "/v1/lists")["lists"] == []
    assert a.ok("GET", "/v1/triggers")["triggers"] == []
    assert a.ok("GET", "/v1/subscriptions")["subscriptions"] == []
    assert a.ok("GET", "/v1/review")["flagged"] == []
    assert a.ok("GET", "/v1/ledger/verify")["checked"] == 0
    assert OTHER not in a.get("/v1/senders").text
    b_sent = b_data.ok("GET", f"/v1/contacts/{BOB}/history")["messages"][0]["id"]
    assert_problem(a.get(f"/v1/messages/{b_sent}"), 404, "unknown_message")
    assert a.ok("GET", "/v1/messages?status=queued")["messages"] == []
    assert a.ok("GET", "/v1/policy")["overrides"] == HELP_CONTACT

    # Writes naming B's lists and senders are refused.
    assert_problem(a.post("/v1/lists/vip/members", {"numbers": [ZED]}), 404, "unknown_list")
    assert_problem(a.delete(f"/v1/lists/vip/members/{BOB}"), 404, "unknown_list")
    assert_problem(
        a.post("/v1/messages", {"from": OTHER, "to": BOB, "body": "hi"}), 404, "unknown_sender"
    )
    assert_problem(a.post("/v1/broadcasts", {"from": OTHER, "body": "x", "list": "vip"}), 404)
    for action, body in (("opt-out", {}), ("opt-in", {"evidence": "signed form"})):
        assert_problem(
            a.post(f"/v1/contacts/{BOB}/{action}", {**body, "sender": OTHER}), 404, "unknown_sender"
        )
    assert_problem(a.post("/v1/broadcasts", {"from": A, "body": "x", "list": "vip"}), 404)
    assert_problem(
        a.post("/v1/triggers", {"keyword": "x2", "reply": "y", "subscribe_list": "vip"}), 404
    )
    assert_problem(a.post("/v1/senders", {"number": OTHER}), 409)  # numbers are global

    # Writes on B's phone numbers change A's own contacts only.
    a.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    a.ok("POST", f"/v1/contacts/{B_ONLY}/block")
    a.ok("POST", "/v1/opt-outs", {"numbers": [B_ONLY, BOB]})
    a.ok("PUT", "/v1/policy", {"profile": "twilio", "overrides": {"brand": "Acme"}})
    a.ok("POST", "/v1/lists", {"name": "vip"}, 201)  # names are per account
    a.ok("POST", "/v1/subscriptions", {"url": "https://a.example/h", "events": ["blocked"]}, 201)

    assert snapshot(b_data) == before
    assert b_data.ok("GET", f"/v1/contacts/{BOB}")["status"] == "no_consent"
    assert a.ok("GET", f"/v1/contacts/{BOB}")["status"] == "opted_out"


def test_b_never_gets_a_notification_for_a_change_in_a(
    acme: Tenant, b_data: Tenant, engine: Engine
) -> None:
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    with engine.store.read() as tx:
        b = tx.accounts.by_name("other")
        a = tx.accounts.by_name("acme")
        assert a is not None and b is not None
        assert tx.outbox.notifications(b.id) == [] and tx.outbox.notifications(a.id) == []


def near_misses(key: str) -> dict[str, str]:
    """Keys a comparison of too little of the key, or of the wrong length, would take."""

    def other(char: str) -> str:
        return "B" if char == "A" else "A"

    return {
        "last character": key[:-1] + other(key[-1]),
        "first character": other(key[0]) + key[1:],
        "one shorter": key[:-1],
        "one longer": key + key[-1],
        "first half": key[: len(key) // 2],
        "doubled": key + key,
    }


def test_an_admin_key_off_by_a_character_or_of_another_length_is_refused(
    client: TestClient,
) -> None:
    for what, wrong in near_misses(ADMIN_KEY).items():
        response = client.post("/v1/accounts", json={"name": "acme"}, headers=auth(wrong))
        assert response.status_code == 401, what
        assert_problem(response, 401, "unauthorized")
    body = {"name": "acme", "overrides": HELP_CONTACT}
    assert client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY)).is_success


def test_an_api_key_off_by_a_character_or_of_another_length_is_refused(
    client: TestClient, acme: Tenant
) -> None:
    for what, wrong in near_misses(acme.key).items():
        response = client.get("/v1/account", headers=auth(wrong))
        assert response.status_code == 401, what
        assert_problem(response, 401, "unauthorized")
    assert acme.ok("GET", "/v1/account")["name"] == "acme"


def test_logs_hold_no_secrets_or_message_bodies(
    store: Store, fake: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dispatcher = Dispatcher(
        {"twilio": fake.url}, retry=RetryPolicy(attempts=2, initial_wait=0.01, timeout=5)
    )
    engine = Engine(store, dispatch=dispatcher)
    auth_token = "authtok" + "Q" * 25
    secrets: list[str] = [ADMIN_KEY, auth_token]
    bodies = ["Your biopsy results are ready", "Cancel my appointment Tuesday please"]
    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=engine)
    with TestClient(app) as client:
        tenant = new_tenant(client, "acme")
        secrets.append(tenant.key)
        creds = {"account_sid": "AC" + "7" * 32, "auth_token": auth_token}
        tenant.ok(
            "POST", "/v1/senders", {"number": A, "provider": "twilio", "credentials": creds}, 201
        )
        sub = tenant.ok(
            "POST",
            "/v1/subscriptions",
            {"url": "http://127.0.0.1:9/nothing", "events": ["opted_out"]},
            201,
        )
        secrets.append(sub["secret"])
        tenant.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": bodies[0]})
        fake.script(Reply.server_error(), Reply.opted_out())
        tenant.ok("POST", "/v1/messages", {"from": A, "to": EVE, "body": bodies[0]})
        engine.receive("acme", ZED, A, bodies[1], provider_id="SMlog")
        engine.receive("acme", ZED, A, "STOP", provider_id="SMlog2")
        tenant.post("/v1/messages", {"from": A, "to": "bad", "body": bodies[0]})
        client.get("/v1/contacts", headers={"Authorization": "Bearer " + tenant.key + "x"})
        with httpx.Client(timeout=2) as http:
            drain(engine, http)  # the subscriber is unreachable: a warning is logged
    dispatcher.close()

    assert caplog.records, "expected some log records (the failed delivery at least)"
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
    for body in bodies:
        assert body not in logged
