"""Consent rules for blocked contacts and manual changes by the account."""

from __future__ import annotations

import pytest
from consent_support import (
    ALL_PROFILES,
    NEVER_RESUBSCRIBE,
    NEW_SENDER,
    PHONE,
    S1,
    S2,
    SENDER_SCOPE,
    WITH_EVIDENCE,
    WITHOUT_OPTOUT,
    check,
    opted_out_state,
    run,
    text,
    types,
)

from optline.domain import consent
from optline.domain.consent import ContactState, Refused
from optline.domain.consent_codes import EventType, Reason, Source, Status
from optline.domain.profiles import get_profile

# -- block and unblock ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_block_implies_opted_out_everywhere_and_refuses_with_blocked(name: str) -> None:
    policy = get_profile(name)
    state = run(ContactState(PHONE), policy, "STOP", "START", sender=S2)

    outcome = consent.block(state, note="abusive")

    assert types(outcome) == [EventType.BLOCKED]
    assert outcome.state.account_status is Status.OPTED_OUT
    for number in (S1.number, S2.number, NEW_SENDER):
        assert outcome.state.status_from(number) is Status.BLOCKED
        assert check(outcome.state, policy, number).reason is Reason.BLOCKED


@pytest.mark.parametrize(
    ("name", "body"),
    [
        *((name, body) for name in ALL_PROFILES for body in ("hello?", "HELP", "DEALS")),
        *((name, "OPTOUT") for name in WITHOUT_OPTOUT),
    ],
)
def test_blocked_contacts_texts_are_hidden_and_get_no_reply(name: str, body: str) -> None:
    policy = get_profile(name)
    blocked = consent.block(ContactState(PHONE)).state

    outcome = text(blocked, body, policy)

    assert outcome.hidden
    assert outcome.reply is None
    assert outcome.state == blocked
    assert outcome.events == ()


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_opt_out_keyword_from_a_blocked_contact_is_still_recorded(name: str) -> None:
    policy = get_profile(name)
    blocked = consent.block(ContactState(PHONE)).state

    outcome = text(blocked, "STOP", policy)

    assert outcome.hidden
    assert outcome.reply is None
    assert types(outcome) == [EventType.OPTED_OUT]
    assert outcome.events[0].data["keyword"] == "STOP"


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_unblock_does_not_opt_in(name: str) -> None:
    policy = get_profile(name)
    blocked = consent.block(ContactState(PHONE)).state

    outcome = consent.unblock(blocked)

    assert types(outcome) == [EventType.UNBLOCKED]
    assert not outcome.state.blocked
    for sender in (S1, S2, NEW_SENDER):
        assert check(outcome.state, policy, sender).reason is Reason.OPTED_OUT


def test_business_text_blocked_contact_is_not_re_opted_in_by_texting() -> None:
    # Seed 001: a blocked contact "must be unblocked before the Opted-in box is checked".
    policy = get_profile("business_text")
    blocked = consent.block(ContactState(PHONE)).state
    outcome = text(blocked, "Please let me back in", policy)
    assert outcome.state.blocked
    assert outcome.events == ()


def test_business_text_unblocked_contact_opts_back_in_by_texting() -> None:
    # Seed 001: unblocked and opted out, "they can send a message to the account to opt
    # back in".
    policy = get_profile("business_text")
    unblocked = consent.unblock(consent.block(ContactState(PHONE)).state).state
    outcome = text(unblocked, "hi again", policy)
    assert check(outcome.state, policy).allowed


# -- manual changes --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NEVER_RESUBSCRIBE)
def test_manual_re_opt_in_is_refused_with_a_clear_reason_under_never(name: str) -> None:
    # Seeds 002 ("you will not be able to re-subscribe them") and 004 ("there is no way
    # for you to do this for them"); Twilio: only the recipient can text START.
    policy = get_profile(name)
    state = opted_out_state(policy)

    with pytest.raises(Refused, match="only the contact") as refused:
        consent.opt_in(state, policy, evidence="Signed form, 2025-03-01, front desk")

    assert name in str(refused.value)


@pytest.mark.parametrize("name", WITH_EVIDENCE)
@pytest.mark.parametrize("evidence", [None, "", "   "])
def test_manual_re_opt_in_needs_evidence_under_with_evidence(
    name: str, evidence: str | None
) -> None:
    policy = get_profile(name)
    with pytest.raises(Refused, match="evidence"):
        consent.opt_in(opted_out_state(policy), policy, evidence=evidence)


@pytest.mark.parametrize("name", WITH_EVIDENCE)
def test_manual_re_opt_in_with_evidence_opts_in_and_records_it(name: str) -> None:
    policy = get_profile(name)
    outcome = consent.opt_in(opted_out_state(policy), policy, evidence=" Verbal, 2025-03-01 ")

    assert types(outcome) == [EventType.OPTED_IN]
    assert outcome.events[0].data["source"] == Source.MANUAL
    assert outcome.events[0].data["evidence"] == "Verbal, 2025-03-01"
    assert outcome.reply is None
    assert check(outcome.state, policy, S2).allowed


@pytest.mark.parametrize("name", WITH_EVIDENCE)
def test_manual_re_opt_in_of_a_blocked_contact_is_refused(name: str) -> None:
    policy = get_profile(name)
    blocked = consent.block(ContactState(PHONE)).state
    with pytest.raises(Refused, match="unblock"):
        consent.opt_in(blocked, policy, evidence="Verbal")


@pytest.mark.parametrize("name", SENDER_SCOPE)
def test_manual_opt_out_without_a_sender_covers_every_sender(name: str) -> None:
    policy = get_profile(name)
    outcome = consent.opt_out(ContactState(PHONE), policy, note="asked by phone")
    assert outcome.events[0].data["source"] == Source.MANUAL
    for sender in (S1, S2, NEW_SENDER):
        assert check(outcome.state, policy, sender).reason is Reason.OPTED_OUT


@pytest.mark.parametrize("name", SENDER_SCOPE)
def test_manual_opt_out_for_one_sender_under_sender_scope(name: str) -> None:
    policy = get_profile(name)
    state = consent.opt_out(ContactState(PHONE), policy, sender=S1.number).state
    assert check(state, policy, S1).reason is Reason.OPTED_OUT
    assert check(state, policy, S2).allowed
