"""Wrong numbers and number changes against real databases (SQLite and PostgreSQL): a
"wrong number" reply ends the consent under the default profile and is flagged under
a vendor profile; a contact's consent and lists move to a new number only with
evidence, and the ledger of both numbers says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from account_support import HELP_CONTACT
from store_support import ANY_HOUR

from optline.domain.actors import Actor
from optline.domain.consent_codes import Reason, Status
from optline.domain.messages import Via
from optline.engine import Engine
from optline.errors import BadInput, NumberHasHistory, UnknownContact

ACME = "acme"
A = "+14155550100"
B = "+14155550101"
BOB = "+14155552671"
NEW = "+14155553000"
EVE = "+12025550143"
STAFF = Actor("dana", Via.API)


def make_account(engine: Engine, profile: str = "default") -> None:
    overrides = {**HELP_CONTACT, **ANY_HOUR} if profile == "default" else HELP_CONTACT
    engine.create_account(ACME, profile, overrides)
    engine.add_sender(ACME, A)
    engine.add_sender(ACME, B)
    engine.create_list(ACME, "news")


FORM = "https://acme.example/join"


def opted_in(engine: Engine, number: str = BOB) -> None:
    engine.opt_in(ACME, number, "web form 2026-11-02, IP 203.0.113.7")
    engine.subscribe(ACME, "news", number)


def methods(engine: Engine, number: str) -> list[tuple[str, str | None]]:
    events, _ = engine.history(ACME, number)
    return [(e.type, e.data.get("method")) for e in events]


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("Wrong number", "en"),
        ("I'm not Mike", "en"),
        ("new number, not Janet's", "en"),
        ("Número equivocado", "es"),
        ("mauvais numéro", "fr"),
        ("falsche Nummer", "de"),
        ("número errado", "pt"),
        ("numero sbagliato", "it"),
    ],
)
def test_a_wrong_number_ends_consent_under_the_default_profile(
    engine: Engine, body: str, language: str
) -> None:
    make_account(engine)
    opted_in(engine)
    result = engine.receive(ACME, BOB, A, body)

    assert (result.intent, result.status) == ("opt_out", "opted_out")
    assert result.events == ("opted_out", "list_unsubscribed")
    assert result.reason.startswith(f"rules stage: wrong number ({language}")
    # One confirmation, in the reply's language, with no marketing in it.
    assert result.reply is not None and "STOP" not in result.reply
    assert methods(engine, BOB)[-2] == ("opted_out", "wrong_number")
    records = engine.records(ACME, [BOB])[BOB]
    assert records.account is not None and records.account.method is not None
    assert records.account.method.value == "wrong_number"
    assert records.lists == {"news": False}
    decision = engine.send(ACME, B, BOB, "Sale! Reply STOP to opt out", campaign=True)
    assert (decision.allowed, decision.reason) == (False, Reason.OPTED_OUT.value)
    assert all(r.ok for r in engine.verify())


def test_a_second_wrong_number_reply_is_recorded_but_not_confirmed_again(engine: Engine) -> None:
    make_account(engine)
    opted_in(engine)
    first = engine.receive(ACME, BOB, A, "wrong number")
    again = engine.receive(ACME, BOB, A, "I said wrong number!!")
    assert first.reply is not None and again.reply is None
    events, _ = engine.history(ACME, BOB)
    assert events[-1].type == "opted_out" and events[-1].data.get("repeat") is True


def test_an_ordinary_reply_and_a_number_the_contact_got_wrong_end_nothing(engine: Engine) -> None:
    make_account(engine)
    opted_in(engine)
    for body in ("I'm not sure, see you at 5", "Oops I gave you the wrong number for my door"):
        result = engine.receive(ACME, BOB, A, body)
        assert result.status == "opted_in", body
    assert engine.contact(ACME, BOB) is not None


@pytest.mark.parametrize("profile", ["twilio", "business_text"])
def test_a_vendor_profile_flags_a_wrong_number_for_review(engine: Engine, profile: str) -> None:
    make_account(engine, profile)
    opted_in(engine)
    result = engine.receive(ACME, BOB, A, "I'm not Mike")
    # Neither vendor reads "I'm not Mike" as anything: the wrong number is flagged.
    assert (result.intent, result.events) == ("possible_opt_out", ("revocation_flagged",))
    assert result.reason.startswith("rules stage: wrong number (en")
    assert result.status == "opted_in"


def test_an_account_may_set_its_vendor_profile_to_end_consent(engine: Engine) -> None:
    make_account(engine, "twilio")
    engine.set_policy(ACME, overrides={**HELP_CONTACT, "wrong_number": "end_consent"})
    opted_in(engine)
    result = engine.receive(ACME, BOB, A, "wrong person")
    assert (result.status, methods(engine, BOB)[-2]) == ("opted_out", ("opted_out", "wrong_number"))


# -- a contact's number change -----------------------------------------------------------


def test_a_move_takes_consent_and_lists_and_leaves_the_old_number_with_nothing(
    engine: Engine,
) -> None:
    make_account(engine)
    opted_in(engine)
    # The written consent Bob gave (64.1200(f)(9)) is his: it moves with him.
    engine.record_consent(ACME, BOB, "Yes, text me news.", datetime.now(UTC), url=FORM)
    old, new = engine.move_contact(ACME, BOB, NEW, "Bob phoned on 2026-12-01", actor=STAFF)
    assert (old.written, new.written) == (frozenset(), frozenset({"marketing"}))

    assert (old.account_status, dict(old.lists)) == (Status.NO_CONSENT, {})
    assert (new.account_status, dict(new.lists)) == (Status.OPTED_IN, {"news": True})
    records = engine.records(ACME, [BOB, NEW])
    assert records[BOB].account is None and dict(records[BOB].lists) == {}
    moved = records[NEW].account
    assert moved is not None and moved.status is Status.OPTED_IN
    assert moved.method is not None and moved.method.value == "manual"
    assert records[NEW].written == frozenset({"marketing"}) and not records[BOB].written
    # Both ledgers say what happened, with the evidence and who did it.
    out, _ = engine.history(ACME, BOB)
    into, _ = engine.history(ACME, NEW)
    assert out[-1].type == "number_moved_out" and into[-1].type == "number_moved_in"
    for event, other in ((out[-1], {"to": NEW}), (into[-1], {"from": BOB})):
        assert event.data["evidence"] == "Bob phoned on 2026-12-01"
        assert (event.data["by"], event.data["via"]) == ("dana", "api")
        assert other.items() <= event.data.items()
    assert all(r.ok for r in engine.verify())
    # The new number takes campaign texts; the old one gets none.
    assert engine.send(ACME, A, NEW, "News! Reply STOP to opt out", campaign=True).allowed
    refused = engine.send(ACME, A, BOB, "News! Reply STOP to opt out", campaign=True)
    assert refused.reason == Reason.NO_CONSENT.value


def test_a_move_needs_evidence_and_a_contact_to_move(engine: Engine) -> None:
    make_account(engine)
    opted_in(engine)
    for evidence in (None, "  "):
        with pytest.raises(BadInput, match="evidence"):
            engine.move_contact(ACME, BOB, NEW, evidence)
    with pytest.raises(BadInput, match="own number"):
        engine.move_contact(ACME, BOB, "(415) 555-2671", "said so")
    with pytest.raises(UnknownContact):
        engine.move_contact(ACME, EVE, NEW, "said so")
    # Nothing was written by any of them.
    assert engine.contact(ACME, NEW) is None or engine.history(ACME, NEW)[0] == []
    assert engine.contact(ACME, BOB) is not None
    assert engine.contact(ACME, BOB).account_status is Status.OPTED_IN  # type: ignore[union-attr]


def test_a_move_onto_a_number_with_history_is_refused_unless_confirmed(engine: Engine) -> None:
    make_account(engine)
    opted_in(engine)
    engine.opt_out(ACME, NEW)
    with pytest.raises(NumberHasHistory, match="replace_history"):
        engine.move_contact(ACME, BOB, NEW, "Bob phoned")
    state = engine.contact(ACME, BOB)
    assert state is not None and state.account_status is Status.OPTED_IN

    _, new = engine.move_contact(ACME, BOB, NEW, "Bob phoned", replace_history=True)
    assert new.account_status is Status.OPTED_IN
    assert all(r.ok for r in engine.verify())


def test_a_move_keeps_per_sender_consent_and_a_ledger_repair_agrees(engine: Engine) -> None:
    make_account(engine, "twilio")
    opted_in(engine)
    engine.receive(ACME, BOB, A, "STOP")
    _, new = engine.move_contact(ACME, BOB, NEW, "Bob emailed his new number")
    assert new.status_from(A) is Status.OPTED_OUT
    assert new.status_from(B) is Status.OPTED_IN
    assert engine.repair(ACME) == []
    assert all(r.ok for r in engine.verify())


def test_a_move_takes_each_purposes_own_consent_and_leaves_none_behind(
    engine: Engine,
) -> None:
    make_account(engine)
    opted_in(engine)
    engine.record_consent(ACME, BOB, "Yes, text me news.", datetime.now(UTC), url=FORM)
    engine.add_purpose(ACME, "appointment_reminders")
    engine.opt_in(ACME, BOB, "asked at the desk", purpose="appointment_reminders")
    engine.opt_out(ACME, BOB, purpose="informational")
    old, new = engine.move_contact(ACME, BOB, NEW, "Bob phoned on 2026-12-01", actor=STAFF)
    assert old.purposes == {} and dict(new.purposes) == {
        "appointment_reminders": Status.OPTED_IN,
        "informational": Status.OPTED_OUT,
    }
    # Whoever has Bob's old number now gets no text of any purpose; Bob's own choices
    # follow him to the new one.
    for purpose in ("appointment_reminders", "marketing"):
        refused = engine.send(ACME, A, BOB, "Hi. Reply STOP to opt out", purpose=purpose)
        assert refused.reason == Reason.NO_CONSENT.value
    allowed = engine.send(
        ACME, A, NEW, "Your visit is at 3. Reply STOP to opt out", purpose="appointment_reminders"
    )
    assert allowed.allowed
    refused = engine.send(ACME, A, NEW, "Hours changed", purpose="informational")
    assert refused.reason == Reason.OPTED_OUT.value
    assert all(r.ok for r in engine.verify())
