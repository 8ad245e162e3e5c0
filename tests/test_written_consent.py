"""Prior express written consent (47 CFR 64.1200(a)(2), (f)(9)): the domain rules, then
the engine, REST API, CLI and web UI on both databases (the double opt-in that gathers
it by text is tests/test_double_opt_in.py)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from account_support import HELP_CONTACT
from cli_support import Cli
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from store_support import (
    ANY_HOUR,
    CONSENT_GIVEN_AT,
    CONSENT_LANGUAGE,
    Clock,
    consent_body,
    give_written_consent,
)
from test_api_support import A, Tenant, assert_problem
from web_support import sign_in

from optline.api.app import Settings, create_app
from optline.domain import consent, decisions, projection, written_consent
from optline.domain.consent import ContactState
from optline.domain.consent_codes import EventType, Method, Reason, Status
from optline.domain.profiles import get_profile
from optline.domain.written_consent import WrittenConsent, language_hash
from optline.engine import Engine
from optline.errors import BadInput, NotAllowed
from optline.proof import check_proof
from optline.store import Store

ACME = "acme"
BOB = "+14155552671"
EVE = "+12025550143"
SALE = "Winter sale: 20% off. Reply STOP to opt out."
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
DEFAULT = get_profile("default")


def _given(purpose: str = "marketing") -> WrittenConsent:
    return WrittenConsent(purpose, CONSENT_LANGUAGE, CONSENT_GIVEN_AT, "https://acme.example/j")


# -- the domain ------------------------------------------------------------------------


@given(st.from_regex(r"[a-z][a-z0-9_]{0,39}", fullmatch=True))
def test_every_lower_case_slug_is_a_purpose(name: str) -> None:
    assert written_consent.purpose(name) == name


@pytest.mark.parametrize(
    "name", ["", "Marketing", "1st", "_x", "a-b", "a b", "é", "x" * 41, "marketing\n"]
)
def test_anything_else_is_refused_as_a_purpose(name: str) -> None:
    with pytest.raises(BadInput, match="purpose"):
        written_consent.purpose(name)


def test_no_purpose_is_marketing() -> None:
    assert written_consent.purpose(None) == "marketing"


def test_an_opt_in_without_written_consent_sends_no_campaign_under_the_default_profile() -> None:
    opted_in = ContactState(BOB, account_status=Status.OPTED_IN)
    refused = decisions.decide(opted_in, A, DEFAULT, SALE, campaign=True)
    assert (refused.allowed, refused.reason) == (False, Reason.NO_WRITTEN_CONSENT)
    assert decisions.decide(opted_in, A, DEFAULT, "Your order shipped.").allowed  # 1:1
    # Written consent for another purpose does not cover marketing.
    other = ContactState(BOB, account_status=Status.OPTED_IN, written=frozenset({"reminders"}))
    assert decisions.decide(other, A, DEFAULT, SALE, campaign=True).reason is (
        Reason.NO_WRITTEN_CONSENT
    )


@pytest.mark.parametrize("name", ["twilio", "callrail", "salesmsg"])
def test_vendor_profiles_ask_for_no_written_consent(name: str) -> None:
    opted_in = ContactState(BOB, account_status=Status.OPTED_IN)
    policy = get_profile(name)
    assert not policy.written_consent_required
    assert decisions.decide(opted_in, A, policy, SALE, campaign=True).reason is not (
        Reason.NO_WRITTEN_CONSENT
    )


def test_recording_written_consent_opts_in_and_covers_its_purpose() -> None:
    outcome = written_consent.record(ContactState(BOB), DEFAULT, _given())
    assert [e.type for e in outcome.events] == [EventType.CONSENT_RECORDED, EventType.OPTED_IN]
    recorded = outcome.events[0].data
    assert recorded["language_sha256"] == language_hash(CONSENT_LANGUAGE)
    assert recorded["purpose"] == "marketing" and recorded["url"] == "https://acme.example/j"
    assert outcome.events[1].data["method"] == Method.WRITTEN_CONSENT
    assert outcome.consent_texts == (CONSENT_LANGUAGE,)
    assert outcome.state.written == {"marketing"}
    assert decisions.decide(outcome.state, A, DEFAULT, SALE, campaign=True).allowed
    # Already opted in: the record alone, no second opt-in.
    again = written_consent.record(outcome.state, DEFAULT, _given("reminders"))
    assert [e.type for e in again.events] == [EventType.CONSENT_RECORDED]
    assert again.state.written == {"marketing", "reminders"}


def test_a_revocation_ends_written_consent_and_start_does_not_bring_it_back() -> None:
    state = written_consent.record(ContactState(BOB), DEFAULT, _given()).state
    stop = consent.opt_out(state, DEFAULT)
    assert stop.state.written == frozenset()
    back = consent.opt_in(stop.state, DEFAULT, "called in")
    assert decisions.decide(back.state, A, DEFAULT, SALE, campaign=True).reason is (
        Reason.NO_WRITTEN_CONSENT
    )
    assert consent.block(state).state.written == frozenset()


def test_a_blocked_contact_or_a_never_resubscribe_profile_refuses_a_record() -> None:
    blocked = consent.block(ContactState(BOB)).state
    with pytest.raises(consent.Refused):
        written_consent.record(blocked, DEFAULT, _given())
    twilio = get_profile("twilio")
    out = consent.opt_out(ContactState(BOB), twilio).state
    with pytest.raises(consent.Refused):
        written_consent.record(out, twilio, _given())


class _Stored:
    def __init__(self, seq: int, event: consent.Event) -> None:
        self.seq, self.type, self.phone = seq, event.type.value, event.phone
        self.data, self.occurred_at = event.data, NOW


_STEPS = st.lists(st.sampled_from(["record", "reminders", "stop", "start", "block"]), max_size=8)


@given(_STEPS)
def test_the_projection_replays_the_written_consent_the_state_machine_keeps(
    steps: list[str],
) -> None:
    state, events = ContactState(BOB), list[consent.Event]()
    for step in steps:
        try:
            if step in ("record", "reminders"):
                wanted = "marketing" if step == "record" else "reminders"
                outcome = written_consent.record(state, DEFAULT, _given(wanted))
            elif step == "stop":
                outcome = consent.opt_out(state, DEFAULT)
            elif step == "start":
                outcome = consent.opt_in(state, DEFAULT, "called in")
            else:
                outcome = consent.block(state)
        except consent.Refused:
            continue
        state = outcome.state
        events.extend(outcome.events)
    replayed = projection.replay(_Stored(i + 1, e) for i, e in enumerate(events))
    assert replayed.get(BOB, projection.Projection(BOB)).written == state.written


# -- the engine, on both databases -----------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def timed(store: Store, clock: Clock) -> Engine:
    engine = Engine(store, clock=clock)
    engine.create_account(ACME, overrides={**HELP_CONTACT, **ANY_HOUR, "brand": "Acme"})
    engine.add_sender(ACME, A)
    return engine


def test_the_engine_records_written_consent_and_lists_it_with_its_language(
    timed: Engine,
) -> None:
    timed.opt_in(ACME, BOB, "signed up at the front desk")  # an opt-in made before
    assert timed.check(ACME, A, BOB, SALE, campaign=True).reason is Reason.NO_WRITTEN_CONSENT
    give_written_consent(timed, ACME, BOB)
    assert timed.check(ACME, A, BOB, SALE, campaign=True).allowed
    (record,) = timed.consents(ACME, BOB)
    shown = record.as_dict()
    assert shown["language"] == CONSENT_LANGUAGE
    assert shown["language_sha256"] == language_hash(CONSENT_LANGUAGE)
    assert (shown["purpose"], shown["ip"], shown["form_id"]) == (
        "marketing",
        "203.0.113.7",
        "join-2025",
    )
    assert shown["given_at"] == CONSENT_GIVEN_AT.isoformat()
    # The same language again is kept once.
    give_written_consent(timed, ACME, BOB)
    with timed.store.read() as tx:
        account = tx.accounts.by_name(ACME)
        assert account is not None
        kept = tx.consents.texts(account.id, [language_hash(CONSENT_LANGUAGE)])
    assert kept == {language_hash(CONSENT_LANGUAGE): CONSENT_LANGUAGE}
    assert [r.seq for r in timed.consents(ACME, BOB)] == [shown["seq"], shown["seq"] + 1]
    assert timed.verify(ACME)[0].ok


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"language": "  "}, "language is empty"),
        ({"purpose": "Marketing"}, "purpose"),
        ({"ip": "300.1.1.1"}, "ip"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"given_at": NOW + timedelta(hours=1)}, "future"),
        ({"given_at": datetime(2026, 1, 1)}, "time zone"),
    ],
)
def test_bad_consent_input_is_refused_and_nothing_is_written(
    timed: Engine, change: dict[str, Any], match: str
) -> None:
    parts: dict[str, Any] = {"language": CONSENT_LANGUAGE, "given_at": CONSENT_GIVEN_AT}
    with pytest.raises(BadInput, match=match):
        timed.record_consent(ACME, BOB, **{**parts, **change})
    assert timed.history(ACME, BOB) == ([], [])


def test_a_blocked_contact_cannot_have_consent_recorded(timed: Engine) -> None:
    timed.block(ACME, BOB)
    with pytest.raises(NotAllowed, match="blocked"):
        give_written_consent(timed, ACME, BOB)
    assert [e.type for e in timed.history(ACME, BOB)[0]] == ["blocked"]


def test_a_stop_ends_written_consent_in_the_store_and_the_ledger_agrees(timed: Engine) -> None:
    give_written_consent(timed, ACME, BOB)
    timed.receive(ACME, BOB, A, "STOP")
    timed.receive(ACME, BOB, A, "START")
    assert timed.check(ACME, A, BOB, SALE, campaign=True).reason is Reason.NO_WRITTEN_CONSENT
    assert timed.verify(ACME)[0].ok


def test_verify_finds_written_consent_the_ledger_does_not_hold_and_repair_fixes_it(
    timed: Engine,
) -> None:
    timed.opt_in(ACME, BOB, "front desk")
    give_written_consent(timed, ACME, EVE)
    with timed.store.transaction() as tx:
        tx.conn.exec_driver_sql(
            "UPDATE contacts SET written = ',marketing,' WHERE phone = ?"
            if tx.conn.dialect.name == "sqlite"
            else "UPDATE contacts SET written = ',marketing,' WHERE phone = %s",
            (BOB,),
        )
    result = timed.verify(ACME)[0]
    assert not result.ok and result.contact == BOB and "written consent" in (result.problem or "")
    assert timed.repair(ACME) == [BOB]
    assert timed.verify(ACME)[0].ok
    assert timed.check(ACME, A, BOB, SALE, campaign=True).reason is Reason.NO_WRITTEN_CONSENT


def test_a_broadcast_refuses_recipients_without_written_consent(timed: Engine) -> None:
    timed.opt_in(ACME, BOB, "front desk")
    give_written_consent(timed, ACME, EVE)
    decided = timed.decide_broadcast(ACME, A, [BOB, EVE, "+13055550123"])
    assert decided.allowed == [EVE]
    assert decided.refused == {BOB: "no_written_consent", "+13055550123": "no_consent"}
    with timed.checker(ACME, A, campaign=True) as check:
        assert check(BOB, SALE).reason is Reason.NO_WRITTEN_CONSENT and check(EVE, SALE).allowed


def test_the_proof_shows_the_consent_language_and_checks_it(timed: Engine) -> None:
    give_written_consent(timed, ACME, BOB)
    proof = timed.proof(ACME, BOB)
    digest = language_hash(CONSENT_LANGUAGE)
    assert proof["consent_texts"] == {digest: CONSENT_LANGUAGE}
    assert proof["events"][0]["data"]["language_sha256"] == digest
    assert check_proof(proof).problems == []
    proof["consent_texts"][digest] = CONSENT_LANGUAGE.replace("offers", "anything")
    assert check_proof(proof).problems == [f"consent text {digest[:12]}: does not match its hash"]


# -- the REST API, the CLI and the web UI -------------------------------------------------


@pytest.fixture
def api(store: Store, clock: Clock) -> Any:
    from test_api_support import ADMIN_KEY, new_tenant

    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=Engine(store, clock=clock))
    with TestClient(app) as client:
        yield new_tenant(client, ACME, senders=(A,), overrides=ANY_HOUR)


def test_api_records_and_lists_written_consent(api: Tenant) -> None:
    recorded = api.ok("POST", "/v1/consents", consent_body(BOB), status=201)
    assert recorded["language"] == CONSENT_LANGUAGE and recorded["via"] == "api"
    assert recorded["by"] == "default" and recorded["method"] == "written_consent"
    listed = api.ok("GET", f"/v1/contacts/{BOB}/consents")["consents"]
    assert listed == [recorded]
    sent = api.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": SALE, "campaign": True})
    assert sent["allowed"] is True
    refused = api.ok("POST", "/v1/messages", {"from": A, "to": EVE, "body": SALE, "campaign": True})
    assert refused["reason"] == "no_consent"
    proof = api.ok("GET", f"/v1/contacts/{BOB}/proof")
    assert list(proof["consent_texts"].values()) == [CONSENT_LANGUAGE]


def test_api_campaign_to_an_opt_in_without_written_consent_is_refused(api: Tenant) -> None:
    api.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "front desk"})
    text = {"from": A, "to": BOB, "body": SALE, "campaign": True}
    assert api.ok("POST", "/v1/messages", text)["reason"] == "no_written_consent"


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": "Not A Slug"},
        {"given_at": "2026-01-01T10:00:00"},
        {"given_at": "2030-01-01T10:00:00+00:00"},
        {"ip": "nowhere"},
        {"language": ""},
        {"phone": "12"},
    ],
)
def test_api_refuses_bad_consent_with_a_422(api: Tenant, change: dict[str, Any]) -> None:
    response = api.post("/v1/consents", {**consent_body(BOB), **change})
    assert response.status_code == 422, response.text
    assert api.ok("GET", f"/v1/contacts/{BOB}/consents") == {"consents": []}


def test_api_refuses_consent_for_a_blocked_contact_with_a_409(api: Tenant) -> None:
    api.ok("POST", f"/v1/contacts/{BOB}/block")
    assert_problem(api.post("/v1/consents", consent_body(BOB)), 409)


def test_cli_records_and_lists_written_consent(db_url: str) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", ACME, "--support-contact", "help@acme.example")
    when = ("--given-at", CONSENT_GIVEN_AT.isoformat())
    out = cli(
        "--actor",
        "ann",
        "consents",
        "record",
        BOB,
        "--account",
        ACME,
        "--language",
        CONSENT_LANGUAGE,
        *when,
        "--url",
        "https://acme.example/join",
    )
    assert out.startswith("consent 1 recorded: +14155552671 marketing")
    (record,) = cli.json("consents", "list", BOB, "--account", ACME)["consents"]
    assert (record["by"], record["via"], record["language"]) == ("ann", "cli", CONSENT_LANGUAGE)
    cli("consents", "record", EVE, "--account", ACME, *when, code=2)  # no language given
    error = cli.error(
        "consents", "record", EVE, "--account", ACME, "--language", "x", "--given-at", "soon"
    )
    assert "ISO 8601" in error


def test_the_contact_page_records_and_shows_written_consent(api: Tenant) -> None:
    client = api.client
    api.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "front desk"})
    assert sign_in(client, api.key).status_code == 303
    page = client.get(f"/ui/contacts/{BOB}")
    assert "No written consent on record" in page.text
    form = {
        "purpose": "marketing",
        "language": CONSENT_LANGUAGE,
        "given_at": "2025-06-02T15:04:05",
        "url": "https://acme.example/join",
        "ip": "203.0.113.7",
    }
    posted = client.post(
        f"/ui/contacts/{BOB}/consent",
        data=form,
        headers={"origin": "http://testserver"},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    page = client.get(f"/ui/contacts/{BOB}")
    shown = html.escape(CONSENT_LANGUAGE, quote=False)
    assert shown in page.text and "written_consent by default" in page.text
    (record,) = api.ok("GET", f"/v1/contacts/{BOB}/consents")["consents"]
    assert (record["via"], record["given_at"]) == ("ui", CONSENT_GIVEN_AT.isoformat())
    bad = client.post(
        f"/ui/contacts/{BOB}/consent",
        data={**form, "given_at": "yesterday"},
        headers={"origin": "http://testserver"},
    )
    assert bad.status_code == 422
