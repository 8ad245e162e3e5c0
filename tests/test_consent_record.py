"""Consent on record: no_consent and what it allows, each scope's method, time and
event, the stored state as the ledger's replay (verify, repair), and the filters and
export that show every scope."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from account_support import HELP_CONTACT
from cli_support import Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_support import Tenant

from optline.domain import projection
from optline.domain.consent import ContactState
from optline.domain.consent_codes import EventType, Method, Reason, Status
from optline.domain.decisions import decide
from optline.domain.profiles import PROFILES, get_profile
from optline.domain.projection import Mark, Projection
from optline.engine import Engine, ImportRow
from optline.errors import BadInput, NotAllowed
from optline.store import StoredEvent

ACME = "acme"
A, B = "+14155550100", "+14155550101"
BOB, ANN, CAT = "+14155550123", "+14155550124", "+14155550125"
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def make_account(engine: Engine, profile: str = "default", name: str = ACME) -> None:
    engine.create_account(name, profile, HELP_CONTACT)
    engine.add_sender(name, A)
    engine.add_sender(name, B)


# -- no_consent, and what it allows ----------------------------------------------------


def test_a_number_never_seen_has_no_consent_and_the_default_profile_refuses_it() -> None:
    policy = get_profile("default")
    assert ContactState(BOB).status_from(None) is Status.NO_CONSENT
    for campaign in (False, True):
        decision = decide(None, A, policy, "Reply STOP to opt out. Hi", campaign=campaign)
        assert (decision.allowed, decision.reason) == (False, Reason.NO_CONSENT)


def test_the_default_profile_answers_a_contact_who_texted_first_but_sends_no_campaign() -> None:
    policy = get_profile("default")
    wrote = ContactState(BOB, inbound=True)
    assert decide(wrote, A, policy, "Your table is ready").allowed
    refused = decide(wrote, A, policy, "Sale! Reply STOP to opt out.", campaign=True)
    assert refused.reason is Reason.NO_CONSENT
    # Marketing needs prior express written consent on record (64.1200(a)(2)).
    opted_in = ContactState(BOB, account_status=Status.OPTED_IN, written=frozenset({"marketing"}))
    assert decide(opted_in, A, policy, "Sale! Reply STOP to opt out.", campaign=True).allowed


@pytest.mark.parametrize("name", sorted(set(PROFILES) - {"default"}))
def test_vendor_profiles_text_a_contact_with_no_consent_as_documented(name: str) -> None:
    # Seed 000: "If a customer does not reply with STOP ... you can continue messaging
    # them"; none of the vendors refuses a number it has no opt-in for.
    policy = get_profile(name)
    for campaign in (False, True):
        assert decide(None, A, policy, "Hi. Reply STOP to opt out.", campaign=campaign).allowed


def test_an_inbound_text_records_that_the_contact_texted_first(engine: Engine) -> None:
    make_account(engine)
    assert engine.check(ACME, A, BOB, "hi").reason == "no_consent"
    engine.receive(ACME, BOB, A, "Is my order ready?", "SM1")
    state = engine.contact(ACME, BOB)
    assert state is not None and state.inbound and state.account_status is Status.NO_CONSENT
    assert engine.check(ACME, A, BOB, "Yes, it is").allowed
    assert engine.check(ACME, A, BOB, "Sale! Reply STOP", campaign=True).reason == "no_consent"
    # The broadcast decision refuses them for the same reason.
    assert engine.decide_broadcast(ACME, A, [BOB, ANN], campaign=True).refused == {
        BOB: "no_consent",
        ANN: "no_consent",
    }
    assert engine.decide_broadcast(ACME, A, [BOB, ANN], campaign=False).allowed == [BOB]


def test_an_outbound_text_alone_leaves_no_consent(engine: Engine) -> None:
    make_account(engine, "twilio")
    assert engine.send(ACME, A, BOB, "Hello").allowed
    state = engine.contact(ACME, BOB)
    assert state is not None and state.account_status is Status.NO_CONSENT
    assert engine.history(ACME, BOB)[0] == []


# -- methods and evidence --------------------------------------------------------------


def test_each_opt_out_and_opt_in_records_its_method(engine: Engine) -> None:
    make_account(engine)
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    engine.receive(ACME, ANN, A, "please stop texting me", "SM2")
    engine.opt_in(ACME, CAT, "signed up on acme.example/join at 09:30", method="web_form")
    engine.opt_out(ACME, CAT)
    methods = {
        p: [e.data.get("method") for e in engine.history(ACME, p)[0]] for p in (BOB, ANN, CAT)
    }
    assert methods == {BOB: ["keyword"], ANN: ["plain_language"], CAT: ["web_form", "manual"]}
    with pytest.raises(BadInput):
        engine.opt_in(ACME, BOB, "evidence", method="keyword")


def test_an_import_records_its_evidence_and_leaves_rows_without_any_with_no_consent(
    engine: Engine,
) -> None:
    make_account(engine)
    rows = [
        ImportRow(2, BOB, Status.OPTED_IN, (), "paper form of 2026-11-02"),
        ImportRow(3, ANN, Status.OPTED_IN, (), None),
        ImportRow(4, CAT, Status.OPTED_OUT, (), None),
    ]
    assert engine.import_contacts(ACME, rows) == 3
    (opted_in,) = engine.history(ACME, BOB)[0]
    assert opted_in.type == EventType.OPTED_IN
    assert opted_in.data["method"] == "import"
    assert opted_in.data["evidence"] == "paper form of 2026-11-02"
    ann = engine.contact(ACME, ANN)
    assert ann is not None and ann.account_status is Status.NO_CONSENT
    assert engine.history(ACME, ANN)[0] == []
    records = engine.records(ACME, [BOB, CAT])
    bob, cat = records[BOB].account, records[CAT].account
    assert bob is not None and bob.method is Method.IMPORT
    assert cat is not None and (cat.status, cat.method) == (Status.OPTED_OUT, Method.IMPORT)


# -- every scope, filtered and exported ------------------------------------------------


def test_a_stop_to_one_sender_shows_in_every_view(engine: Engine, db_url: str) -> None:
    make_account(engine, "twilio")
    engine.send(ACME, A, ANN, "Hello")
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    engine.receive(ACME, CAT, B, "STOP", "SM2")
    (event,) = engine.history(ACME, BOB)[0]

    record = engine.records(ACME, [BOB])[BOB]
    assert record.account is None
    assert record.senders == {
        A: Mark(Status.OPTED_OUT, Method.KEYWORD, event.occurred_at, event.seq)
    }
    opted_out = engine.contacts(ACME, Status.OPTED_OUT)
    assert [c.phone for c in opted_out] == [BOB, CAT]
    assert [c.phone for c in engine.contacts(ACME, Status.OPTED_OUT, sender=B)] == [CAT]
    assert [c.phone for c in engine.contacts(ACME, Status.NO_CONSENT, sender=A)] == [ANN, CAT]

    cli = Cli(db_url)
    out = cli("contacts", "list", "--account", ACME, "--status", "opted_out")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["phone", "scope", "status", "since", "method", "event_seq", "purpose"]
    assert rows[1] == [BOB, A, "opted_out", event.occurred_at.isoformat(), "keyword", "1", ""]
    assert [r[:3] for r in rows[2:]] == [[CAT, B, "opted_out"]]
    narrowed = cli("contacts", "list", "--account", ACME, "--status", "opted_out", "--sender", B)
    assert [r[:2] for r in csv.reader(io.StringIO(narrowed))][1:] == [[CAT, B]]
    listed = json.loads(cli("contacts", "list", "--account", ACME, "--format", "json"))
    ann = next(c for c in listed["contacts"] if c["phone"] == ANN)
    assert ann["scopes"] == [
        {
            "scope": "account",
            "purpose": None,
            "status": "no_consent",
            "since": None,
            "method": None,
            "event_seq": None,
        }
    ]


def test_csv_rows_name_each_scope() -> None:
    from optline.contacts_csv import rows

    mark = Mark(Status.OPTED_OUT, Method.KEYWORD, AT, 3)
    record = Projection(BOB, account=Mark(Status.OPTED_IN, Method.MANUAL, AT, 1), senders={A: mark})
    assert rows(record) == [
        (BOB, "account", "opted_in", AT.isoformat(), "manual", "1", ""),
        (BOB, A, "opted_out", AT.isoformat(), "keyword", "3", ""),
    ]
    assert rows(record, Status.OPTED_OUT) == [rows(record)[1]]
    assert rows(record, sender=B) == [rows(record)[0]]


def test_csv_rows_name_each_purpose_with_a_consent_of_its_own() -> None:
    from optline.contacts_csv import rows

    out = Mark(Status.OPTED_OUT, Method.MANUAL, AT, 4)
    sender = Mark(Status.OPTED_IN, Method.KEYWORD, AT, 2)
    account = Mark(Status.OPTED_IN, Method.MANUAL, AT, 1)
    record = Projection(BOB, account=account, senders={A: sender}, purposes={"marketing": out})
    marketing = (BOB, "account", "opted_out", AT.isoformat(), "manual", "4", "marketing")
    assert rows(record)[-1] == marketing
    assert rows(record, Status.OPTED_OUT) == [marketing]
    # As seen from a sender: the scope that decides for it, and every purpose's own.
    assert [r[1] for r in rows(record, sender=A)] == [A, "account"]
    assert rows(record, sender=B)[-1] == marketing


# -- the ledger as the source of truth -------------------------------------------------


def _tamper(engine: Engine, statement: str) -> None:
    with engine.store.engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_verify_catches_a_status_changed_in_sql_and_repair_restores_it(
    engine: Engine, db_url: str
) -> None:
    make_account(engine)
    engine.opt_in(ACME, ANN, "web form", method="web_form")
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    (result,) = engine.verify(ACME)
    assert result.ok

    _tamper(engine, f"UPDATE contacts SET status = 'opted_in' WHERE phone = '{BOB}'")
    assert engine.check(ACME, A, BOB, "hi").allowed  # what verify must catch
    (result,) = engine.verify(ACME)
    assert (result.ok, result.contact) == (False, BOB)
    assert result.problem is not None and "opted_out" in result.problem
    cli = Cli(db_url)
    result_line = cli("ledger", "verify", "--account", ACME, code=1)
    assert f"MISMATCH at contact {BOB}" in result_line

    assert cli("ledger", "repair", "--account", ACME).splitlines()[-1] == (
        f"{ACME}: 1 contact(s) repaired"
    )
    assert engine.verify(ACME)[0].ok
    assert engine.check(ACME, A, BOB, "hi").reason == "opted_out"


def test_verify_names_a_sender_row_or_mark_that_disagrees(engine: Engine) -> None:
    make_account(engine, "twilio")
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    _tamper(engine, "DELETE FROM sender_consent")
    assert engine.verify(ACME)[0].contact == BOB
    engine.repair(ACME)
    _tamper(engine, "UPDATE sender_consent SET method = 'manual'")
    assert engine.verify(ACME)[0].contact == BOB


def test_repair_refuses_a_broken_chain(engine: Engine) -> None:
    make_account(engine)
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    _tamper(engine, "UPDATE events SET type = 'opted_in'")
    with pytest.raises(NotAllowed):
        engine.repair(ACME)


def _event(seq: int, kind: EventType, phone: str, **data: object) -> StoredEvent:
    return StoredEvent(1, seq, kind.value, phone, dict(data), AT, "", "")


def test_the_replay_reads_events_written_before_methods_were() -> None:
    events = [
        _event(
            1, EventType.OPTED_OUT, BOB, source="keyword", keyword="STOP", scope="sender", sender=A
        ),
        _event(2, EventType.OPTED_OUT, ANN, source="keyword", scope="account"),
        _event(3, EventType.OPTED_IN, CAT, source="import", evidence="form"),
        _event(4, EventType.BLOCKED, CAT, source="manual"),
        _event(5, EventType.LIST_SUBSCRIBED, CAT, source="manual", list="news"),
    ]
    replayed = projection.replay(events)
    assert replayed[BOB].senders[A].method is Method.KEYWORD
    assert replayed[ANN].account == Mark(Status.OPTED_OUT, Method.PLAIN_LANGUAGE, AT, 2)
    assert replayed[CAT] == Projection(
        CAT,
        blocked=True,
        account=Mark(Status.OPTED_OUT, Method.MANUAL, AT, 4),
        lists={"news": True},
    )


_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["STOP", "START", "STOPALL", "hello", "please stop texting me", "HELP"])
        | st.sampled_from(["opt_out", "opt_in", "block", "unblock", "import_out", "import_in"]),
        st.sampled_from([BOB, ANN]),
        st.integers(0, 1),
    ),
    min_size=1,
    max_size=10,
)
_examples = itertools.count()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    profile=st.sampled_from(["default", "twilio", "krispcall", "business_text"]), ops=_OPERATIONS
)
def test_any_sequence_of_operations_leaves_the_stored_state_equal_to_the_replay(
    engine: Engine, profile: str, ops: list[tuple[str, str, int]]
) -> None:
    k = next(_examples)
    name, senders = f"p{k}", (f"+1415557{2 * k:04d}", f"+1415557{2 * k + 1:04d}")
    engine.create_account(name, profile, HELP_CONTACT)
    for number in senders:
        engine.add_sender(name, number)
    for n, (op, person, sender) in enumerate(ops):
        try:
            if op == "opt_out":
                engine.opt_out(name, person, senders[sender] if sender else None)
            elif op == "opt_in":
                engine.opt_in(name, person, "consent form", senders[sender] if sender else None)
            elif op in ("block", "unblock"):
                getattr(engine, op)(name, person)
            elif op.startswith("import_"):
                status = Status.OPTED_OUT if op == "import_out" else Status.OPTED_IN
                engine.import_contacts(name, [ImportRow(1, person, status, ("news",), "form")])
            else:
                engine.receive(name, person, senders[sender], op, f"SM{n}")
        except (NotAllowed, BadInput):
            pass  # refused as the policy says: nothing written
    (result,) = engine.verify(name)
    assert result.ok, result.problem
    assert engine.repair(name) == []


def test_the_migration_gives_contacts_with_no_consent_event_no_consent(db_url: str) -> None:
    from alembic import command

    from optline.store import Store
    from optline.store.migrate import alembic_config

    store = Store.open(db_url)
    engine = Engine(store)
    try:
        make_account(engine, "twilio")
        engine.receive(ACME, BOB, A, "STOP", "SM1")
        engine.send(ACME, A, ANN, "Hello")
        engine.receive(ACME, CAT, A, "hello there", "SM2")
        config = alembic_config()
        with store.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "r0009")
            # As r0009 kept them: everyone opted in by default, no marks.
            conn.execute(sa.text("UPDATE contacts SET status = 'opted_in'"))
            command.upgrade(config, "head")
            conn.commit()
        assert engine.verify(ACME)[0].ok
        states = {p: engine.contact(ACME, p) for p in (BOB, ANN, CAT)}
        # Nothing on record for the account: no_consent; BOB's opt-out from A stays.
        assert {
            p: (s.account_status, dict(s.sender_status), s.inbound) for p, s in states.items() if s
        } == {
            BOB: (Status.NO_CONSENT, {A: Status.OPTED_OUT}, True),
            ANN: (Status.NO_CONSENT, {}, False),
            CAT: (Status.NO_CONSENT, {}, True),
        }
        (event,) = engine.history(ACME, BOB)[0]
        assert engine.records(ACME, [BOB])[BOB].senders[A].event_seq == event.seq
    finally:
        engine.close()


def test_the_api_filters_by_scope_shows_every_scope_and_names_a_disagreeing_contact(
    acme: Tenant, engine: Engine
) -> None:
    acme.ok("PUT", "/v1/policy", {"profile": "twilio"})
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out", {"sender": A})
    acme.ok("POST", f"/v1/contacts/{CAT}/opt-out", {"sender": B})
    acme.ok("POST", f"/v1/contacts/{ANN}/opt-in", {"evidence": "form 7", "method": "web_form"})

    listed = acme.get("/v1/contacts?status=opted_out").json()["contacts"]
    assert [c["phone"] for c in listed] == [BOB, CAT]
    assert [s["scope"] for s in listed[0]["scopes"]] == ["account", A]
    assert listed[0]["scopes"][1]["status"] == "opted_out"
    assert listed[0]["scopes"][1]["method"] == "manual"
    narrowed = acme.get(f"/v1/contacts?status=opted_out&sender={B}").json()["contacts"]
    assert [c["phone"] for c in narrowed] == [CAT]
    ann = acme.get(f"/v1/contacts/{ANN}").json()
    assert ann["scopes"][0]["status"] == "opted_in"
    assert ann["scopes"][0]["method"] == "web_form"
    assert acme.get("/v1/ledger/verify").json()["ok"]

    _tamper(engine, f"UPDATE sender_consent SET status = 'opted_in' WHERE phone = '{CAT}'")
    verdict = acme.get("/v1/ledger/verify").json()
    assert (verdict["ok"], verdict["contact"]) == (False, CAT)
