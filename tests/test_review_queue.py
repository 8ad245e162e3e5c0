"""The review queue resolves (on SQLite and PostgreSQL): a flagged reply is resolved as
an opt-out (its event names the flag) or dismissed (a ``flag_dismissed`` event with who
and why); resolved flags leave the queue, a later opt-out that covers a flag closes it,
the count is exact and the queue pages past 200. Under the default profile an open
flag holds campaign texts to its contact (``revocation_pending_review``); 1:1 texts go
on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from account_support import HELP_CONTACT
from hypothesis import given
from hypothesis import strategies as st
from store_support import ANY_HOUR, give_written_consent

from optline.domain.actors import Actor
from optline.domain.consent import ContactState
from optline.domain.consent_codes import Reason, Status
from optline.domain.messages import Via
from optline.domain.profiles import get_profile
from optline.domain.review import Flag, Resolution, covered
from optline.engine import Engine
from optline.errors import AlreadyResolved, BadInput, UnknownFlag

ACME = "acme"
A = "+14155550100"
B = "+14155550101"
BOB = "+14155552671"
EVE = "+12025550143"
MAYBE = "how do i stop these texts?"  # a possible opt-out under the default profile
PLAIN = "please stop texting me"  # a plain-language revocation, flagged on vendors
ANN = Actor("ann", Via.CLI)
PROMO = "20% off this week. Reply STOP to opt out."
EVIDENCE = "signed up at the front desk, 2026-03-01"


def make(engine: Engine, profile: str = "default", overrides: dict[str, Any] | None = None) -> None:
    engine.create_account(ACME, profile, {**HELP_CONTACT, **(overrides or {})})
    engine.add_sender(ACME, A)
    engine.add_sender(ACME, B)


def flag_of(engine: Engine, phone: str) -> Flag:
    (flag,) = [f for f in engine.flagged(ACME).flags if f.phone == phone]
    return flag


def last_event(engine: Engine, phone: str) -> tuple[str, dict[str, object]]:
    events, _ = engine.history(ACME, phone)
    return events[-1].type, events[-1].data


def test_resolved_as_opt_out_names_the_flag_and_leaves_the_queue(engine: Engine) -> None:
    make(engine)
    assert engine.receive(ACME, BOB, A, MAYBE).events == ("revocation_flagged",)
    flag = flag_of(engine, BOB)
    assert (flag.sender, flag.open, engine.open_flags(ACME)) == (A, True, 1)

    resolved = engine.resolve_flag(ACME, flag.seq, Resolution.OPTED_OUT, ANN, "asked to stop")
    kind, data = last_event(engine, BOB)
    assert kind == "opted_out"
    assert (data["flag"], data["by"], data["via"], data["note"]) == (
        flag.seq,
        "ann",
        "cli",
        "asked to stop",
    )
    assert (resolved.resolution, resolved.resolved_seq) == (
        Resolution.OPTED_OUT,
        engine.history(ACME, BOB)[0][-1].seq,
    )
    state = engine.contact(ACME, BOB)
    assert state is not None and state.status_from(A) is Status.OPTED_OUT
    assert engine.flagged(ACME).flags == [] and engine.open_flags(ACME) == 0
    with pytest.raises(AlreadyResolved):
        engine.resolve_flag(ACME, flag.seq, Resolution.DISMISSED, ANN, "changed my mind")
    assert [r.ok for r in engine.verify(ACME)] == [True]


def test_dismissed_says_who_and_why_and_keeps_consent(engine: Engine) -> None:
    make(engine)
    engine.opt_in(ACME, BOB, EVIDENCE)
    engine.receive(ACME, BOB, A, MAYBE)
    flag = flag_of(engine, BOB)
    for why in (None, "  "):
        with pytest.raises(BadInput):
            engine.resolve_flag(ACME, flag.seq, Resolution.DISMISSED, ANN, why)
    with pytest.raises(BadInput):  # who resolves it must be named
        engine.resolve_flag(ACME, flag.seq, Resolution.DISMISSED, Actor(" ", Via.API), "x")
    engine.resolve_flag(ACME, flag.seq, Resolution.DISMISSED, ANN, "asked about the app")
    kind, data = last_event(engine, BOB)
    assert kind == "flag_dismissed"
    assert (data["flag"], data["by"], data["via"], data["note"]) == (
        flag.seq,
        "ann",
        "cli",
        "asked about the app",
    )
    state = engine.contact(ACME, BOB)
    assert state is not None and state.status_from(A) is Status.OPTED_IN
    assert engine.open_flags(ACME) == 0
    with pytest.raises(UnknownFlag):
        engine.resolve_flag(ACME, flag.seq + 100, Resolution.OPTED_OUT, ANN)


def test_a_later_opt_out_that_covers_the_flag_closes_it(engine: Engine) -> None:
    make(engine)
    engine.receive(ACME, BOB, A, MAYBE)
    engine.receive(ACME, EVE, A, MAYBE)
    flag = flag_of(engine, BOB)
    engine.receive(ACME, BOB, A, "STOP")
    stop_seq = engine.history(ACME, BOB)[0][-1].seq
    assert [f.phone for f in engine.flagged(ACME).flags] == [EVE]
    with pytest.raises(AlreadyResolved) as refused:
        engine.resolve_flag(ACME, flag.seq, Resolution.OPTED_OUT, ANN)
    assert str(stop_seq) in str(refused.value)
    engine.block(ACME, EVE, actor=ANN)  # a block covers every sender
    assert engine.open_flags(ACME) == 0


def test_under_sender_scope_only_an_opt_out_from_the_flags_sender_closes_it(
    engine: Engine,
) -> None:
    make(engine, "twilio")
    assert engine.receive(ACME, BOB, A, PLAIN).events == ("revocation_flagged",)
    engine.receive(ACME, BOB, B, "STOP")  # another number: the flag stays open
    assert engine.open_flags(ACME) == 1
    engine.receive(ACME, BOB, A, "STOP")
    assert engine.open_flags(ACME) == 0


def test_opt_out_resolution_follows_the_policys_scope(engine: Engine) -> None:
    make(engine, "twilio")
    engine.opt_in(ACME, BOB, EVIDENCE)
    engine.receive(ACME, BOB, A, PLAIN)
    engine.resolve_flag(ACME, flag_of(engine, BOB).seq, Resolution.OPTED_OUT, ANN)
    state = engine.contact(ACME, BOB)
    assert state is not None
    # As STOP to that number would under Twilio's per-number opt-outs.
    assert (state.status_from(A), state.status_from(B)) == (Status.OPTED_OUT, Status.OPTED_IN)


def test_the_queue_pages_past_200_with_an_exact_count(engine: Engine) -> None:
    make(engine)
    phones = [f"+1415555{n:04d}" for n in range(201)]
    for number in phones:
        engine.receive(ACME, number, A, MAYBE)
    first = engine.flagged(ACME)
    assert (len(first.flags), first.open) == (200, 201)
    assert first.next is not None
    second = engine.flagged(ACME, first.next)
    assert (len(second.flags), second.next) == (1, None)
    seen = [f.seq for f in first.flags + second.flags]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 201
    small = engine.flagged(ACME, None, 7)
    assert [f.seq for f in small.flags] == seen[:7] and small.next == seen[6]
    engine.resolve_flag(ACME, seen[0], Resolution.DISMISSED, ANN, "a question")
    assert engine.open_flags(ACME) == 200 == engine.flagged(ACME).open
    with pytest.raises(BadInput):
        engine.flagged(ACME, None, 0)
    with pytest.raises(BadInput):  # past the ledger's 32-bit seq
        engine.flagged(ACME, 2**31)
    with pytest.raises(UnknownFlag):
        engine.resolve_flag(ACME, 2**40, Resolution.OPTED_OUT, ANN)


def test_an_open_flag_holds_campaign_texts_under_the_default_profile(engine: Engine) -> None:
    make(engine, overrides=ANY_HOUR)  # the send windows aside: this is about the hold
    for phone in (BOB, EVE):  # written consent on record: the default profile needs it
        give_written_consent(engine, ACME, phone)
    engine.receive(ACME, BOB, A, MAYBE)
    held = Reason.REVOCATION_PENDING_REVIEW
    assert engine.check(ACME, A, BOB, PROMO, campaign=True).reason is held
    assert engine.check(ACME, A, BOB, "Your cleaning is on Tuesday").allowed  # 1:1 goes on
    assert engine.check(ACME, A, EVE, PROMO, campaign=True).allowed
    with engine.checker(ACME, A, campaign=True) as check:
        assert check(BOB, PROMO).reason is held and check(EVE, PROMO).allowed
    decided = engine.decide_broadcast(ACME, A, [BOB, EVE])
    assert (decided.allowed, decided.refused) == ([EVE], {BOB: held.value})
    assert engine.decide_broadcast(ACME, A, [BOB], campaign=False).allowed == [BOB]
    sent = engine.send(ACME, A, BOB, PROMO, campaign=True)
    assert (sent.allowed, sent.reason) == (False, held)
    assert last_event(engine, BOB)[1]["reason"] == held.value
    (result,) = engine.broadcast(ACME, A, PROMO, numbers=[BOB])
    assert result.reason is held

    engine.resolve_flag(ACME, flag_of(engine, BOB).seq, Resolution.DISMISSED, ANN, "a question")
    assert engine.check(ACME, A, BOB, PROMO, campaign=True).allowed
    assert engine.decide_broadcast(ACME, A, [BOB]).allowed == [BOB]


def test_vendor_profiles_flag_but_do_not_hold(engine: Engine) -> None:
    make(engine, "twilio")
    engine.opt_in(ACME, BOB, EVIDENCE)
    got = engine.receive(ACME, BOB, A, PLAIN)
    assert (got.intent, got.status, got.events) == (
        "possible_opt_out",
        "opted_in",
        ("revocation_flagged",),
    )
    assert engine.open_flags(ACME) == 1
    assert engine.check(ACME, A, BOB, PROMO, campaign=True).allowed
    # The override turns the hold on for a vendor profile too.
    engine.set_policy(ACME, overrides={"hold_campaigns_on_review": True})
    assert (
        engine.check(ACME, A, BOB, PROMO, campaign=True).reason is Reason.REVOCATION_PENDING_REVIEW
    )


_AT = datetime(2026, 1, 1, tzinfo=UTC)


@given(
    statuses=st.dictionaries(
        st.sampled_from([A, B]), st.sampled_from([Status.OPTED_IN, Status.OPTED_OUT])
    ),
    account=st.sampled_from([Status.OPTED_IN, Status.OPTED_OUT]),
    blocked=st.booleans(),
    senders=st.lists(st.sampled_from([A, B, None]), max_size=4),
)
def test_a_flag_closes_exactly_when_its_sender_may_no_longer_text(
    statuses: dict[str, Status], account: Status, blocked: bool, senders: list[str | None]
) -> None:
    state = ContactState(BOB, blocked, account, statuses)
    flags = [Flag(n, BOB, sender, "r", _AT) for n, sender in enumerate(senders, start=1)]
    closed = {f.seq for f in covered(state, flags)}
    for flag in flags:
        textable = state.status_from(flag.sender) is Status.OPTED_IN
        assert (flag.seq in closed) is not textable
    resolved = [Flag(1, BOB, A, "r", _AT, Resolution.DISMISSED, 2)]
    assert covered(state, resolved) == []  # a resolved flag is never closed again


def test_the_hold_is_a_policy_field_on_only_the_default_profile() -> None:
    assert get_profile("default").hold_campaigns_on_review
    assert not any(
        get_profile(name).hold_campaigns_on_review
        for name in ("twilio", "callrail", "business_text", "salesmsg", "krispcall", "command")
    )


def test_repair_rebuilds_the_queue_from_the_ledger(engine: Engine) -> None:
    """The flags table is a projection of the ledger: ``repair`` rewrites a flag lost,
    reopened or added in SQL as its events say, and names its contact."""
    make(engine, "twilio")  # per-sender consent: a STOP to A leaves B's flag open
    for phone, sender in ((BOB, A), (BOB, B), (EVE, A)):
        assert engine.receive(ACME, phone, sender, PLAIN).events == ("revocation_flagged",)
    engine.receive(ACME, BOB, A, "STOP")
    engine.resolve_flag(ACME, flag_of(engine, EVE).seq, Resolution.DISMISSED, ANN, "a question")
    with engine.store.read() as tx:
        row = tx.accounts.by_name(ACME)
        assert row is not None
        account_id = row.id
        kept = tx.flags.all(account_id)
    assert [(f.phone, f.sender, f.resolution) for f in kept] == [
        (BOB, A, Resolution.OPTED_OUT),
        (BOB, B, None),
        (EVE, A, Resolution.DISMISSED),
    ]
    assert engine.repair(ACME) == []

    def tampered(statement: str) -> list[Flag]:
        with engine.store.engine.begin() as conn:
            conn.execute(sa.text(statement))
        engine.repair(ACME)
        with engine.store.read() as tx:
            return tx.flags.all(account_id)

    assert tampered("DELETE FROM flags") == kept
    assert tampered("UPDATE flags SET resolution = NULL, resolved_seq = NULL") == kept
    assert engine.flagged(ACME).flags == [kept[1]] and engine.open_flags(ACME) == 1
    with engine.store.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM flags WHERE phone = '{EVE}'"))
    assert engine.repair(ACME) == [EVE]
    assert engine.repair(ACME) == []
