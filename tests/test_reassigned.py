"""The reassigned-numbers check on real databases (SQLite and PostgreSQL), with a local
fake of the lookup: asked before the first text after the policy's silence, never
otherwise; a number reassigned since its consent is refused (``number_reassigned``)
and its consent ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from account_support import HELP_CONTACT
from cli_support import Cli
from hypothesis import given
from hypothesis import strategies as st
from reassigned_support import FakeReassigned
from store_support import ANY_HOUR, Clock

from optline.api.app import create_app
from optline.domain.reassigned import due
from optline.engine import Engine, reassigned
from optline.settings import Settings
from optline.store import Store

ACME = "acme"
A = "+14155550100"
BOB = "+14155552671"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def setup(store: Store, check: FakeReassigned, profile: str = "default") -> tuple[Engine, Clock]:
    clock = Clock(START)
    engine = Engine(store, clock, reassigned=check)
    overrides = {**HELP_CONTACT, **ANY_HOUR} if profile == "default" else HELP_CONTACT
    engine.create_account(ACME, profile, overrides)
    engine.add_sender(ACME, A)
    engine.opt_in(ACME, BOB, "web form, 2026-03-02")
    return engine, clock


def test_a_number_reassigned_since_its_consent_is_refused_and_its_consent_ends(
    store: Store,
) -> None:
    check = FakeReassigned({BOB: date(2026, 4, 20)})
    engine, clock = setup(store, check)
    clock.now = START + timedelta(days=60)

    result = engine.send(ACME, A, BOB, "Your appointment is tomorrow at 9")
    assert (result.allowed, result.reason) == (False, "number_reassigned")
    assert check.asked == [(BOB, START.date())]
    events, _ = engine.history(ACME, BOB)
    assert [e.type for e in events][-2:] == ["opted_out", "send_refused"]
    assert events[-2].data["method"] == "number_reassigned"
    assert events[-2].data["source"] == "lookup"
    assert events[-1].data["reason"] == "number_reassigned"
    state = engine.contact(ACME, BOB)
    assert state is not None and state.account_status.value == "opted_out"
    assert all(r.ok for r in engine.verify())
    # Ended: the next text is refused as opted out, without asking again.
    assert engine.send(ACME, A, BOB, "Hello").reason == "opted_out"
    assert len(check.asked) == 1


@pytest.mark.parametrize("answer", ["not reassigned", "no data"])
def test_a_number_not_reported_reassigned_is_texted(store: Store, answer: str) -> None:
    check = FakeReassigned({BOB: date(2026, 1, 5)}, no_data=answer == "no data")
    engine, clock = setup(store, check)
    clock.now = START + timedelta(days=60)
    assert engine.send(ACME, A, BOB, "Your appointment is tomorrow at 9").allowed
    assert len(check.asked) == 1
    # The text just sent ends the silence: the next one is not checked.
    clock.now += timedelta(days=1)
    assert engine.send(ACME, A, BOB, "See you soon").allowed
    assert len(check.asked) == 1


def test_no_check_within_the_silence_nor_where_the_policy_has_none(store: Store) -> None:
    check = FakeReassigned({BOB: date(2026, 3, 3)})
    engine, clock = setup(store, check)
    clock.now = START + timedelta(days=44)
    assert engine.send(ACME, A, BOB, "Reminder: tomorrow at 9").allowed
    engine.set_policy(
        ACME, overrides={**HELP_CONTACT, **ANY_HOUR, "reassigned_check_after_days": None}
    )
    clock.now += timedelta(days=400)
    assert engine.send(ACME, A, BOB, "Reminder: tomorrow at 9").allowed
    assert check.asked == []


def test_a_vendor_profile_never_asks(store: Store) -> None:
    check = FakeReassigned({BOB: date(2026, 3, 3)})
    engine, clock = setup(store, check, "twilio")
    clock.now = START + timedelta(days=400)
    assert engine.send(ACME, A, BOB, "Hello").allowed
    assert check.asked == []


def test_the_configured_check_is_loaded_by_name() -> None:
    loaded = reassigned.load("reassigned_support:make_fake")
    assert loaded.reassigned_since(BOB, date(2025, 12, 1)) is True
    for spec in ("reassigned_support", "no_such_module:x", "reassigned_support:nothing"):
        with pytest.raises(ValueError, match="OPTLINE_REASSIGNED_NUMBERS"):
            reassigned.load(spec)


@given(
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=0, max_value=800),
    st.one_of(st.none(), st.integers(min_value=0, max_value=800)),
)
def test_the_check_is_due_exactly_after_the_silence(
    days: int, since_consent: int, since_text: int | None
) -> None:
    now = START + timedelta(days=1000)
    consented = now - timedelta(days=since_consent)
    last = None if since_text is None else now - timedelta(days=since_text)
    quiet = since_consent if since_text is None else min(since_text, since_consent)
    assert due(days, consented, last, now) is (quiet >= days)
    assert due(None, consented, last, now) is False


def test_the_service_and_the_cli_load_the_configured_check(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(
        Settings(database_url=db_url, reassigned_numbers="reassigned_support:make_fake")
    )
    engine = app.state.engine
    assert isinstance(engine._reassigned, FakeReassigned)
    engine.close()
    with pytest.raises(ValueError, match="OPTLINE_REASSIGNED_NUMBERS"):
        create_app(Settings(database_url=db_url, reassigned_numbers="no_such_module:make"))
    monkeypatch.setenv("OPTLINE_REASSIGNED_NUMBERS", "no_such_module:make")
    assert "OPTLINE_REASSIGNED_NUMBERS" in Cli(db_url).error(
        "contacts", "block", "--account", "acme", BOB
    )
