"""Consent rules for opting back in: keywords, toll-free senders, other texts."""

from __future__ import annotations

import pytest
from consent_support import (
    ACCOUNT_SCOPE,
    ALL_PROFILES,
    NEW_SENDER,
    NO_IMPLICIT_OPT_IN,
    PHONE,
    S1,
    S2,
    TOLL_FREE,
    check,
    opted_out_state,
    run,
    subscribed,
    text,
    types,
)

from optline.domain import consent
from optline.domain.classify import Classification
from optline.domain.consent import ContactState, Outcome
from optline.domain.consent_codes import EventType, Reason, Source, Status
from optline.domain.inbound_text import receive
from optline.domain.policy import Intent
from optline.domain.profiles import get_profile

# -- opt-in keywords --------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PROFILES)
@pytest.mark.parametrize("keyword", ["START", "YES", "UNSTOP", "start"])
def test_opt_in_keyword_opts_the_contact_back_in(name: str, keyword: str) -> None:
    policy = get_profile(name)
    outcome = text(opted_out_state(policy), keyword, policy)

    assert types(outcome) == [EventType.OPTED_IN]
    assert outcome.events[0].data["source"] == Source.KEYWORD
    assert outcome.reply == policy.render(policy.replies["en"].opt_in)
    assert check(outcome.state, policy).allowed


def test_krispcall_start_re_enables_every_number_of_the_account() -> None:
    # Seed 003: "The START keyword enables all your phone numbers".
    policy = get_profile("krispcall")
    state = run(ContactState(PHONE), policy, "STOP", sender=S1)
    state = run(state, policy, "STOP", sender=S2)

    outcome = text(state, "START", policy, S1)

    assert outcome.events[0].data["scope"] == "account"
    for sender in (S1, S2, NEW_SENDER):
        assert check(outcome.state, policy, sender).allowed


@pytest.mark.parametrize("name", ["twilio", "callrail"])
def test_start_re_enables_only_its_own_sender_under_sender_scope(name: str) -> None:
    policy = get_profile(name)
    state = run(ContactState(PHONE), policy, "STOP", sender=S1)
    state = run(state, policy, "STOP", sender=S2)

    outcome = text(state, "START", policy, S1)

    assert outcome.events[0].data["scope"] == "sender"
    assert check(outcome.state, policy, S1).allowed
    assert check(outcome.state, policy, S2).reason is Reason.OPTED_OUT


@pytest.mark.parametrize("name", ACCOUNT_SCOPE)
def test_opt_in_from_another_sender_reopens_the_account_under_account_scope(name: str) -> None:
    policy = get_profile(name)
    state = run(opted_out_state(policy), policy, "START", sender=S2)
    assert check(state, policy, S1).allowed


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_opt_in_keyword_has_no_effect_while_blocked(name: str) -> None:
    policy = get_profile(name)
    blocked = consent.block(ContactState(PHONE)).state

    outcome = text(blocked, "START", policy)

    assert outcome.state == blocked
    assert outcome.reply is None
    assert outcome.hidden
    assert types(outcome) == [EventType.OPT_IN_REFUSED]
    assert outcome.events[0].data["reason"] == "blocked"
    assert check(outcome.state, policy).reason is Reason.BLOCKED


# -- toll-free senders ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_toll_free_sender_refuses_yes_as_an_opt_in(name: str) -> None:
    policy = get_profile(name)
    state = run(ContactState(PHONE), policy, "STOP", sender=TOLL_FREE)

    outcome = text(state, "YES", policy, TOLL_FREE)

    assert outcome.state == state
    assert outcome.reply is None
    assert types(outcome) == [EventType.OPT_IN_REFUSED]
    assert outcome.events[0].data["reason"] == "toll_free_keyword"
    assert check(outcome.state, policy, TOLL_FREE).reason is Reason.OPTED_OUT


