"""The application service against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from account_support import HELP_CONTACT
from store_support import ANY_HOUR, give_written_consent

from optline.domain.consent_codes import Reason, Status
from optline.domain.inputs import MAX_INBOUND_CHARS, MAX_OUTBOUND_CHARS
from optline.engine import Engine, ImportRow
from optline.errors import (
    AlreadyExists,
    BadInput,
    BadRows,
    NotAllowed,
    TextTooLong,
    UnknownAccount,
    UnknownList,
    UnknownSender,
)
from optline.store import Store

ACME = "acme"
A = "+14155550100"  # long code
B = "+14155550101"  # second long code
TF = "+18005550199"  # toll-free
BOB = "+14155552671"
EVE = "+12025550143"


def make_account(
    engine: Engine, profile: str = "default", overrides: dict[str, Any] | None = None
) -> None:
    engine.create_account(ACME, profile, {**HELP_CONTACT, **(overrides or {})})
    engine.add_sender(ACME, A)
    engine.add_sender(ACME, B)
    engine.add_sender(ACME, TF, "toll_free")


def counts(engine: Engine) -> tuple[int, int]:
    events, messages = engine.history(ACME, BOB)
    return len(events), len(messages)


def test_stop_opts_out_confirms_and_refuses_later_sends(engine: Engine) -> None:
    make_account(engine, "twilio")
    result = engine.receive(ACME, BOB, A, "Stop.", provider_id="SM1")
    assert (result.intent, result.status, result.events) == ("opt_out", "opted_out", ("opted_out",))
    assert result.reply is not None and result.reply.startswith("You have successfully been")

    decision = engine.send(ACME, A, BOB, "Hello again")
    assert (decision.allowed, decision.reason) == (False, "opted_out")
    events, messages = engine.history(ACME, BOB)
    assert [e.type for e in events] == ["opted_out", "send_refused"]
    assert [(m.direction, m.status, m.reason) for m in messages] == [
        ("in", "received", None),
        ("out", "sent", None),  # the confirmation
        ("out", "failed", "opted_out"),
    ]


def test_sender_scope_keeps_other_numbers_open(engine: Engine) -> None:
    make_account(engine, "twilio")
    engine.receive(ACME, BOB, A, "STOP")
    assert not engine.check(ACME, A, BOB, "hi").allowed
    assert engine.check(ACME, B, BOB, "hi").allowed


def test_account_scope_closes_every_number(engine: Engine) -> None:
    make_account(engine, "default")
    engine.receive(ACME, BOB, A, "STOP")
    assert engine.check(ACME, B, BOB, "hi").reason == "opted_out"


def test_krispcall_start_reopens_every_number(engine: Engine) -> None:
    make_account(engine, "krispcall")
    engine.receive(ACME, BOB, A, "STOP")
    engine.receive(ACME, BOB, B, "STOP")
    engine.receive(ACME, BOB, A, "START")
    assert engine.check(ACME, B, BOB, "hi").allowed


def test_same_delivery_twice_gives_one_outcome(engine: Engine) -> None:
    make_account(engine)
    first = engine.receive(ACME, BOB, A, "STOP", provider_id="SM42")
    before = counts(engine)
    again = engine.receive(ACME, BOB, A, "STOP", provider_id="SM42")
    assert again.duplicate and not first.duplicate
    assert again.as_dict() == first.as_dict()
    assert counts(engine) == before


def test_concurrent_duplicate_deliveries_apply_once(engine: Engine) -> None:
    make_account(engine)
    results = []

    def deliver() -> None:
        results.append(engine.receive(ACME, BOB, A, "STOP", provider_id="SM-race"))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({repr(r.as_dict()) for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    events, messages = engine.history(ACME, BOB)
    assert [e.type for e in events] == ["opted_out"]
    assert len(messages) == 2  # one inbound, one confirmation


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda e: e.receive("nobody", BOB, A, "STOP"), UnknownAccount),
        (lambda e: e.receive(ACME, "12", A, "STOP"), BadInput),
        (lambda e: e.receive(ACME, "not a number", A, "STOP"), BadInput),
        (lambda e: e.receive(ACME, BOB, "+12025550199", "STOP"), UnknownSender),
        # A manual change from one sender must name one of the account's senders.
        (lambda e: e.opt_out(ACME, BOB, sender="+12025550199"), UnknownSender),
        (lambda e: e.opt_in(ACME, BOB, "signed form", sender="+12025550199"), UnknownSender),
        (lambda e: e.receive(ACME, BOB, A, "x" * (MAX_INBOUND_CHARS + 1)), TextTooLong),
        (lambda e: e.receive(ACME, BOB, A, "stop \ud800"), BadInput),
        (lambda e: e.receive(ACME, BOB, A, "stop \x00"), BadInput),
        (lambda e: e.send(ACME, A, BOB, "x" * (MAX_OUTBOUND_CHARS + 1)), BadInput),
        (lambda e: e.check(ACME, A, BOB, "x" * (MAX_OUTBOUND_CHARS + 1)), BadInput),
        (lambda e: e.send(ACME, A, BOB, "hi", list_name="nope"), UnknownList),
        (lambda e: e.opt_in(ACME, BOB, evidence=None), NotAllowed),
        (lambda e: e.create_account(ACME, "twilio"), AlreadyExists),
        (lambda e: e.create_account("x", "no-such-profile"), BadInput),
        (lambda e: e.create_account("y", "default", {"scope": "galaxy"}), BadInput),
        (lambda e: e.add_sender(ACME, A), AlreadyExists),
        (lambda e: e.add_sender(ACME, "12345", "long_code"), BadInput),
        (lambda e: e.add_trigger(ACME, "STOP", "no"), BadInput),
        # 64.1200(a)(10)'s per se revocations cannot become a trigger or a list's keyword.
        (lambda e: e.add_trigger(ACME, "Quit", "Thanks! 20% off today"), BadInput),
        (lambda e: e.add_trigger(ACME, "opt-out", "no"), BadInput),
        (lambda e: e.create_list(ACME, "promos", opt_out_keyword="END"), BadInput),
        (lambda e: e.create_list(ACME, "promos", opt_out_keyword="cancel"), BadInput),
        # A list's name stands in the API's paths, whoever creates it (CLI, API).
        (lambda e: e.create_list(ACME, "a/b"), BadInput),
        (lambda e: e.create_list(ACME, ".."), BadInput),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(engine: Engine, call: Any, error: type) -> None:
    make_account(engine)
    engine.opt_out(ACME, BOB)
    before = counts(engine)
    with pytest.raises(error):
        call(engine)
    assert counts(engine) == before
    assert all(r.ok for r in engine.verify())


def test_manual_reopt_in_follows_policy(engine: Engine) -> None:
    make_account(engine, "salesmsg")
    engine.receive(ACME, BOB, A, "STOP")
    with pytest.raises(NotAllowed, match="only the contact"):
        engine.opt_in(ACME, BOB, evidence="called in")
    engine.set_policy(ACME, "default")
    with pytest.raises(NotAllowed, match="evidence"):
        engine.opt_in(ACME, BOB, evidence=" ")
    state = engine.opt_in(ACME, BOB, evidence="signed form at front desk 2026-11-20")
    assert state.status_from(A) is Status.OPTED_IN
    events, _ = engine.history(ACME, BOB)
    assert events[-1].data["evidence"] == "signed form at front desk 2026-11-20"


def test_toll_free_opt_in_takes_start_and_unstop_only(engine: Engine) -> None:
    make_account(engine)
    engine.receive(ACME, BOB, TF, "STOP")
    assert engine.receive(ACME, BOB, TF, "YES").status == "opted_out"
    assert engine.receive(ACME, BOB, TF, "UNSTOP").status == "opted_in"


def test_blocked_contact_is_hidden_but_stop_is_recorded(engine: Engine) -> None:
    make_account(engine)
    engine.block(ACME, BOB)
    result = engine.receive(ACME, BOB, A, "STOP")
    assert (result.status, result.reply, result.events) == ("blocked", None, ("opted_out",))
    _, messages = engine.history(ACME, BOB)
    assert messages[-1].hidden
    state = engine.unblock(ACME, BOB)
    assert state.status_from(A) is Status.OPTED_OUT


def test_list_keyword_leaves_one_list_and_stop_start_restores_lists(engine: Engine) -> None:
    make_account(engine, "business_text")
    engine.create_list(ACME, "marketing", "OPTOUT")
    engine.create_list(ACME, "notices")
    engine.add_to_list(ACME, "marketing", [BOB])
    engine.add_to_list(ACME, "notices", [BOB])
    result = engine.receive(ACME, BOB, A, "optout")
    assert result.events == ("list_unsubscribed",)
    assert engine.check(ACME, A, BOB, "sale", "marketing").reason == "list_unsubscribed"
    assert engine.check(ACME, A, BOB, "your bill", "notices").allowed
    assert engine.check(ACME, A, BOB, "hi there").allowed

    engine.receive(ACME, BOB, A, "STOP")
    assert engine.check(ACME, A, BOB, "your bill", "notices").reason == "opted_out"
    engine.receive(ACME, BOB, A, "START")
    state = engine.contact(ACME, BOB)
    assert state is not None and dict(state.lists) == {"marketing": False, "notices": True}


def test_trigger_replies_and_moves_lists(engine: Engine) -> None:
    make_account(engine)
    engine.create_list(ACME, "vip")
    engine.add_trigger(ACME, "JOIN VIP", "Welcome to VIP!", subscribe_list="vip")
    with pytest.raises(AlreadyExists):
        engine.add_trigger(ACME, "join vip", "again")
    result = engine.receive(ACME, BOB, A, "Join VIP!")
    assert (result.intent, result.reply) == ("trigger", "Welcome to VIP!")
    state = engine.contact(ACME, BOB)
    assert state is not None and state.lists == {"vip": True}


def test_first_text_carries_disclosure_once(engine: Engine) -> None:
    make_account(engine, "command", {"first_text_disclosure_form": "appended"})
    first = engine.send(ACME, A, BOB, "Hi Bob, it's Ann from the office.")
    second = engine.send(ACME, A, BOB, "Are you free at 3?")
    assert first.body.endswith("Prefer a phone call or email? Reply STOP to unsubscribe.")
    assert second.body == "Are you free at 3?"


def test_campaign_needs_opt_out_language_under_default(engine: Engine) -> None:
    make_account(engine, overrides=ANY_HOUR)
    give_written_consent(engine, ACME, BOB)  # campaign texts need written consent
    engine.send(ACME, A, BOB, "Hi Bob")  # the first text carried the disclosure
    assert engine.check(ACME, A, BOB, "50% off!", campaign=True).reason == (
        "missing_opt_out_language"
    )
    assert engine.check(ACME, A, BOB, "50% off! Reply STOP to opt out", campaign=True).allowed


def test_provider_opt_out_is_applied(engine: Engine) -> None:
    make_account(engine, "twilio")
    engine.provider_opt_out(ACME, A, BOB, "twilio", "21610")
    assert engine.check(ACME, A, BOB, "hi").reason == "opted_out"
    assert engine.check(ACME, B, BOB, "hi").allowed
    events, _ = engine.history(ACME, BOB)
    assert events[-1].data["source"] == "provider" and events[-1].data["code"] == "21610"


def test_broadcast_decisions_match_single_checks(engine: Engine) -> None:
    make_account(engine, "twilio")
    engine.create_list(ACME, "news", "NEWS OFF")
    numbers = [f"+1415555{n:04d}" for n in range(3000, 3040)]
    engine.add_to_list(ACME, "news", numbers)
    for n in numbers[::3]:
        engine.receive(ACME, n, A, "STOP")
    for n in numbers[1::5]:
        engine.receive(ACME, n, A, "news off")
    engine.block(ACME, numbers[2])
    for n in numbers[::7]:
        engine.receive(ACME, n, B, "STOP")
    for sender in (A, B):
        got = dict(engine.decide_broadcast(ACME, sender, numbers, "news"))
        for n in numbers:
            single = engine.check(ACME, sender, n, "hello", "news")
            assert got[n] == (single.reason.value if single.reason else None), (sender, n)


def test_import_is_all_or_nothing(engine: Engine) -> None:
    make_account(engine, "default")
    engine.create_list(ACME, "news")
    good = [
        ImportRow(2, BOB, Status.OPTED_OUT, ("news",)),
        ImportRow(3, EVE, Status.BLOCKED),
    ]
    bad = [
        ImportRow(4, "+14155559999", Status.OPTED_IN, ("x",)),
        ImportRow(5, "+14155559998", Status.OPTED_IN, evidence="e" * 5000),
    ]
    with pytest.raises(BadRows) as refused:
        engine.import_contacts(ACME, [*good, *bad], unread=[(1, "no phone")])
    # Every bad row, in the file's order, the unread ones among them; nothing written.
    assert [line for line, _ in refused.value.problems] == [1, 4, 5]
    assert refused.value.lines()[1] == "line 4: unknown list 'x' (the account's lists: news)"
    assert str(refused.value) == "3 bad rows, nothing imported"
    assert engine.contacts(ACME) == []
    assert engine.import_contacts(ACME, good) == 2
    assert [c.phone for c in engine.contacts(ACME, Status.BLOCKED)] == [EVE]
    assert [c.phone for c in engine.contacts(ACME, Status.OPTED_OUT)] == [BOB]
    assert [c.phone for c in engine.contacts(ACME, list_name="news")] == [BOB]


def test_an_import_as_opted_out_opts_out_every_sender(engine: Engine) -> None:
    # Per-sender consent (twilio): opted out of the account, then back in on A alone.
    make_account(engine, "twilio")
    engine.receive(ACME, BOB, A, "STOPALL")
    engine.receive(ACME, BOB, A, "START")
    assert engine.check(ACME, A, BOB, "hi").allowed
    engine.import_contacts(ACME, [ImportRow(1, BOB, Status.OPTED_OUT)])
    assert not engine.check(ACME, A, BOB, "hi").allowed
    assert not engine.check(ACME, B, BOB, "hi").allowed


def test_stop_committed_before_a_send_always_wins(engine: Engine) -> None:
    """Real concurrent sends racing a STOP: every send that starts after the STOP
    returned (committed) must be refused; sends before may go."""
    make_account(engine)
    contacts = [f"+1202555{n:04d}" for n in range(1000, 1012)]
    stop_done: dict[str, bool] = {}
    late_allowed: list[str] = []
    errors: list[BaseException] = []

    def sender_loop(number: str) -> None:
        try:
            for _ in range(15):
                started_after_stop = stop_done.get(number, False)
                decision = engine.send(ACME, A, number, "Reminder: Reply STOP to opt out")
                if started_after_stop and decision.allowed:
                    late_allowed.append(number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def stopper(number: str) -> None:
        try:
            engine.receive(ACME, number, A, "STOP")
            stop_done[number] = True
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = []
    for number in contacts:
        threads.append(threading.Thread(target=sender_loop, args=(number,)))
        threads.append(threading.Thread(target=stopper, args=(number,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert late_allowed == []
    for number in contacts:
        assert engine.check(ACME, A, number, "x").reason == "opted_out"
    assert all(r.ok for r in engine.verify())


def test_replies_name_the_account_until_a_brand_is_set(engine: Engine) -> None:
    make_account(engine)
    assert engine.receive(ACME, BOB, A, "HELP").reply.startswith("acme: ")  # type: ignore[union-attr]
    engine.set_policy(ACME, overrides={**HELP_CONTACT, "brand": "Acme Dental"})
    assert engine.receive(ACME, BOB, A, "HELP").reply.startswith("Acme Dental: ")  # type: ignore[union-attr]


def test_keywords_added_by_another_process_are_seen_at_once(store: Store, db_url: str) -> None:
    # Each engine keeps an account's triggers and list keywords between inbound texts;
    # one added through another engine (another process) applies to the very next text.
    first = Engine(store)
    make_account(first)
    # A made-up word: "join vip" reads as an opt-in of its own before it is a trigger.
    assert first.receive(ACME, BOB, A, "vipclub").intent == "none"
    with Engine.open(db_url) as other:
        other.create_list(ACME, "vip", "VIP OFF")
        other.add_trigger(ACME, "VIPCLUB", "Welcome!", subscribe_list="vip")
    assert first.receive(ACME, BOB, A, "vipclub").reply == "Welcome!"
    assert first.receive(ACME, BOB, A, "vip off").events == ("list_unsubscribed",)


def test_a_sender_registered_by_another_process_is_found_at_once(store: Store, db_url: str) -> None:
    # Found senders are kept per engine; a number not found is always asked again.
    first = Engine(store)
    make_account(first)
    assert first.sender("+14155550199") is None
    with Engine.open(db_url) as other:
        other.add_sender(ACME, "+14155550199")
    found = first.sender("+14155550199")
    assert found is not None and found.number == "+14155550199"
    assert first.receive(ACME, BOB, "+14155550199", "STOP").status == "opted_out"


# -- hand-over ----------------------------------------------------------------------------

PROVIDER_SENDER = "+14155550190"


def _dispatching(store: Store, on_send: Any) -> tuple[Engine, list[str]]:
    """An engine whose provider is ``on_send(engine, to)``, with the numbers it got."""
    handed: list[str] = []

    def dispatch(sender: Any, to: str, body: str, before_retry: Any = None) -> str:
        handed.append(to)
        on_send(engine, to)
        return f"SM{len(handed)}"

    engine = Engine(store, dispatch=dispatch)
    engine.create_account(ACME, "default", {**HELP_CONTACT, **ANY_HOUR})
    engine.add_sender(
        ACME,
        PROVIDER_SENDER,
        provider="twilio",
        credentials={"account_sid": "AC1", "auth_token": "t"},
    )
    return engine, handed


def test_a_broadcast_text_is_not_handed_over_after_a_stop_committed_since_its_decision(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every recipient is decided first, the texts go out after: Eve's STOP, committed
    # while Bob's text is with the provider, stops hers.
    monkeypatch.setattr("optline.engine.broadcast.BROADCAST_CONCURRENCY", 1)

    def stop_eve(engine: Engine, to: str) -> None:
        if to == BOB:
            engine.receive(ACME, EVE, PROVIDER_SENDER, "stop texting me")

    engine, handed = _dispatching(store, stop_eve)
    for person in (BOB, EVE):  # a campaign needs written consent on record (default profile)
        give_written_consent(engine, ACME, person)
    bob, eve = engine.broadcast(ACME, PROVIDER_SENDER, "Open late today", numbers=[BOB, EVE])
    assert (bob.status, eve.status, eve.reason) == ("sent", "failed", Reason.OPTED_OUT)
    assert handed == [BOB]
    events, messages = engine.history(ACME, EVE)
    assert [e.type for e in events] == [
        "consent_recorded",
        "opted_in",
        "opted_out",
        "send_refused",
    ]
    sent = [(m.status, m.reason) for m in messages if m.direction == "out" and not m.reply]
    assert sent == [("failed", "opted_out")]
    # Her first text, with its disclosure, never reached her: the next one carries it.
    eve_state = engine.contact(ACME, EVE)
    assert eve_state is not None and not eve_state.texted


def test_a_queued_reply_is_not_sent_after_the_contact_opted_out(store: Store) -> None:
    # A trigger's reply, queued for the provider's API (Telnyx), meets a STOP that came
    # before its send began: it answers a moment that has passed.
    engine, handed = _dispatching(store, lambda engine, to: None)
    engine.add_trigger(ACME, "DEALS", "Today: 20% off everything")
    deals = engine.receive(ACME, BOB, PROVIDER_SENDER, "DEALS", reply_by_api=True)
    stop = engine.receive(ACME, BOB, PROVIDER_SENDER, "STOP", reply_by_api=True)
    sender = engine.sender(PROVIDER_SENDER)
    assert sender is not None and deals.reply_message_id and stop.reply_message_id
    assert (
        engine.dispatch_recorded(sender, BOB, stop.reply or "", stop.reply_message_id)[0] == "sent"
    )
    late = engine.dispatch_recorded(sender, BOB, deals.reply or "", deals.reply_message_id)
    assert late == ("failed", None, "superseded")
    assert handed == [BOB]  # the STOP's confirmation alone


# Formal wording the rules do not read; the learned stage does (tests/test_learned.py).
REVOCATION = "Cease all further correspondence to this number."


def test_the_learned_stage_reaches_consent_through_every_profile(engine: Engine) -> None:
    make_account(engine)
    got = engine.receive(ACME, BOB, A, REVOCATION, provider_id="SM1")
    assert (got.intent, got.status) == ("opt_out", "opted_out")
    assert got.reason.startswith("model stage: like ")

    engine.create_account("vendor", "twilio")
    engine.add_sender("vendor", "+14155550150")
    kept = engine.receive("vendor", BOB, "+14155550150", REVOCATION, provider_id="SM2")
    # Twilio's profile acts on its keywords only; the free reading travels in the
    # reason, and the reply is flagged for review (flag_plain_language), not acted on.
    assert kept.intent == "possible_opt_out" and kept.status != "opted_out"
    assert kept.events == ("revocation_flagged",)
    assert "read freely: model stage" in kept.reason
