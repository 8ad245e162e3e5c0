"""Consent rules for opting out: keywords, STOPALL, possible and provider-reported opt-outs."""

from __future__ import annotations

import pytest
from consent_support import (
    ACCOUNT_SCOPE,
    ALL_PROFILES,
    NEW_SENDER,
    PHONE,
    S1,
    S2,
    SENDER_SCOPE,
    check,
    opted_out_state,
    run,
    text,
    types,
)

from optline.domain import consent, projection
from optline.domain.classify import Classification, classify
from optline.domain.consent import ContactState
from optline.domain.consent_codes import EventType, ProviderScope, Reason, Status
from optline.domain.inbound_text import receive
from optline.domain.policy import Intent
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import get_profile

# -- opt-out keywords ------------------------------------------------------------------


@pytest.mark.parametrize("name", SENDER_SCOPE)
def test_opt_out_keyword_opts_out_only_that_sender_under_sender_scope(name: str) -> None:
    policy = get_profile(name)
    outcome = text(ContactState(PHONE), "STOP", policy, S1)

    assert outcome.reply == policy.render(policy.replies["en"].opt_out)
    assert types(outcome) == [EventType.OPTED_OUT]
    assert outcome.events[0].data["scope"] == "sender"
    assert outcome.events[0].data["sender"] == S1.number
    assert check(outcome.state, policy, S1).reason is Reason.OPTED_OUT
    assert check(outcome.state, policy, S2).allowed
    assert check(outcome.state, policy, NEW_SENDER).allowed


@pytest.mark.parametrize("name", ACCOUNT_SCOPE)
def test_opt_out_keyword_opts_out_whole_account_under_account_scope(name: str) -> None:
    policy = get_profile(name)
    outcome = text(ContactState(PHONE), "STOP", policy, S1)

    assert outcome.reply == policy.render(policy.replies["en"].opt_out)
    assert outcome.events[0].data["scope"] == "account"
    for sender in (S1, S2, NEW_SENDER):
        assert check(outcome.state, policy, sender).reason is Reason.OPTED_OUT


@pytest.mark.parametrize("name", ALL_PROFILES)
@pytest.mark.parametrize("keyword", ["STOP", "stop", "Stop.", " STOP!! ", "END", "QUIT", "CANCEL"])
def test_every_profile_opts_out_on_its_keywords_in_any_case_and_punctuation(
    name: str, keyword: str
) -> None:
    policy = get_profile(name)
    outcome = text(ContactState(PHONE), keyword, policy)
    assert outcome.state.status_from(S1.number) is Status.OPTED_OUT


@pytest.mark.parametrize("name", ["callrail", "krispcall", "command", "salesmsg", "twilio"])
@pytest.mark.parametrize("body", ["STOP PLEASE", "PLEASE CANCEL", "STOP QUIT", "please stop"])
def test_vendor_profiles_ignore_a_keyword_inside_a_longer_message(name: str, body: str) -> None:
    # Seeds 000 ("PLEASE CANCEL"), 003 ("STOP QUIT", "STOP PLEASE"), 004 ("please stop"):
    # no opt-out and no answer, as the vendors document; the text is only flagged for
    # review (64.1200(a)(10) binds every business whatever its vendor matches).
    policy = get_profile(name)
    outcome = text(ContactState(PHONE), body, policy)
    assert outcome.state == ContactState(PHONE)
    assert types(outcome) == [EventType.REVOCATION_FLAGGED]
    assert outcome.reply is None


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_repeat_opt_out_is_recorded_but_not_confirmed_twice(name: str) -> None:
    policy = get_profile(name)
    state = opted_out_state(policy)

    again = text(state, "STOP", policy)

    assert types(again) == [EventType.OPTED_OUT]
    assert again.events[0].data["repeat"] is True
    assert again.reply is None
    assert again.state.status_from(S1.number) is Status.OPTED_OUT


def test_first_opt_out_event_is_not_marked_repeat() -> None:
    outcome = text(ContactState(PHONE), "STOP", get_profile("default"))
    assert "repeat" not in outcome.events[0].data


def test_repeat_opt_out_is_confirmed_again_when_the_policy_allows_it() -> None:
    policy = with_overrides(get_profile("default"), {"one_confirmation_per_opt_out": False})
    again = text(opted_out_state(policy), "END", policy)
    assert again.reply == policy.render(policy.replies["en"].opt_out)


