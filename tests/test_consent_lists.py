"""Consent rules for lists and their keywords, and for triggers."""

from __future__ import annotations

import pytest
from consent_support import (
    ALL_PROFILES,
    PHONE,
    S1,
    TOLL_FREE,
    WITH_EVIDENCE,
    WITHOUT_OPTOUT,
    check,
    opted_out_state,
    run,
    subscribed,
    text,
    types,
)

from optline.domain import consent
from optline.domain.classify import classify
from optline.domain.consent import ContactState
from optline.domain.consent_codes import EventType, Reason, Status
from optline.domain.inbound_text import receive
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import PROFILES, get_profile

# -- lists ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WITHOUT_OPTOUT)
def test_list_keyword_unsubscribes_from_that_list_only(name: str) -> None:
    # Seed 001: OPTOUT ends "marketing messages"; "The contact will still receive 1:1
    # messages and campaign messages from any other lists they're subscribed to."
    policy = get_profile(name)
    state = subscribed("marketing", "notices")

    outcome = text(state, "OPTOUT", policy)

    assert types(outcome) == [EventType.LIST_UNSUBSCRIBED]
    assert outcome.events[0].data["list"] == "marketing"
    assert outcome.reply == policy.render(policy.replies["en"].list_opt_out, "marketing")
    after = outcome.state
    assert check(after, policy, list_name="marketing").reason is Reason.LIST_UNSUBSCRIBED
    assert check(after, policy, list_name="notices").allowed
    assert check(after, policy).allowed
    assert after.status_from(S1.number) is Status.OPTED_IN


@pytest.mark.parametrize("name", sorted(set(ALL_PROFILES) - set(WITHOUT_OPTOUT)))
def test_a_list_keyword_that_is_an_opt_out_keyword_opts_out(name: str) -> None:
    # Where OPTOUT is one of the policy's opt-out keywords (as at Twilio since
    # 2025-05-14), it revokes consent whatever list it also names: 64.1200(a)(10).
    policy = get_profile(name)
    outcome = text(subscribed("marketing", "notices"), "OPTOUT", policy)
    assert types(outcome) == [EventType.OPTED_OUT]
    assert not check(outcome.state, policy).allowed


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_global_stop_ends_every_list_and_opt_in_restores_memberships(name: str) -> None:
    policy = get_profile(name)
    state = consent.unsubscribe(subscribed("marketing", "notices"), "notices").state

    stopped = run(state, policy, "STOP")
    for list_name in ("marketing", "notices"):
        assert check(stopped, policy, list_name=list_name).reason is Reason.OPTED_OUT
    assert stopped.lists == state.lists

    restarted = run(stopped, policy, "START")
    assert restarted.lists == state.lists
    assert check(restarted, policy, list_name="marketing").allowed
    assert check(restarted, policy, list_name="notices").reason is Reason.LIST_UNSUBSCRIBED


@pytest.mark.parametrize("name", WITH_EVIDENCE)
def test_manual_opt_in_after_block_and_unblock_keeps_list_memberships(name: str) -> None:
    policy = get_profile(name)
    state = subscribed("marketing")
    state = consent.unblock(consent.block(state).state).state
    state = consent.opt_in(state, policy, evidence="Signed form").state
    assert state.lists == {"marketing": True}
    assert check(state, policy, list_name="marketing").allowed


def test_list_keyword_from_an_opted_out_contact_unsubscribes_without_reply() -> None:
    policy = get_profile("callrail")
    state = run(subscribed("marketing"), policy, "STOP")
    outcome = text(state, "OPTOUT", policy)
    assert outcome.reply is None
    assert outcome.state.lists == {"marketing": False}


# -- triggers ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_trigger_replies_and_subscribes_to_its_list(name: str) -> None:
    policy = with_overrides(get_profile(name), {"brand": "Acme"})
    outcome = text(ContactState(PHONE), "Deals", policy)

    assert outcome.reply == "Deals are on their way Acme"
    assert types(outcome) == [EventType.TRIGGER_FIRED, EventType.LIST_SUBSCRIBED]
    assert outcome.state.lists == {"deals": True}


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_trigger_unsubscribes_from_its_list_and_keeps_other_braces(name: str) -> None:
    policy = get_profile(name)
    outcome = text(subscribed("deals", "notices"), "NODEALS", policy)

    assert outcome.reply == "No more deals. Code {SAVE20}"
    assert types(outcome) == [EventType.TRIGGER_FIRED, EventType.LIST_UNSUBSCRIBED]
    assert outcome.state.lists == {"deals": False, "notices": True}


@pytest.mark.parametrize("name", [n for n in ALL_PROFILES if not PROFILES[n].implicit_opt_in])
def test_no_trigger_reply_to_an_opted_out_contact(name: str) -> None:
    policy = get_profile(name)
    outcome = text(opted_out_state(policy), "DEALS", policy)

    assert outcome.reply is None
    assert EventType.TRIGGER_FIRED in types(outcome)
    assert outcome.state.status_from(S1.number) is Status.OPTED_OUT


def test_trigger_from_opted_out_contact_opts_back_in_first_under_business_text() -> None:
    # Seed 001: any new message opts the contact back in "so you can reply".
    policy = get_profile("business_text")
    outcome = text(opted_out_state(policy), "DEALS", policy)

    assert types(outcome)[:2] == [EventType.OPTED_IN, EventType.TRIGGER_FIRED]
    assert outcome.reply == "Deals are on their way "
    assert outcome.state.status_from(S1.number) is Status.OPTED_IN


def test_implicit_opt_in_does_not_apply_on_toll_free_numbers() -> None:
    # Carriers lift a toll-free opt-out only on START or UNSTOP.
    policy = get_profile("business_text")
    state = receive(ContactState(PHONE), classify("STOP", policy), TOLL_FREE, policy).state
    outcome = receive(state, classify("hello", policy), TOLL_FREE, policy)

    assert outcome.events == ()
    assert outcome.state.status_from(TOLL_FREE.number) is Status.OPTED_OUT
