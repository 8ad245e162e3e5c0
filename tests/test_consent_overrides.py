"""Consent rules when a policy override switches scope or implicit opt-in."""

from __future__ import annotations

from consent_support import (
    PHONE,
    S1,
    S2,
    TOLL_FREE,
    check,
    opted_out_state,
    run,
    types,
)

from optline.domain import decisions
from optline.domain.classify import Classification, classify
from optline.domain.consent import ContactState
from optline.domain.consent_codes import EventType, Reason, Status
from optline.domain.inbound_text import receive
from optline.domain.policy import Intent
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import get_profile


def test_account_scope_override_turns_a_sender_profile_account_wide() -> None:
    policy = with_overrides(get_profile("twilio"), {"scope": "account"})
    state = run(ContactState(PHONE), policy, "STOP", sender=S1)
    assert check(state, policy, S2).reason is Reason.OPTED_OUT


def test_sender_scope_override_turns_an_account_profile_per_number() -> None:
    policy = with_overrides(get_profile("default"), {"scope": "sender"})
    # The contact texted in (as the engine records before reading the text).
    state = run(decisions.received(ContactState(PHONE)), policy, "STOP", sender=S1)
    assert check(state, policy, S1).reason is Reason.OPTED_OUT
    assert check(state, policy, S2).allowed


def test_implicit_opt_in_override_applies_to_any_profile() -> None:
    policy = with_overrides(get_profile("twilio"), {"implicit_opt_in": True})
    state = run(opted_out_state(policy), policy, "thanks")
    assert check(state, policy).allowed


def test_toll_free_refuses_an_opt_in_phrase_without_a_keyword() -> None:
    policy = get_profile("default")
    state = receive(ContactState(PHONE), classify("STOP", policy), TOLL_FREE, policy).state
    phrase = Classification(Intent.OPT_IN, None, "en", "phrase: opt me back in")
    outcome = receive(state, phrase, TOLL_FREE, policy)

    assert types(outcome) == [EventType.OPT_IN_REFUSED]
    assert outcome.state.status_from(TOLL_FREE.number) is Status.OPTED_OUT