@pytest.mark.parametrize("name", SENDER_SCOPE)
def test_opt_out_from_a_second_sender_is_confirmed_under_sender_scope(name: str) -> None:
    policy = get_profile(name)
    state = opted_out_state(policy)
    outcome = text(state, "STOP", policy, S2)
    assert outcome.reply is not None
    assert "repeat" not in outcome.events[0].data


@pytest.mark.parametrize("name", ACCOUNT_SCOPE)
def test_opt_out_from_a_second_sender_is_a_repeat_under_account_scope(name: str) -> None:
    policy = get_profile(name)
    outcome = text(opted_out_state(policy), "STOP", policy, S2)
    assert outcome.reply is None
    assert outcome.events[0].data["repeat"] is True


# -- STOPALL ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_stopall_opts_out_of_every_sender_even_under_sender_scope(name: str) -> None:
    policy = get_profile(name)
    outcome = text(ContactState(PHONE), "STOPALL", policy, S1)

    assert outcome.events[0].data["scope"] == "account"
    assert outcome.reply is not None
    for sender in (S1, S2, NEW_SENDER):
        assert check(outcome.state, policy, sender).reason is Reason.OPTED_OUT


def test_stop_all_with_a_space_opts_out_every_sender_under_default() -> None:
    policy = with_overrides(get_profile("default"), {"scope": "sender"})
    state = run(ContactState(PHONE), policy, "Stop all")
    for sender in (S1, S2, NEW_SENDER):
        assert check(state, policy, sender).reason is Reason.OPTED_OUT


@pytest.mark.parametrize("name", SENDER_SCOPE)
def test_stopall_clears_an_earlier_opt_in_on_one_sender(name: str) -> None:
    policy = with_overrides(get_profile(name), {"opt_in_all_senders": False})
    state = run(ContactState(PHONE), policy, "STOPALL", "START")
    assert check(state, policy, S1).allowed
    assert check(state, policy, S2).reason is Reason.OPTED_OUT

    outcome = text(state, "STOPALL", policy, S2)

    assert outcome.reply is not None  # S1 was opted in: not a repeat
    assert check(outcome.state, policy, S1).reason is Reason.OPTED_OUT


def test_stopall_stays_on_its_sender_when_the_policy_does_not_widen_it() -> None:
    policy = with_overrides(get_profile("twilio"), {"opt_out_all_widens": False})
    outcome = text(ContactState(PHONE), "STOPALL", policy, S1)

    assert outcome.events[0].data["scope"] == "sender"
    assert check(outcome.state, policy, S1).reason is Reason.OPTED_OUT
    assert check(outcome.state, policy, S2).allowed


# -- possible opt-outs ------------------------------------------------------------------


MAYBE = Classification(Intent.POSSIBLE_OPT_OUT, reason="reads like a request to stop")


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_possible_opt_out_is_flagged_and_clarified_once(name: str) -> None:
    # The vendor profiles flag without answering (their products answer only their
    # keywords); an account may turn the clarification on.
    policy = with_overrides(get_profile(name), {"clarify_possible_opt_out": True})
    first = receive(ContactState(PHONE), MAYBE, S1, policy)

    assert types(first) == [EventType.REVOCATION_FLAGGED]
    assert first.events[0].data["reason"] == MAYBE.reason
    assert first.reply == policy.render(policy.replies["en"].clarify)
    assert first.state.status_from(S1.number) is Status.NO_CONSENT  # not opted out

    second = receive(first.state, MAYBE, S1, policy)
    assert types(second) == [EventType.REVOCATION_FLAGGED]
    assert second.reply is None


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_only_the_default_profile_answers_a_possible_opt_out(name: str) -> None:
    policy = get_profile(name)
    outcome = receive(ContactState(PHONE), MAYBE, S1, policy)
    assert types(outcome) == [EventType.REVOCATION_FLAGGED]
    assert (outcome.reply is not None) is (name == "default")


def test_possible_opt_out_is_clarified_again_after_a_consent_change() -> None:
    policy = get_profile("default")
    state = receive(ContactState(PHONE), MAYBE, S1, policy).state
    state = run(state, policy, "STOP", "START")
    assert receive(state, MAYBE, S1, policy).reply is not None


