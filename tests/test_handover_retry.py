"""Each provider attempt is a hand-over: a text is decided again before every retry.

A provider that fails an attempt (5xx, timeout) gets the text again seconds later; an
opt-out committed in between must stop that retry, as it would stop a first attempt.
The provider here is the local fake Twilio API, with the real adapter and its retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from account_support import HELP_CONTACT
from fakeprovider import FakeProvider, Recorded, Reply

from optline.domain.consent_codes import Reason
from optline.engine import Engine
from optline.providers.base import RetryPolicy
from optline.providers.registry import Dispatcher
from optline.store import Store

ACME = "acme"
SENDER = "+14155550190"
BOB = "+14155552671"
QUICK = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02, timeout=5)


@pytest.fixture
def engine(store: Store, fake: FakeProvider) -> Iterator[Engine]:
    dispatcher = Dispatcher({"twilio": fake.url}, retry=QUICK)
    engine = Engine(store, dispatch=dispatcher)
    engine.create_account(ACME, "default", HELP_CONTACT)
    engine.add_sender(
        ACME, SENDER, provider="twilio", credentials={"account_sid": "AC1", "auth_token": "t"}
    )
    # Bob's consent on record: the default profile texts no one without it.
    engine.opt_in(ACME, BOB, "booked online, 2026-12-01")
    try:
        yield engine
    finally:
        dispatcher.close()


def _on_first_request(fake: FakeProvider, action: Callable[[], object]) -> None:
    """Run ``action()`` while the provider holds its first request (before it answers)."""
    seen: list[Recorded] = []

    def hook(request: Recorded) -> None:
        seen.append(request)
        if len(seen) == 1:
            action()

    fake.on_request = hook


def test_a_stop_between_two_attempts_stops_the_retry(engine: Engine, fake: FakeProvider) -> None:
    fake.script(Reply.error(503))
    _on_first_request(fake, lambda: engine.receive(ACME, BOB, SENDER, "STOP", "SM-stop"))
    result = engine.send(ACME, SENDER, BOB, "Your table is ready")
    assert (result.status, result.reason) == ("failed", Reason.OPTED_OUT)
    assert len(fake.requests) == 1  # the failed attempt alone reached the provider
    events, messages = engine.history(ACME, BOB)
    assert [e.type for e in events] == ["opted_in", "opted_out", "send_refused"]
    text = next(m for m in messages if m.id == result.message_id)
    assert (text.status, text.reason, text.provider_id) == ("failed", "opted_out", None)


def test_a_retry_with_consent_unchanged_goes_out(engine: Engine, fake: FakeProvider) -> None:
    fake.script(Reply.error(503), Reply.server_error())
    result = engine.send(ACME, SENDER, BOB, "Your table is ready")
    assert (result.status, result.reason) == ("sent", None)
    assert len(fake.requests) == 3
    assert [e.type for e in engine.history(ACME, BOB)[0]] == ["opted_in"]


def test_a_retried_stop_confirmation_still_goes_out(engine: Engine, fake: FakeProvider) -> None:
    # The confirmation answers the opt-out itself: deciding it again must not drop it.
    fake.script(Reply.error(503))
    stop = engine.receive(ACME, BOB, SENDER, "STOP", "SM-stop", reply_by_api=True)
    sender = engine.sender(SENDER)
    assert sender is not None and stop.reply and stop.reply_message_id
    reply_id = stop.reply_message_id
    status, provider_id, _ = engine.dispatch_recorded(sender, BOB, stop.reply, reply_id)
    assert status == "sent" and provider_id is not None
    assert len(fake.requests) == 2


def test_a_reply_overtaken_by_a_stop_between_attempts_is_superseded(
    engine: Engine, fake: FakeProvider
) -> None:
    engine.add_trigger(ACME, "DEALS", "Today: 20% off everything")
    deals = engine.receive(ACME, BOB, SENDER, "DEALS", "SM-deals", reply_by_api=True)
    sender = engine.sender(SENDER)
    assert sender is not None and deals.reply and deals.reply_message_id
    fake.script(Reply.error(503))
    _on_first_request(
        fake, lambda: engine.receive(ACME, BOB, SENDER, "STOP", "SM-stop", reply_by_api=True)
    )
    outcome = engine.dispatch_recorded(sender, BOB, deals.reply, deals.reply_message_id)
    assert outcome == ("failed", None, "superseded")
    assert len(fake.requests) == 1


def test_a_text_settled_elsewhere_between_attempts_is_not_sent_again(
    engine: Engine, fake: FakeProvider, store: Store
) -> None:
    def settle() -> None:
        with store.transaction() as tx:
            account = tx.accounts.by_name(ACME)
            assert account is not None
            (message,) = tx.messages.unsettled(account.id, "sending", 0, 10)
            tx.messages.move(account.id, message.id, "sending", "failed", "provider_error")

    fake.script(Reply.error(503))
    _on_first_request(fake, settle)
    result = engine.send(ACME, SENDER, BOB, "Your table is ready")
    assert result.status == "failed"
    assert len(fake.requests) == 1
