"""Sends left unsettled by a crash: listed, counted, reconciled from Twilio's own
record (the fake provider's), or settled by an operator, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from account_support import HELP_CONTACT
from fakeprovider import FakeProvider, Reply

from optline.domain.messages import MessageStatus, Reconciled, SettledAs, Via
from optline.engine import Dispatch, Engine
from optline.errors import AlreadySettled, BadInput, UnknownMessage
from optline.providers.base import BeforeRetry, ProviderRecord, RetryPolicy, SentText
from optline.providers.registry import Dispatcher
from optline.store import SenderRow, Store

ACME = "acme"
A = "+14155550100"  # acme's Twilio number
T = "+14155550101"  # acme's Telnyx number
BOB = "+14155552671"
EVE = "+12025550143"
TWILIO = {"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32}
TELNYX = {"api_key": "KEY1", "public_key": "A" * 43 + "="}


class Crash(BaseException):
    """The process stops where this is raised."""


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def dispatcher(fake: FakeProvider) -> Iterator[Dispatcher]:
    found = Dispatcher(
        {"twilio": fake.url}, retry=RetryPolicy(attempts=2, initial_wait=0.01, timeout=5)
    )
    yield found
    found.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def engine(store: Store, dispatcher: Dispatcher, clock: Clock) -> Engine:
    engine = Engine(store, clock=clock, dispatch=dispatcher)
    engine.create_account(ACME, "twilio")
    engine.add_sender(ACME, A, provider="twilio", credentials=TWILIO)
    engine.add_sender(ACME, T, provider="telnyx", credentials=TELNYX)
    return engine


def crashing(store: Store, clock: Clock, dispatch: Dispatch | None) -> Engine:
    """The engine of a process that dies during a hand-over: after Twilio has taken the
    text (with ``dispatch``) or before it is asked (without)."""

    def hand_over(
        sender: SenderRow, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str | None:
        if dispatch is not None:
            dispatch(sender, to, body)
        raise Crash

    return Engine(store, clock=clock, dispatch=hand_over)


def stuck(engine: Engine, clock: Clock, dispatch: Dispatch | None, to: str, body: str) -> int:
    """A send left ``sending``: claimed, then the process died; its message id."""
    with pytest.raises(Crash):
        crashing(engine.store, clock, dispatch).send(ACME, A, to, body)
    message = [m for m in engine.history(ACME, to)[1] if m.body == body][-1]
    assert (message.status, message.provider_id) == ("sending", None)
    return message.id


def queued(engine: Engine, to: str, body: str, sender: str = A) -> int:
    """A send recorded ``queued``, whose hand-over never started."""
    return engine.decide_send(ACME, sender, to, body).message_id


def events(engine: Engine, number: str) -> list[tuple[str, dict[str, object]]]:
    return [(e.type, e.data) for e in engine.history(ACME, number)[0]]


def intact(engine: Engine) -> None:
    (result,) = engine.verify(ACME)
    assert result.ok, result.problem


# -- listing and counting ------------------------------------------------------------


def test_sending_and_long_queued_sends_are_listed_and_counted(
    engine: Engine, clock: Clock, dispatcher: Dispatcher
) -> None:
    clock.now -= timedelta(minutes=10)
    old = queued(engine, BOB, "Queued ten minutes ago")
    claimed = stuck(engine, clock, None, EVE, "Claimed ten minutes ago")
    clock.now += timedelta(minutes=9)
    recent = queued(engine, EVE, "Queued a minute ago")
    sent = engine.send(ACME, A, BOB, "Went through").message_id
    clock.now += timedelta(minutes=1)

    listed = engine.unsettled_sends(ACME)
    assert [(m.id, m.status) for m in listed] == [(old, "queued"), (claimed, "sending")]
    assert engine.unsettled_counts(ACME) == {MessageStatus.QUEUED: 1, MessageStatus.SENDING: 1}
    # A shorter wait takes the recent one in too; settled texts are never listed.
    everything = engine.unsettled_sends(ACME, queued_for=timedelta(0))
    assert [m.id for m in everything] == [old, claimed, recent]
    assert sent not in {m.id for m in everything}
    assert engine.unsettled_counts(ACME, timedelta(0))[MessageStatus.QUEUED] == 2
    # The REST listing's reading of the same rows, one status at a time.
    assert [m.id for m in engine.unsettled_messages(ACME, "queued")] == [old, recent]
    older = engine.unsettled_messages(ACME, "queued", older_than=timedelta(minutes=5))
    assert [m.id for m in older] == [old]
    with pytest.raises(BadInput):
        engine.unsettled_sends(ACME, queued_for=timedelta(seconds=-1))


def test_another_accounts_unsettled_sends_are_not_listed(engine: Engine, clock: Clock) -> None:
    stuck(engine, clock, None, BOB, "acme's")
    engine.create_account("other", "twilio")
    assert engine.unsettled_sends("other") == []
    assert engine.unsettled_counts("other") == {
        MessageStatus.QUEUED: 0,
        MessageStatus.SENDING: 0,
    }


# -- reconciling from Twilio's record -------------------------------------------------


def test_a_send_cut_off_after_twilio_took_it_is_settled_sent_with_its_sid(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    message_id = stuck(engine, clock, dispatcher, BOB, "Your table is ready")
    (sid,) = fake.twilio_messages  # Twilio took it; optline never heard its answer

    (result,) = engine.reconcile(dispatcher.look_up)

    assert (result.outcome, result.provider_id, result.message_id) == (
        Reconciled.SENT,
        sid,
        message_id,
    )
    message = engine.message(ACME, message_id)
    assert (message.status, message.provider_id, message.reason) == ("sent", sid, None)
    kind, data = events(engine, BOB)[-1]
    assert kind == "send_settled"
    assert data == {
        "source": "provider",
        "sender": A,
        "message_id": message_id,
        "was": "sending",
        "status": "sent",
        "by": "cli",
        "via": "cli",
        "provider": "twilio",
        "provider_id": sid,
        "provider_status": "queued",
    }
    intact(engine)
    assert engine.unsettled_sends(ACME) == []
    # Found by To, From and DateSent around the time it was recorded.
    (listing,) = [r for r in fake.requests if r.method == "GET"]
    assert listing.query["To"] == [BOB] and listing.query["From"] == [A]
    assert {"DateSent>", "DateSent<"} <= set(listing.query)
    # Its SID now ties Twilio's later reports to it.
    engine.delivery_report(ACME, A, sid, BOB, "delivered", None, opted_out=False)
    assert engine.message(ACME, message_id).status == "delivered"
    # Nothing is left to ask about.
    assert engine.reconcile(dispatcher.look_up) == []


def test_a_send_twilio_failed_is_settled_failed_with_twilios_error(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    message_id = stuck(engine, clock, dispatcher, BOB, "Reminder: 3 pm")
    (sid,) = fake.twilio_messages
    fake.twilio_messages[sid].update(
        status="undelivered", error_code=30003, error_message="Unreachable destination handset"
    )
    (result,) = engine.reconcile(dispatcher.look_up)
    assert (result.outcome, result.reason, result.provider_status) == (
        Reconciled.FAILED,
        "provider_30003",
        "undelivered",
    )
    message = engine.message(ACME, message_id)
    assert (message.status, message.reason, message.provider_id) == (
        "failed",
        "provider_30003",
        sid,
    )
    _, data = events(engine, BOB)[-1]
    assert (data["status"], data["code"], data["error"]) == (
        "failed",
        "30003",
        "Unreachable destination handset",
    )
    intact(engine)


def test_twilios_opted_out_refusal_opts_the_contact_out_here_too(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    message_id = stuck(engine, clock, dispatcher, BOB, "Sale today")
    (sid,) = fake.twilio_messages
    fake.twilio_messages[sid].update(status="failed", error_code=21610)
    (result,) = engine.reconcile(dispatcher.look_up)
    assert (result.outcome, result.reason) == (Reconciled.FAILED, "opted_out")
    assert engine.message(ACME, message_id).reason == "opted_out"
    assert [kind for kind, _ in events(engine, BOB)] == ["send_settled", "opted_out"]
    assert engine.check(ACME, A, BOB, "hi").reason == "opted_out"
    intact(engine)


def test_a_send_twilio_never_got_is_left_for_an_operator(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    message_id = stuck(engine, clock, None, BOB, "Never reached Twilio")
    # Twilio holds other texts to BOB: another body, and this body long before.
    fake.add_twilio_message(BOB, A, "Something else")
    fake.add_twilio_message(BOB, A, "Never reached Twilio", at=clock.now - timedelta(days=2))

    (result,) = engine.reconcile(dispatcher.look_up)

    assert result.outcome is Reconciled.NOT_FOUND and not result.outcome.settled
    assert result.detail is not None and "settle it by hand" in result.detail
    assert engine.message(ACME, message_id).status == "sending"
    assert [m.id for m in engine.unsettled_sends(ACME)] == [message_id]
    assert events(engine, BOB) == []


def test_a_recorded_sid_is_fetched_and_a_sid_of_another_message_is_not_taken(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    # The same text twice: the first went through, the second was cut off once Twilio
    # had it. Twilio lists both; the first's SID is already the first message's.
    first = engine.send(ACME, A, BOB, "Doors open at 7")
    second = stuck(engine, clock, dispatcher, BOB, "Doors open at 7")
    sids = sorted(fake.twilio_messages, key=lambda s: s != first.provider_id)
    (result,) = engine.reconcile(dispatcher.look_up)
    assert (result.message_id, result.provider_id) == (second, sids[1])

    # A text left sending with a SID on record is fetched by it.
    third = engine.decide_send(ACME, A, EVE, "See you").message_id
    with engine.store.transaction() as tx:
        tx.messages.set_status(engine.account(ACME).id, third, "sending", None, "SMknown")
    fake.add_twilio_message(EVE, A, "See you", status="delivered", sid="SMknown")
    fake.requests.clear()
    (fetched,) = engine.reconcile(dispatcher.look_up)
    assert (fetched.message_id, fetched.outcome, fetched.provider_status) == (
        third,
        Reconciled.SENT,
        "delivered",
    )
    assert [r.path.rsplit("/", 1)[-1] for r in fake.requests] == ["SMknown.json"]


def test_texts_of_providers_that_cannot_be_asked_or_cannot_be_reached_stay(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    telnyx = queued(engine, BOB, "Through Telnyx", sender=T)
    with engine.store.transaction() as tx:
        tx.messages.move(engine.account(ACME).id, telnyx, "queued", "sending")
    twilio = stuck(engine, clock, None, EVE, "Through Twilio")
    fake.script(Reply.server_error(), Reply.server_error())  # both tries fail

    results = {r.message_id: r for r in engine.reconcile(dispatcher.look_up, ACME)}

    assert results[telnyx].outcome is Reconciled.CANNOT_ASK
    assert "telnyx" in (results[telnyx].detail or "")
    assert results[twilio].outcome is Reconciled.UNREACHABLE
    assert {m.status for m in engine.unsettled_sends(ACME)} == {"sending"}
    # Queued texts were never handed over: there is nothing to ask about them.
    queued(engine, BOB, "Never claimed")
    assert {r.message_id for r in engine.reconcile(dispatcher.look_up)} == {telnyx, twilio}


def test_reconcile_takes_every_account_or_the_one_named(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    stuck(engine, clock, dispatcher, BOB, "acme's text")
    engine.create_account("other", "twilio")
    assert engine.reconcile(dispatcher.look_up, "other") == []
    (result,) = engine.reconcile(dispatcher.look_up)
    assert (result.account, result.outcome) == (ACME, Reconciled.SENT)


# -- settled by an operator -------------------------------------------------------------


def test_an_operator_settles_a_send_and_the_ledger_says_who_and_why(
    engine: Engine, clock: Clock
) -> None:
    message_id = stuck(engine, clock, None, BOB, "Cut off")
    settled = engine.settle(
        ACME, message_id, SettledAs.FAILED, "  Twilio console shows no such text ", "ann", Via.UI
    )
    assert (settled.status, settled.reason) == ("failed", "settled_by_operator")
    kind, data = events(engine, BOB)[-1]
    assert kind == "send_settled"
    assert data == {
        "source": "manual",
        "sender": A,
        "message_id": message_id,
        "was": "sending",
        "status": "failed",
        "by": "ann",
        "via": "ui",
        "reason": "Twilio console shows no such text",
    }
    intact(engine)
    assert engine.unsettled_sends(ACME) == []

    # A queued one can be settled too; a settled one cannot be settled again.
    clock.now -= timedelta(minutes=6)
    waiting = queued(engine, EVE, "Never handed over")
    clock.now += timedelta(minutes=6)
    assert engine.settle(ACME, waiting, SettledAs.SENT, "sent by hand", "cli", Via.CLI).status == (
        "sent"
    )
    with pytest.raises(AlreadySettled, match="only a send still queued or sending"):
        engine.settle(ACME, waiting, SettledAs.FAILED, "again", "cli", Via.CLI)
    assert [kind for kind, _ in events(engine, EVE)] == ["send_settled"]
    intact(engine)


def test_settling_refuses_bad_input_and_changes_nothing(engine: Engine, clock: Clock) -> None:
    message_id = stuck(engine, clock, None, BOB, "Cut off")
    inbound = engine.receive(ACME, EVE, A, "hello", provider_id="SMin")
    assert inbound.status == "no_consent"
    (received,) = engine.history(ACME, EVE)[1]
    for reason in ("", "   ", "x" * 501, "two\nlines"):
        with pytest.raises(BadInput):
            engine.settle(ACME, message_id, SettledAs.SENT, reason, "cli", Via.CLI)
    with pytest.raises(BadInput):
        engine.settle(ACME, message_id, SettledAs.SENT, "checked", " ", Via.CLI)
    with pytest.raises(UnknownMessage):
        engine.settle(ACME, message_id + 1000, SettledAs.SENT, "checked", "cli", Via.CLI)
    with pytest.raises(AlreadySettled):
        engine.settle(ACME, received.id, SettledAs.SENT, "checked", "cli", Via.CLI)
    assert engine.message(ACME, message_id).status == "sending"
    assert events(engine, BOB) == []


def test_a_failed_first_text_leaves_the_disclosure_for_the_next_one(
    store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    engine = Engine(store, clock=clock, dispatch=dispatcher)
    engine.create_account(
        ACME, overrides=HELP_CONTACT
    )  # default profile: a first text carries a disclosure
    engine.add_sender(ACME, A, provider="twilio", credentials=TWILIO)
    engine.opt_in(ACME, BOB, "joined at the front desk")  # no texts without consent
    message_id = stuck(engine, clock, None, BOB, "Welcome to Acme\n\nReply STOP to opt out.")
    engine.settle(ACME, message_id, SettledAs.FAILED, "never went", "cli", Via.CLI)
    assert engine.check(ACME, A, BOB, "Hello").body.endswith("Reply STOP to opt out.")


def test_an_unknown_status_or_a_send_settled_meanwhile_is_left_as_it_is(
    engine: Engine, clock: Clock, dispatcher: Dispatcher, fake: FakeProvider
) -> None:
    odd = stuck(engine, clock, dispatcher, BOB, "Odd status")
    (sid,) = fake.twilio_messages
    fake.twilio_messages[sid]["status"] = "held_for_review"
    (result,) = engine.reconcile(dispatcher.look_up)
    assert (result.outcome, result.provider_status) == (Reconciled.UNREADABLE, "held_for_review")
    assert engine.message(ACME, odd).status == "sending"

    # An operator settles it while its provider is being asked: the answer changes nothing.
    def asked_meanwhile(sender: SenderRow, text: SentText) -> list[ProviderRecord]:
        engine.settle(ACME, odd, SettledAs.FAILED, "gave up on it", "ann", Via.UI)
        return [ProviderRecord("twilio", sid, "delivered", MessageStatus.SENT)]

    (late,) = engine.reconcile(asked_meanwhile)
    assert late.outcome is Reconciled.ALREADY_SETTLED
    message = engine.message(ACME, odd)
    assert (message.status, message.reason, message.provider_id) == (
        "failed",
        "settled_by_operator",
        None,
    )
    assert [kind for kind, _ in events(engine, BOB)] == ["send_settled"]