def test_possible_opt_out_is_not_answered_when_clarifying_is_switched_off() -> None:
    policy = with_overrides(get_profile("default"), {"clarify_possible_opt_out": False})
    outcome = receive(ContactState(PHONE), MAYBE, S1, policy)
    assert types(outcome) == [EventType.REVOCATION_FLAGGED]
    assert outcome.reply is None


def test_possible_opt_out_from_a_blocked_contact_is_hidden_and_unanswered() -> None:
    policy = get_profile("default")
    blocked = consent.block(ContactState(PHONE)).state
    outcome = receive(blocked, MAYBE, S1, policy)
    assert outcome.hidden
    assert outcome.reply is None


# -- provider-reported opt-outs --------------------------------------------------------------


@pytest.mark.parametrize("name", SENDER_SCOPE)
@pytest.mark.parametrize(
    ("provider", "code"), [("twilio", "21610"), ("telnyx", "40300"), ("bandwidth", "4775")]
)
def test_provider_opt_out_is_scoped_to_its_sender_under_sender_scope(
    name: str, provider: str, code: str
) -> None:
    policy = get_profile(name)
    outcome = consent.provider_opt_out(ContactState(PHONE), policy, S1.number, provider, code)

    assert types(outcome) == [EventType.OPTED_OUT]
    data = outcome.events[0].data
    assert (data["source"], data["provider"], data["code"]) == ("provider", provider, code)
    assert data["scope"] == "sender"
    assert outcome.reply is None
    assert check(outcome.state, policy, S1).reason is Reason.OPTED_OUT
    assert check(outcome.state, policy, S2).allowed


@pytest.mark.parametrize("name", ACCOUNT_SCOPE)
def test_provider_opt_out_covers_the_account_under_account_scope(name: str) -> None:
    policy = get_profile(name)
    outcome = consent.provider_opt_out(ContactState(PHONE), policy, S1.number, "twilio", "21610")
    assert outcome.events[0].data["scope"] == "account"
    for sender in (S1, S2, NEW_SENDER):
        assert check(outcome.state, policy, sender).reason is Reason.OPTED_OUT


def test_a_provider_opt_out_wider_than_a_number_says_so_and_is_shown_until_start() -> None:
    """Telnyx keeps opt-outs per messaging profile: the event records that scope (and
    the profile, where known), and the block stands until the contact texts START;
    an opt-in by the business does not lift it at the provider."""
    policy = get_profile("twilio")  # consent per sender
    scope = ProviderScope.MESSAGING_PROFILE
    outcome = consent.provider_opt_out(
        ContactState(PHONE), policy, S1.number, "telnyx", "40300", scope, "mp-1"
    )
    data = outcome.events[0].data
    assert (data["scope"], data["provider_scope"], data["provider_scope_id"]) == (
        "sender",
        "messaging_profile",
        "mp-1",
    )
    assert check(outcome.state, policy, S2).allowed  # the account's scope, as before

    events = [(e.type.value, e.data) for e in outcome.events]
    [block] = projection.provider_blocks(events)
    assert (block.provider, block.scope, block.scope_id, block.sender, block.code) == (
        "telnyx",
        scope,
        "mp-1",
        S1.number,
        "40300",
    )
    assert block.wider_than_optline
    manual = consent.opt_in(outcome.state, get_profile("default"), "signed form").events
    assert projection.provider_blocks([*events, *((e.type.value, e.data) for e in manual)])
    start = receive(outcome.state, classify("START", policy), S1, policy).events
    assert projection.provider_blocks([*events, *((e.type.value, e.data) for e in start)]) == []

    # A provider whose opt-outs cover the number alone records no wider scope.
    plain = consent.provider_opt_out(ContactState(PHONE), policy, S1.number, "twilio", "21610")
    assert "provider_scope" not in plain.events[0].data
    assert projection.provider_blocks([(e.type.value, e.data) for e in plain.events]) == []
    under_account = consent.provider_opt_out(
        ContactState(PHONE), get_profile("default"), S1.number, "telnyx", "40300", scope
    )
    assert "provider_scope_id" not in under_account.events[0].data
    blocks = projection.provider_blocks([(e.type.value, e.data) for e in under_account.events])
    assert [b.wider_than_optline for b in blocks] == [False]
