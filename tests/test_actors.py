"""Who did it (on SQLite and PostgreSQL): every manual change records its actor on its
ledger events (``by``: the API key's name, the web UI's key name, the CLI's ``--actor``
or else the OS user; ``via``: api, ui, cli); events a text or a provider's report
caused record that message's id. The proof shows them."""

from __future__ import annotations

import getpass
import hashlib
from typing import Any

from account_support import HELP_CONTACT
from cli_support import Cli
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from test_api_support import ADMIN_KEY, BOB, EVE, A, Tenant, auth
from web_support import sign_in

from optline.domain.actors import Actor, MessageRef, attributed
from optline.domain.consent import Event
from optline.domain.consent_codes import EventType, Source
from optline.domain.messages import Via
from optline.engine import Engine
from optline.providers.base import ProviderOptedOut
from optline.store import Store

HOST = {"origin": "http://testserver"}
SENDER = "+14155550190"


def _last(engine: Engine, account: str, phone: str) -> dict[str, Any]:
    events, _ = engine.history(account, phone)
    return dict(events[-1].data)


@given(source=st.sampled_from(Source), message_id=st.none() | st.integers(1, 10**6))
def test_the_actor_goes_on_the_business_events_and_the_message_on_the_others(
    source: Source, message_id: int | None
) -> None:
    event = Event(EventType.OPTED_OUT, BOB, {"source": source.value})
    message = None if message_id is None else MessageRef(message_id, "ab" * 32)
    (got,) = attributed([event], Actor("ann", Via.API), message)
    by_business = source in (Source.MANUAL, Source.IMPORT, Source.POLICY)
    assert ("by" in got.data) is by_business and ("via" in got.data) is by_business
    by_message = not by_business and message is not None
    assert ("message_id" in got.data) is by_message
    assert ("message_sha256" in got.data) is by_message
    assert attributed([event]) == (event,)  # nothing given, nothing added


def test_the_api_records_the_keys_name(client: TestClient, engine: Engine) -> None:
    body = {"name": "acme", "overrides": HELP_CONTACT, "key_name": "front-desk"}
    made = client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY))
    tenant = Tenant(client, made.json()["api_key"], "acme")
    tenant.ok("POST", "/v1/senders", {"number": A}, status=201)
    tenant.ok("POST", f"/v1/contacts/{BOB}/opt-out", {"note": "asked by phone"})
    tenant.ok("POST", "/v1/opt-outs", {"numbers": [EVE]})
    for phone in (BOB, EVE):
        data = _last(engine, "acme", phone)
        assert (data["by"], data["via"], data["source"]) == ("front-desk", "api", "manual")
    proof = tenant.ok("GET", f"/v1/contacts/{BOB}/proof")
    assert proof["events"][-1]["data"]["by"] == "front-desk"
    empty = {"name": "b", "overrides": HELP_CONTACT, "key_name": " "}
    assert client.post("/v1/accounts", json=empty, headers=auth(ADMIN_KEY)).status_code == 422


def test_the_web_ui_records_the_key_it_was_signed_in_with(acme: Tenant, engine: Engine) -> None:
    assert sign_in(acme.client, acme.key).status_code == 303
    acme.client.post(f"/ui/contacts/{BOB}/block", data={"note": "abusive"}, headers=HOST)
    data = _last(engine, "acme", BOB)
    assert (data["by"], data["via"], data["note"]) == ("default", "ui", "abusive")


def test_the_cli_records_its_actor_or_the_os_user(db_url: str, engine: Engine) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "acme", "--support-contact", "help@acme.example")
    cli("--actor", "ann", "contacts", "opt-out", "--account", "acme", BOB)
    assert (_last(engine, "acme", BOB)["by"], _last(engine, "acme", BOB)["via"]) == ("ann", "cli")
    cli("contacts", "block", "--account", "acme", EVE)
    assert _last(engine, "acme", EVE)["by"] == getpass.getuser()
    # A policy change that widens opt-outs records its actor on each one it widens.
    cli("accounts", "create", "shop", "--profile", "twilio")
    cli("senders", "add", "--account", "shop", A)
    engine.receive("shop", BOB, A, "STOP")
    cli(
        "--actor", "bo", "policy", "set", "--account", "shop", "--profile", "default",
        "--override", "support_contact=help@shop.example", "--confirm",
    )  # fmt: skip
    assert (_last(engine, "shop", BOB)["reason"], _last(engine, "shop", BOB)["by"]) == (
        "scope_widened",
        "bo",
    )
    assert "actor is empty" in cli.error(
        "--actor", "", "contacts", "block", "--account", "acme", BOB
    )


def test_keyword_events_name_their_text(engine: Engine) -> None:
    engine.create_account("acme", "default", HELP_CONTACT)
    engine.add_sender("acme", A)
    for text in ("HELP", "STOP", "hello"):
        engine.receive("acme", BOB, A, text, provider_id=f"SM-{text}")
    events, messages = engine.history("acme", BOB)
    inbound = {m.body: m.id for m in messages if m.direction == "in"}
    assert [(e.type, e.data["message_id"]) for e in events] == [
        ("help_answered", inbound["HELP"]),
        ("opted_out", inbound["STOP"]),
    ]


def test_provider_events_name_the_refused_send(store: Store) -> None:
    def refuse(sender: Any, to: str, body: str, before_retry: Any = None) -> str:
        raise ProviderOptedOut("21610")

    engine = Engine(store, dispatch=refuse)
    engine.create_account("acme", "twilio")
    engine.add_sender(
        "acme", SENDER, provider="twilio", credentials={"account_sid": "AC1", "auth_token": "t"}
    )
    result = engine.send("acme", SENDER, BOB, "Your order shipped")
    data = _last(engine, "acme", BOB)
    assert (data["source"], data["code"], data["message_id"]) == (
        "provider",
        "21610",
        result.message_id,
    )
    # The refused send is committed to the chain by its body's SHA-256 (docs/ledger.md).
    assert data["message_sha256"] == hashlib.sha256(b"Your order shipped").hexdigest()
    proof = engine.proof("acme", BOB)
    assert [(m["id"], m["body"]) for m in proof["messages"]] == [
        (result.message_id, "Your order shipped")
    ]
