"""Purposes through the REST API, the CLI and the web UI, on both databases: listed and
added, named on sends, broadcasts, opt-ins, opt-outs and lists, each purpose's consent
shown wherever the scopes are (contacts API, CSV export, CLI, contact page, ledger
events), and the ambiguous reply's one clarification with campaign texts held."""

from __future__ import annotations

import csv
import io
import re

import pytest
from cli_support import Cli
from fastapi.testclient import TestClient
from store_support import ANY_HOUR
from test_api_support import BOB, EVE, A, Tenant, assert_problem, new_tenant
from web_support import sign_in

from optline.engine import Engine

SALE = "Winter sale: 20% off. Reply STOP to opt out."
REMINDER = "Your appointment is tomorrow at 9."
EVIDENCE = {"evidence": "web form at acme.example, 2026-12-01"}
HOST = {"origin": "http://testserver"}


# Purposes apart from the written consent marketing texts need under the default profile
# (tests/test_written_consent.py).
NO_WRITTEN = {**ANY_HOUR, "written_consent_required": False}


@pytest.fixture
def shop(client: TestClient) -> Tenant:
    tenant = new_tenant(client, "shop", senders=(A,), overrides={**NO_WRITTEN, "revoke_all": "off"})
    tenant.ok("POST", "/v1/purposes", {"name": "appointment_reminders"}, status=201)
    tenant.ok("POST", f"/v1/contacts/{BOB}/opt-in", EVIDENCE)
    return tenant


def _send(tenant: Tenant, body: str, **extra: object) -> dict[str, object]:
    result: dict[str, object] = tenant.ok(
        "POST", "/v1/messages", {"from": A, "to": BOB, "body": body, **extra}
    )
    return result


def test_the_api_lists_adds_and_refuses_purposes(shop: Tenant) -> None:
    listed = shop.ok("GET", "/v1/purposes")["purposes"]
    assert listed == ["marketing", "informational", "appointment_reminders"]
    assert_problem(shop.post("/v1/purposes", {"name": "marketing"}), 409)
    assert_problem(shop.post("/v1/purposes", {"name": "All"}), 422, "bad_input")
    assert_problem(shop.post("/v1/purposes", {"name": "a\u0000b"}), 422)
    unknown = shop.post("/v1/messages", {"from": A, "to": BOB, "body": "x", "purpose": "polls"})
    assert_problem(unknown, 404, "unknown_purpose")
    both = {"sender": A, "purpose": "marketing"}
    assert_problem(shop.post(f"/v1/contacts/{BOB}/opt-out", both), 422, "bad_input")


def test_a_purpose_opt_out_shows_in_the_api_the_csv_and_the_ledger(shop: Tenant) -> None:
    view = shop.ok("POST", f"/v1/contacts/{BOB}/opt-out", {"purpose": "marketing"})
    assert view["purposes"] == {"marketing": "opted_out"}
    refused = _send(shop, SALE, campaign=True)
    assert refused["reason"] == "opted_out"
    assert _send(shop, REMINDER, purpose="appointment_reminders")["status"] == "sent"
    broadcast = shop.ok(
        "POST",
        "/v1/broadcasts",
        {"from": A, "body": SALE, "numbers": [BOB], "purpose": "marketing"},
    )
    assert broadcast["refused"] == 1

    contact = shop.ok("GET", f"/v1/contacts/{BOB}")
    marketing = [s for s in contact["scopes"] if s["purpose"] == "marketing"]
    assert marketing and marketing[0]["status"] == "opted_out"
    rows = list(csv.DictReader(io.StringIO(shop.get("/v1/contacts.csv").text)))
    assert [(r["scope"], r["purpose"], r["status"]) for r in rows] == [
        ("account", "", "opted_in"),
        ("account", "marketing", "opted_out"),
    ]
    events = shop.ok("GET", f"/v1/contacts/{BOB}/history")["events"]
    assert events[1]["type"] == "opted_out" and events[1]["data"]["purpose"] == "marketing"
    messages = shop.ok("GET", f"/v1/contacts/{BOB}/history")["messages"]
    assert [m["status"] for m in messages] == ["failed", "sent", "failed"]
    assert shop.ok("GET", "/v1/ledger/verify")["ok"] is True


def test_a_stop_asks_which_purposes_and_a_reply_narrows_it(shop: Tenant, engine: Engine) -> None:
    _send(shop, REMINDER, purpose="appointment_reminders")
    stop = engine.receive("shop", BOB, A, "STOP")
    assert stop.reply is not None and "Reply ALL to stop all texts" in stop.reply
    assert engine.receive("shop", BOB, A, "reminders appointment").reply is None  # not a name
    answer = engine.receive("shop", BOB, A, "Appointment reminders")
    assert answer.reply is None and answer.events == ("opted_in", "opted_in")
    contact = shop.ok("GET", f"/v1/contacts/{BOB}")
    # The revocation stays on the account; the purposes not named are given back.
    assert contact["purposes"] == {"marketing": "opted_in", "informational": "opted_in"}
    assert contact["status"] == "opted_out"
    assert _send(shop, SALE, campaign=True)["status"] == "sent"
    assert _send(shop, REMINDER, purpose="appointment_reminders")["reason"] == "opted_out"