@pytest.mark.parametrize("name", ALL_PROFILES)
@pytest.mark.parametrize("keyword", ["START", "UNSTOP", "Unstop!"])
def test_toll_free_sender_accepts_start_and_unstop(name: str, keyword: str) -> None:
    policy = get_profile(name)
    state = run(ContactState(PHONE), policy, "STOP", sender=TOLL_FREE)
    outcome = text(state, keyword, policy, TOLL_FREE)
    assert types(outcome) == [EventType.OPTED_IN]
    assert check(outcome.state, policy, TOLL_FREE).allowed


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_yes_still_opts_in_on_a_long_code(name: str) -> None:
    policy = get_profile(name)
    state = run(opted_out_state(policy), policy, "YES")
    assert check(state, policy).allowed


def test_yes_to_a_toll_free_sender_while_opted_in_changes_nothing() -> None:
    policy = get_profile("twilio")
    opted_in = ContactState(PHONE, account_status=Status.OPTED_IN)
    outcome = text(opted_in, "YES", policy, TOLL_FREE)
    assert outcome == Outcome(opted_in)


# -- other texts -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NO_IMPLICIT_OPT_IN)
def test_other_text_from_an_opted_out_contact_changes_nothing(name: str) -> None:
    policy = get_profile(name)
    state = opted_out_state(policy)

    outcome = text(state, "Is the shop open on Sunday?", policy)

    assert outcome == Outcome(state)
    assert check(outcome.state, policy).reason is Reason.OPTED_OUT


def test_business_text_any_new_text_opts_an_opted_out_contact_back_in() -> None:
    # Seed 001: "If they send a new message to the account later, they will be
    # automatically opted back in so you can reply."
    policy = get_profile("business_text")
    outcome = text(opted_out_state(policy), "Is the shop open on Sunday?", policy, S2)

    assert types(outcome) == [EventType.OPTED_IN]
    assert outcome.events[0].data["source"] == Source.IMPLICIT
    assert outcome.reply is None
    assert check(outcome.state, policy, S1).allowed


def test_business_text_other_text_from_an_opted_in_contact_records_nothing() -> None:
    policy = get_profile("business_text")
    assert text(ContactState(PHONE), "hello", policy) == Outcome(ContactState(PHONE))


def test_business_text_possible_opt_out_never_re_opts_in() -> None:
    policy = get_profile("business_text")
    state = opted_out_state(policy)
    maybe = Classification(Intent.POSSIBLE_OPT_OUT, reason="asks to stop texting")

    outcome = receive(state, maybe, S1, policy)

    assert outcome.state.status_from(S1.number) is Status.OPTED_OUT
    assert EventType.OPTED_IN not in types(outcome)


@pytest.mark.parametrize(
    "body", ["Stop texting me!", "please stop", "Leave me alone", "wrong number", "OPT-OUT now"]
)
def test_business_text_a_text_that_asks_to_stop_never_re_opts_in(body: str) -> None:
    # Not one of seed 001's keywords, so not an opt-out under it; but not "a new
    # message" that could opt the contact back in either.
    policy = get_profile("business_text")
    outcome = text(opted_out_state(policy), body, policy)
    assert outcome.events == ()
    assert check(outcome.state, policy).reason is Reason.OPTED_OUT
    # From an opted-in contact it is recorded for review.
    assert types(text(ContactState(PHONE), body, policy)) == [EventType.REVOCATION_FLAGGED]


def test_business_text_a_list_keyword_from_an_opted_out_contact_does_not_re_opt_in() -> None:
    policy = get_profile("business_text")
    state = run(subscribed("marketing", "notices"), policy, "STOP")
    outcome = text(state, "OPTOUT", policy)
    assert types(outcome) == [EventType.LIST_UNSUBSCRIBED]
    assert check(outcome.state, policy).reason is Reason.OPTED_OUT


def test_an_opt_in_only_the_model_reads_leaves_an_opted_out_contact_opted_out() -> None:
    # The learned stage may read "I want the texts again" as an opt-in; consent comes
    # back only in so many words (a keyword or an opt-in phrase of the rules).
    policy = get_profile("default")
    state = opted_out_state(policy)
    outcome = text(state, "I want the texts again", policy)
    assert types(outcome) == [] and outcome.reply is None
    assert not check(outcome.state, policy).allowed
    assert types(text(state, "please resume my alerts", policy)) == [EventType.OPTED_IN]
