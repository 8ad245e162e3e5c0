"""Consent rules on toll-free numbers, whose carrier network answers STOP and START itself.

Carrier facts (REFERENCE): on a toll-free number the network handles STOP and its peers
with a fixed reply that cannot be customised, opts back in on START and UNSTOP only,
and an opted-out contact's HELP gets no answer. Under ``toll_free_network_replies`` (on
in every profile) optline records each change and sends no reply of its own there.
"""

from __future__ import annotations

import pytest
from consent_support import ALL_PROFILES, PHONE, S1, TOLL_FREE, run, text, types
from hypothesis import given, settings
from hypothesis import strategies as st

from optline.domain.consent import ContactState
from optline.domain.consent_codes import EventType, Status
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import get_profile

NETWORK_STOP = ["STOP", "stop", "Stop.", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]


@pytest.mark.parametrize("name", ALL_PROFILES)
@pytest.mark.parametrize("keyword", NETWORK_STOP)
def test_the_network_s_stop_is_recorded_and_not_confirmed_twice(name: str, keyword: str) -> None:
    policy = get_profile(name)
    outcome = text(ContactState(PHONE), keyword, policy, TOLL_FREE)
    assert types(outcome) == [EventType.OPTED_OUT]
    assert outcome.state.status_from(TOLL_FREE.number) is Status.OPTED_OUT
    assert outcome.reply is None
    # The same keyword to a long code is optline's to confirm.
    assert text(ContactState(PHONE), keyword, policy, S1).reply is not None


@pytest.mark.parametrize("name", ALL_PROFILES)
@pytest.mark.parametrize("keyword", ["START", "unstop"])
def test_the_network_s_start_is_recorded_and_not_confirmed_twice(name: str, keyword: str) -> None:
    policy = get_profile(name)
    state = run(ContactState(PHONE), policy, "STOP", sender=TOLL_FREE)
    outcome = text(state, keyword, policy, TOLL_FREE)
    assert types(outcome) == [EventType.OPTED_IN]
    assert outcome.state.status_from(TOLL_FREE.number) is Status.OPTED_IN
    assert outcome.reply is None


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_an_opted_out_contact_s_help_to_a_toll_free_number_gets_no_answer(name: str) -> None:
    policy = get_profile(name)
    state = run(ContactState(PHONE), policy, "STOP", sender=TOLL_FREE)
    outcome = text(state, "HELP", policy, TOLL_FREE)
    assert (outcome.reply, outcome.events, outcome.state) == (None, (), state)
    # Opted in, HELP is answered there as anywhere (CTIA).
    assert text(ContactState(PHONE), "HELP", policy, TOLL_FREE).reply == policy.render(
        policy.replies["en"].help
    )


@pytest.mark.parametrize("body", ["please stop texting me", "REVOKE", "OPT OUT", "BAJA"])
def test_an_opt_out_the_network_does_not_act_on_is_confirmed_by_optline(body: str) -> None:
    # Default reads free text and more keywords than the network: those are optline's.
    policy = get_profile("default")
    outcome = text(ContactState(PHONE), body, policy, TOLL_FREE)
    assert types(outcome) == [EventType.OPTED_OUT]
    assert outcome.reply is not None


def test_with_the_field_off_optline_answers_on_toll_free_as_anywhere() -> None:
    policy = with_overrides(get_profile("twilio"), {"toll_free_network_replies": False})
    out = text(ContactState(PHONE), "STOP", policy, TOLL_FREE)
    assert out.reply == policy.replies["en"].opt_out
    assert text(out.state, "HELP", policy, TOLL_FREE).reply == policy.replies["en"].help
    assert text(out.state, "START", policy, TOLL_FREE).reply == policy.replies["en"].opt_in


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(ALL_PROFILES),
    bodies=st.lists(st.sampled_from([*NETWORK_STOP, "START", "UNSTOP", "HELP", "hi"]), max_size=8),
)
def test_optline_never_answers_a_toll_free_contact_the_network_blocks(
    name: str, bodies: list[str]
) -> None:
    # Whatever came before, a contact opted out of the toll-free number gets no text
    # of optline's from it: the network would not let it through.
    policy = get_profile(name)
    state = ContactState(PHONE)
    for body in bodies:
        opted_out = state.status_from(TOLL_FREE.number) is Status.OPTED_OUT
        outcome = text(state, body, policy, TOLL_FREE)
        if opted_out:
            assert outcome.reply is None, body
        state = outcome.state