def test_lists_sit_under_a_purpose(shop: Tenant) -> None:
    made = shop.ok(
        "POST", "/v1/lists", {"name": "reminders", "purpose": "appointment_reminders"}, status=201
    )
    assert made["purpose"] == "appointment_reminders"
    assert shop.ok("GET", "/v1/lists")["lists"][0]["purpose"] == "appointment_reminders"
    assert_problem(shop.post("/v1/lists", {"name": "x", "purpose": "polls"}), 404)
    shop.ok("POST", f"/v1/contacts/{BOB}/opt-out", {"purpose": "appointment_reminders"})
    assert _send(shop, REMINDER, list="reminders")["reason"] == "opted_out"
    assert _send(shop, REMINDER)["status"] == "sent"


def test_an_ambiguous_reply_gets_one_clarification_and_holds_campaign_texts(
    client: TestClient, engine: Engine
) -> None:
    tenant = new_tenant(client, "held", senders=(A,), overrides=NO_WRITTEN)
    tenant.ok("POST", f"/v1/contacts/{EVE}/opt-in", EVIDENCE)
    first = engine.receive("held", EVE, A, "not interested")
    assert first.reply is not None and "STOP" in first.reply
    assert "%" not in first.reply and "sale" not in first.reply.lower()  # never marketing
    assert engine.receive("held", EVE, A, "not interested really").reply is None  # one text
    text = {"from": A, "to": EVE, "body": SALE}
    for held in ({"campaign": True}, {"purpose": "marketing"}):
        result = tenant.ok("POST", "/v1/messages", {**text, **held})
        assert result["reason"] == "revocation_pending_review"
    assert tenant.ok("POST", "/v1/messages", {**text, "body": REMINDER})["status"] == "sent"
    # Resolved (not a revocation): campaign texts go again.
    for flag in tenant.ok("GET", "/v1/review")["flagged"]:
        tenant.ok("POST", f"/v1/review/{flag['seq']}/dismiss", {"reason": "means the offer"})
    assert tenant.ok("POST", "/v1/messages", {**text, "campaign": True})["status"] == "sent"


def test_the_cli_lists_adds_and_names_purposes(db_url: str) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "acme", "--profile", "twilio")
    cli("senders", "add", "--account", "acme", A)
    assert "purpose appointment_reminders added" in cli(
        "purposes", "add", "--account", "acme", "appointment_reminders"
    )
    listed = cli.json("purposes", "list", "--account", "acme")["purposes"]
    assert listed == ["marketing", "informational", "appointment_reminders"]
    cli("contacts", "opt-out", "--account", "acme", BOB, "--purpose", "marketing")
    refused = cli.json("send", "--account", "acme", "--from", A, "--to", BOB, SALE, "--campaign")
    assert refused["reason"] == "opted_out"
    cli("check", "--account", "acme", "--from", A, "--to", BOB, "--purpose", "informational")
    cli("check", "--account", "acme", "--from", A, "--to", BOB, "--purpose", "marketing", code=1)
    listed_csv = cli("contacts", "list", "--account", "acme").splitlines()
    assert listed_csv[-1].endswith(",marketing")
    as_json = cli("contacts", "list", "--account", "acme", "--format", "json")
    assert '"purpose": "marketing"' in as_json
    cli("lists", "create", "--account", "acme", "notes", "--purpose", "informational")
    assert "unknown purpose" in cli.error(
        "lists", "create", "--account", "acme", "polls", "--purpose", "polls"
    )


def test_the_web_ui_shows_adds_and_changes_purposes(shop: Tenant, engine: Engine) -> None:
    client = shop.client
    assert sign_in(client, shop.key).status_code == 303
    page = client.get("/ui/purposes")
    assert "appointment_reminders" in page.text
    added = client.post(
        "/ui/purposes", data={"name": "surveys"}, headers=HOST, follow_redirects=False
    )
    assert added.status_code == 303
    assert engine.purposes("shop")[-1] == "surveys"
    bad = client.post("/ui/purposes", data={"name": "No Way"}, headers=HOST)
    assert bad.status_code == 422
    done = client.post(
        f"/ui/contacts/{BOB}/opt-out",
        data={"purpose": "marketing"},
        headers=HOST,
        follow_redirects=False,
    )
    assert done.status_code == 303
    text = " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/ui/contacts/{BOB}").text).split())
    assert "Purpose marketing opted_out" in text
    state = engine.contact("shop", BOB)
    assert state is not None and state.status_from(None) is not None
