"""Engine.checker: batch decisions in one read transaction agree with Engine.check
(SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools

import pytest
from account_support import HELP_CONTACT

from optline.domain.decisions import Decision
from optline.engine import Engine
from optline.errors import BadInput, UnknownAccount, UnknownList, UnknownSender

ACME = "acme"
A = "+14155550100"
B = "+14155550101"
NUMBERS = [f"+1415555{n:04d}" for n in range(3000, 3040)]
UNKNOWN = "+14155553999"
BODIES = ("hello", "Sale today! Reply STOP to opt out.", "Reply STOP to opt out.")


def populate(engine: Engine, profile: str) -> None:
    """Contacts in every state a decision reads: opted out for the account or for
    one sender, opted back in to one sender, blocked, unsubscribed from a list,
    texted before or not."""
    engine.create_account(ACME, profile, HELP_CONTACT)
    engine.add_sender(ACME, A)
    engine.add_sender(ACME, B)
    engine.create_list(ACME, "news", "NEWS OFF")
    engine.create_list(ACME, "deals")
    engine.add_to_list(ACME, "news", NUMBERS[:30])
    engine.add_to_list(ACME, "deals", NUMBERS[10:])
    for n in NUMBERS[::3]:
        engine.receive(ACME, n, A, "STOP")
    for n in NUMBERS[::6]:
        engine.receive(ACME, n, B, "START")
    for n in NUMBERS[1::5]:
        engine.receive(ACME, n, A, "news off")
    for n in NUMBERS[::7]:
        engine.receive(ACME, n, B, "STOP")
    engine.block(ACME, NUMBERS[2])
    engine.opt_out(ACME, NUMBERS[4])
    for n in NUMBERS[5::4]:
        engine.send(ACME, A, n, "Welcome")


def same(got: Decision, expected: Decision) -> bool:
    return (got.allowed, got.reason, got.body) == (expected.allowed, expected.reason, expected.body)


@pytest.mark.parametrize("profile", ["twilio", "default"])
def test_checker_agrees_with_check(engine: Engine, profile: str) -> None:
    populate(engine, profile)
    recipients = [*NUMBERS, UNKNOWN]
    for sender, list_name, campaign in itertools.product(
        (A, B), (None, "news", "deals"), (False, True)
    ):
        with engine.checker(ACME, sender, list_name, campaign) as check:
            for to, body in itertools.product(recipients, BODIES):
                expected = engine.check(ACME, sender, to, body, list_name, campaign)
                assert same(check(to, body), expected), (sender, list_name, campaign, to, body)


def test_checker_reads_numbers_as_check_does(engine: Engine) -> None:
    populate(engine, "twilio")
    opted_out = NUMBERS[0]  # opted out of A
    with engine.checker(ACME, A) as check:
        for raw in ("(415) 555-3000", "415.555.3000", " +1 415 555 3000 "):
            assert same(check(raw, "hi"), engine.check(ACME, A, raw, "hi"))
            assert check(raw, "hi").reason == "opted_out"
        assert check(opted_out).reason == "opted_out"
        with pytest.raises(BadInput):
            check("not a number")
        with pytest.raises(BadInput):
            check(NUMBERS[1], "x" * 2000)
        # A refused body does not stop the next text.
        assert check(NUMBERS[1], "hello").allowed


def test_checker_refuses_what_check_refuses(engine: Engine) -> None:
    populate(engine, "twilio")
    with pytest.raises(UnknownAccount), engine.checker("nobody", A):
        pass
    with pytest.raises(UnknownSender), engine.checker(ACME, "+14155550199"):
        pass
    with pytest.raises(UnknownList), engine.checker(ACME, A, "nope"):
        pass


def test_checker_is_closed_after_its_block(engine: Engine) -> None:
    populate(engine, "twilio")
    with engine.checker(ACME, A) as check:
        assert check(NUMBERS[1]).allowed
    with pytest.raises(RuntimeError, match="ended"):
        check(NUMBERS[1])


def test_checker_sees_changes_committed_before_it(engine: Engine) -> None:
    populate(engine, "twilio")
    to = NUMBERS[1]
    with engine.checker(ACME, B) as check:
        assert check(to).allowed
    engine.opt_out(ACME, to)
    with engine.checker(ACME, B) as check:
        assert check(to).reason == "opted_out"


def test_broadcast_decisions_split_recipients(engine: Engine) -> None:
    populate(engine, "twilio")
    recipients = [*NUMBERS, UNKNOWN]
    result = engine.decide_broadcast(ACME, A, iter(recipients), "news")
    assert list(result.recipients) == recipients
    assert result.allowed == [n for n in recipients if n not in result.refused]
    with engine.checker(ACME, A, "news") as check:
        for n in recipients:
            reason = check(n).reason
            assert result.refused.get(n) == (reason.value if reason else None), n
