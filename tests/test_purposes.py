"""Purposes and revoke-all through the engine, on both databases, with an injected
clock: consent and opt-outs per purpose, a send's purpose, the dated revoke-all
switch, the (a)(12) question of which purposes to stop, lists under a purpose, the
projection and ``ledger verify``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from account_support import HELP_CONTACT
from store_support import ANY_HOUR, Clock

from optline.domain.consent_codes import Reason, Status
from optline.engine import Engine
from optline.errors import AlreadyExists, BadInput, NotAllowed, UnknownPurpose
from optline.store import Store

SENDER = "+14155550100"
OTHER_SENDER = "+14155550111"
ANN = "+14155550123"
BOB = "+14155550124"
SALE = "Winter sale: 20% off. Reply STOP to opt out."
REMINDER = "Your appointment is tomorrow at 9."
EVIDENCE = "web form at acme.example, 2026-12-01"
BEFORE_SWITCH = datetime(2027, 1, 30, 23, 59, tzinfo=UTC)
AFTER_SWITCH = datetime(2027, 1, 31, 0, 0, tzinfo=UTC)
# Purposes and revoke-all apart from the written consent marketing texts need under the
# default profile (tests/test_written_consent.py).
BASE: dict[str, Any] = {**HELP_CONTACT, **ANY_HOUR, "written_consent_required": False}
OFF: dict[str, Any] = {**BASE, "revoke_all": "off"}


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 17, 0, tzinfo=UTC))


def _engine(store: Store, clock: Clock, overrides: dict[str, Any]) -> Engine:
    engine = Engine(store, clock=clock)
    engine.create_account("acme", overrides=overrides)
    engine.add_sender("acme", SENDER)
    engine.add_sender("acme", OTHER_SENDER)
    engine.add_purpose("acme", "appointment_reminders")
    return engine


@pytest.fixture
def acme(store: Store, clock: Clock) -> Engine:
    """revoke_all off; Ann opted in to everything."""
    engine = _engine(store, clock, OFF)
    engine.opt_in("acme", ANN, EVIDENCE)
    return engine


def _allowed(engine: Engine, purpose: str | None = None, campaign: bool = False) -> bool:
    body = SALE if campaign or purpose == "marketing" else REMINDER
    return engine.check("acme", SENDER, ANN, body, campaign=campaign, purpose=purpose).allowed


def _verified(engine: Engine) -> None:
    (result,) = engine.verify("acme")
    assert result.ok, result


def test_an_account_has_the_default_purposes_and_adds_its_own(acme: Engine) -> None:
    assert acme.purposes("acme") == ("marketing", "informational", "appointment_reminders")
    with pytest.raises(AlreadyExists):
        acme.add_purpose("acme", "appointment_reminders")
    with pytest.raises(AlreadyExists):
        acme.add_purpose("acme", "marketing")
    for bad in ("all", "Has Spaces", "", "x" * 41, "9lives"):
        with pytest.raises(BadInput):
            acme.add_purpose("acme", bad)
    with pytest.raises(UnknownPurpose):
        acme.check("acme", SENDER, ANN, REMINDER, purpose="surveys")


def test_an_opt_out_of_one_purpose_leaves_the_others(acme: Engine) -> None:
    acme.opt_out("acme", ANN, purpose="marketing")
    assert not _allowed(acme, campaign=True)  # a campaign text is a marketing one
    assert not _allowed(acme, purpose="marketing")
    assert _allowed(acme, purpose="appointment_reminders")
    assert _allowed(acme)  # no purpose, not a campaign: informational
    refused = acme.check("acme", SENDER, ANN, SALE, campaign=True)
    assert refused.reason is Reason.OPTED_OUT
    # A broadcast and its set-based pre-check refuse it the same way.
    (result,) = acme.broadcast("acme", SENDER, SALE, numbers=[ANN])
    assert result.reason is Reason.OPTED_OUT
    assert acme.decide_broadcast("acme", SENDER, [ANN]).refused == {ANN: "opted_out"}
    reminders = acme.decide_broadcast("acme", SENDER, [ANN], purpose="appointment_reminders")
    assert reminders.allowed == [ANN]
    _verified(acme)


def test_an_opt_in_to_one_purpose_allows_only_it(acme: Engine) -> None:
    acme.opt_in("acme", BOB, EVIDENCE, purpose="appointment_reminders")
    check = acme.check
    assert check("acme", SENDER, BOB, REMINDER, purpose="appointment_reminders").allowed
    refused = check("acme", SENDER, BOB, SALE, campaign=True)
    assert refused.reason is Reason.NO_CONSENT
    assert acme.decide_broadcast("acme", SENDER, [BOB]).refused == {BOB: "no_consent"}
    with pytest.raises(BadInput):
        acme.opt_in("acme", BOB, EVIDENCE, sender=SENDER, purpose="marketing")
    _verified(acme)


def test_an_account_wide_change_covers_every_purpose(acme: Engine) -> None:
    acme.opt_out("acme", ANN, purpose="marketing")
    acme.opt_in("acme", ANN, EVIDENCE)
    assert _allowed(acme, campaign=True)
    acme.opt_out("acme", ANN)
    assert not _allowed(acme, purpose="appointment_reminders")
    _verified(acme)


def _last_text(engine: Engine, purpose: str | None = None, campaign: bool = False) -> None:
    body = SALE if campaign or purpose == "marketing" else REMINDER
    result = engine.send("acme", SENDER, ANN, body, campaign=campaign, purpose=purpose)
    assert result.decision.allowed, result


def test_revoke_all_on_ends_every_purpose(store: Store, clock: Clock) -> None:
    engine = _engine(store, clock, BASE)
    engine.opt_in("acme", ANN, EVIDENCE)
    _last_text(engine, campaign=True)
    result = engine.receive("acme", ANN, SENDER, "STOP")
    assert "ALL" not in (result.reply or "")
    assert not _allowed(engine, purpose="appointment_reminders")
    assert not _allowed(engine)


def test_revoke_all_off_with_one_purpose_ends_the_purpose_answered(acme: Engine) -> None:
    acme.opt_out("acme", ANN)
    acme.opt_in("acme", ANN, EVIDENCE, purpose="marketing")
    _last_text(acme, campaign=True)
    result = acme.receive("acme", ANN, SENDER, "STOP")
    assert result.reply is not None and "ALL" not in result.reply
    events, _ = acme.history("acme", ANN)
    assert events[-1].data["purpose"] == "marketing"
    assert not _allowed(acme, campaign=True)
    _verified(acme)


def test_several_purposes_end_all_and_the_confirmation_asks(acme: Engine, clock: Clock) -> None:
    _last_text(acme, purpose="appointment_reminders")
    result = acme.receive("acme", ANN, SENDER, "STOP")
    assert result.reply is not None
    assert "Reply ALL to stop all texts" in result.reply
    assert "APPOINTMENT_REMINDERS" in result.reply
    # Until the contact answers, every text needing consent stops (64.1200(a)(12)).
    for purpose in ("marketing", "informational", "appointment_reminders"):
        assert not _allowed(acme, purpose=purpose)
    # The answer names one purpose: only it stays stopped, and nothing is sent back.
    clock.now += timedelta(minutes=10)
    answer = acme.receive("acme", ANN, SENDER, "appointment reminders")
    assert answer.reply is None
    assert not _allowed(acme, purpose="appointment_reminders")
    assert _allowed(acme, campaign=True)
    assert _allowed(acme)
    _verified(acme)


def test_all_or_no_answer_in_the_window_leaves_every_purpose_stopped(
    acme: Engine, clock: Clock
) -> None:
    _last_text(acme, campaign=True)
    acme.receive("acme", ANN, SENDER, "STOP")
    assert acme.receive("acme", ANN, SENDER, "ALL").reply is None
    assert not _allowed(acme, purpose="informational")
    # Another contact answers too late: the window (60 minutes) has passed.
    acme.opt_in("acme", BOB, EVIDENCE)
    acme.send("acme", SENDER, BOB, SALE, campaign=True)
    acme.receive("acme", BOB, SENDER, "STOP")
    clock.now += timedelta(minutes=61)
    acme.receive("acme", BOB, SENDER, "MARKETING")
    reminder = acme.check("acme", SENDER, BOB, REMINDER, purpose="appointment_reminders")
    assert not reminder.allowed
    _verified(acme)


@pytest.mark.parametrize(("now", "covers_all"), [(BEFORE_SWITCH, False), (AFTER_SWITCH, True)])
def test_the_dated_switch_turns_revoke_all_on_at_its_date(
    store: Store, clock: Clock, now: datetime, covers_all: bool
) -> None:
    engine = _engine(store, clock, {**BASE, "revoke_all": "from 2027-01-31"})
    engine.opt_in("acme", ANN, EVIDENCE, purpose="marketing")
    engine.opt_in("acme", ANN, EVIDENCE, purpose="informational")
    engine.opt_out("acme", ANN, purpose="appointment_reminders")
    clock.now = now
    _last_text(engine, campaign=True)
    result = engine.receive("acme", ANN, SENDER, "STOP")
    assert result.reply is not None
    assert ("Reply ALL" in result.reply) is not covers_all
    clock.now = now + timedelta(minutes=1)
    engine.receive("acme", ANN, SENDER, "marketing")
    # Before the date the answer narrows the revocation; from it, all stays stopped.
    assert _allowed(engine, purpose="informational") is not covers_all
    _verified(engine)


def test_a_list_sits_under_a_purpose(acme: Engine) -> None:
    acme.create_list("acme", "reminders", purpose="appointment_reminders")
    with pytest.raises(UnknownPurpose):
        acme.create_list("acme", "surveys", purpose="surveys")
    acme.subscribe("acme", "reminders", ANN)
    acme.opt_out("acme", ANN, purpose="marketing")
    assert acme.check("acme", SENDER, ANN, REMINDER, list_name="reminders").allowed
    acme.opt_out("acme", ANN, purpose="appointment_reminders")
    refused = acme.check("acme", SENDER, ANN, REMINDER, list_name="reminders")
    assert refused.reason is Reason.OPTED_OUT
    (result,) = acme.broadcast("acme", SENDER, REMINDER, list_name="reminders", campaign=False)
    assert result.reason is Reason.OPTED_OUT


def test_a_never_profile_refuses_a_purpose_opt_in_after_an_opt_out(
    store: Store, clock: Clock
) -> None:
    engine = Engine(store, clock=clock)
    engine.create_account("acme", profile="twilio")
    engine.opt_out("acme", ANN, purpose="marketing")
    with pytest.raises(NotAllowed):
        engine.opt_in("acme", ANN, EVIDENCE, purpose="marketing")


def test_the_projection_shows_each_purpose_and_repair_rebuilds_it(acme: Engine) -> None:
    acme.opt_out("acme", ANN, purpose="marketing")
    record = acme.records("acme", [ANN])[ANN]
    rows = [r.as_dict() for r in record.rows()]
    assert rows[0]["purpose"] is None and rows[0]["status"] == Status.OPTED_IN.value
    assert rows[-1]["purpose"] == "marketing" and rows[-1]["status"] == "opted_out"
    _verified(acme)


def test_a_purpose_opt_out_is_on_the_suppression_list(acme: Engine) -> None:
    acme.opt_in("acme", BOB, EVIDENCE)
    acme.opt_out("acme", ANN, purpose="marketing")
    assert [c.phone for c in acme.contacts("acme", Status.OPTED_OUT)] == [ANN]
    seen_from = acme.contacts("acme", Status.OPTED_OUT, sender=SENDER)
    assert [c.phone for c in seen_from] == [ANN]


def test_verify_finds_a_tampered_purpose_and_repair_rebuilds_it(acme: Engine) -> None:
    import sqlalchemy as sa

    from optline.store.schema import purpose_consent

    acme.opt_out("acme", ANN, purpose="marketing")
    with acme.store.transaction() as tx:
        tx.conn.execute(sa.update(purpose_consent).values(status="opted_in"))
    (broken,) = acme.verify("acme")
    assert not broken.ok and broken.contact == ANN
    assert "marketing consent is opted_in" in (broken.problem or "")
    assert acme.repair("acme") == [ANN]
    _verified(acme)
    assert not _allowed(acme, campaign=True)


def test_an_existing_database_upgrades_in_place(store: Store, clock: Clock) -> None:
    from alembic import command

    from optline.store.migrate import alembic_config

    engine = Engine(store, clock=clock)
    engine.create_account("acme", overrides=BASE)
    engine.add_sender("acme", SENDER)
    engine.opt_in("acme", ANN, EVIDENCE)
    engine.opt_out("acme", BOB)
    config = alembic_config()
    with store.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "r0012")
        command.upgrade(config, "head")
        conn.commit()
    # What was on record decides as before; purposes work on the upgraded tables.
    assert _allowed(engine, campaign=True)
    assert engine.check("acme", SENDER, BOB, REMINDER).reason is Reason.OPTED_OUT
    engine.opt_out("acme", ANN, purpose="marketing")
    assert not _allowed(engine, campaign=True) and _allowed(engine)
    _verified(engine)


def test_the_batch_checker_reads_each_purpose(acme: Engine) -> None:
    acme.opt_in("acme", BOB, EVIDENCE)
    with acme.checker("acme", SENDER, campaign=True) as check:
        assert check(ANN, SALE).allowed  # no purpose's own consent in the account yet
    acme.opt_out("acme", ANN, purpose="marketing")
    with acme.checker("acme", SENDER, campaign=True) as check:
        assert check(ANN, SALE).reason is Reason.OPTED_OUT
        assert check(BOB, SALE).allowed
    with acme.checker("acme", SENDER, purpose="appointment_reminders") as check:
        assert check(ANN, REMINDER).allowed
