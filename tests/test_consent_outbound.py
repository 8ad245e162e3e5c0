"""Consent rules for outbound decisions: refusal reasons, opt-out language, disclosures."""

from __future__ import annotations

import pytest
from consent_support import (
    PHONE,
    S1,
    check,
    opted_out_state,
    run,
)

from optline.domain import consent, decisions
from optline.domain.consent import ContactState
from optline.domain.consent_codes import EventType, Reason, Status
from optline.domain.decisions import Decision
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import get_profile

# A contact opted in with written consent on record for marketing (the default
# profile's campaign texts need it: test_written_consent.py), never texted yet
# (no_consent is in test_consent_record.py).
OPTED_IN = ContactState(PHONE, account_status=Status.OPTED_IN, written=frozenset({"marketing"}))


def test_decide_reason_blocked_comes_before_every_other_reason() -> None:
    policy = get_profile("default")
    state = consent.block(consent.unsubscribe(ContactState(PHONE), "marketing").state).state
    decision = check(state, policy, list_name="marketing", campaign=True, body="Sale!")
    assert decision == Decision(False, Reason.BLOCKED, "Sale!")


def test_decide_reason_opted_out_comes_before_list_and_language() -> None:
    policy = get_profile("default")
    state = run(consent.unsubscribe(ContactState(PHONE), "marketing").state, policy, "STOP")
    decision = check(state, policy, list_name="marketing", campaign=True, body="Sale!")
    assert decision.reason is Reason.OPTED_OUT


def test_decide_reason_list_unsubscribed_comes_before_missing_language() -> None:
    policy = get_profile("default")
    state = consent.unsubscribe(ContactState(PHONE), "marketing").state
    decision = check(state, policy, list_name="marketing", campaign=True, body="Sale!")
    assert decision.reason is Reason.LIST_UNSUBSCRIBED


@pytest.mark.parametrize("name", ["callrail", "default"])
def test_campaign_text_without_opt_out_language_is_refused(name: str) -> None:
    # Seed 000: "you'll need to use at least one approved keyword".
    policy = get_profile(name)
    state = decisions.sent(OPTED_IN)
    decision = check(state, policy, campaign=True, body="Spring sale: 20% off today")
    assert decision == Decision(False, Reason.MISSING_OPT_OUT_LANGUAGE, decision.body)


def test_first_text_disclosure_counts_as_opt_out_language() -> None:
    # The default profile's disclosure ("Reply STOP to opt out.") goes out with the
    # first text, so that text already carries opt-out language.
    policy = get_profile("default")
    first = check(OPTED_IN, policy, campaign=True, body="20% off")
    assert first.allowed and first.body.endswith("Reply STOP to opt out.")
    assert check(OPTED_IN, get_profile("callrail"), campaign=True, body="20% off").reason is (
        Reason.MISSING_OPT_OUT_LANGUAGE
    )


def test_a_first_text_never_sent_leaves_the_disclosure_for_the_next() -> None:
    policy = get_profile("default")
    first = check(OPTED_IN, policy, body="20% off")
    texted = decisions.sent(OPTED_IN)
    assert not decisions.never_sent(texted, policy, first.body).texted
    # A later text (no disclosure) refused at its hand-over: the contact was told.
    assert decisions.never_sent(texted, policy, "20% off").texted


def test_disclosure_is_not_repeated_when_the_text_already_carries_it() -> None:
    policy = get_profile("default")
    body = "Your visit is confirmed. Reply STOP to opt out."
    assert check(OPTED_IN, policy, body=body).body == body


@pytest.mark.parametrize(
    "body",
    [
        "Spring sale! Reply STOP to opt out",
        "Spring sale. Text END to quit",
        "FLASH SALE TODAY. STOP TO END",
    ],
)
def test_opt_out_language_is_not_added_to_a_text_that_already_carries_some(body: str) -> None:
    # The default disclosure is opt-out language: a first text with its own (the check
    # the campaign rule uses) needs no second copy.
    policy = get_profile("default")
    decision = check(OPTED_IN, policy, campaign=True, body=body)
    assert decision.allowed and decision.body == body
    # The same text, never handed over, leaves the disclosure for the next one.
    assert not decisions.never_sent(decisions.sent(ContactState(PHONE)), policy, body).texted


def test_a_disclosure_that_is_not_opt_out_language_is_still_added() -> None:
    policy = with_overrides(
        get_profile("default"), {"first_text_disclosure": "Msg&data rates apply."}
    )
    body = "Spring sale! Reply STOP to opt out"
    assert check(OPTED_IN, policy, body=body).body == f"{body}\n\nMsg&data rates apply."


@pytest.mark.parametrize(
    "body",
    [
        "See you at the end of the sale",
        "Stop by our shop today",
        # A keyword in capitals is not an instruction by itself.
        "Don't STOP shopping - 50% off today!",
        "THE END of summer sale",
    ],
)
def test_keyword_words_in_ordinary_prose_are_not_opt_out_language(body: str) -> None:
    policy = get_profile("callrail")
    decision = check(decisions.sent(OPTED_IN), policy, campaign=True, body=body)
    assert decision.reason is Reason.MISSING_OPT_OUT_LANGUAGE


@pytest.mark.parametrize("name", ["callrail", "default"])
@pytest.mark.parametrize(
    "body",
    [
        "Spring sale! Reply STOP to this message to stop receiving text messages.",
        "Spring sale. Text END to opt out",
        "Spring sale (reply stop to unsubscribe)",
        "Spring sale. STOP to end",
        "Spring sale. Txt STOP 2 quit",
        "FLASH SALE TODAY. MSG&DATA RATES MAY APPLY. STOP TO END",
    ],
)
def test_campaign_text_naming_an_opt_out_keyword_is_allowed(name: str, body: str) -> None:
    policy = get_profile(name)
    assert check(decisions.sent(OPTED_IN), policy, campaign=True, body=body).allowed


def test_default_accepts_the_two_word_opt_out_keyword_as_opt_out_language() -> None:
    policy = get_profile("default")
    state = decisions.sent(OPTED_IN)
    assert check(state, policy, campaign=True, body="Sale. Reply OPT OUT to leave").allowed


@pytest.mark.parametrize("name", ["callrail", "default"])
def test_one_to_one_text_needs_no_opt_out_language(name: str) -> None:
    policy = get_profile(name)
    assert check(decisions.sent(OPTED_IN), policy, body="Running late").allowed


@pytest.mark.parametrize("name", ["business_text", "command", "krispcall", "salesmsg", "twilio"])
def test_profiles_without_the_rule_allow_campaign_texts_without_opt_out_language(
    name: str,
) -> None:
    policy = get_profile(name)
    assert check(decisions.sent(OPTED_IN), policy, campaign=True, body="20% off").allowed


COMMAND_DISCLOSURE = "Prefer a phone call or email? Reply STOP to unsubscribe."


@pytest.mark.parametrize("state", [None, OPTED_IN])
def test_command_sends_the_disclosure_as_a_text_of_its_own_first(
    state: ContactState | None,
) -> None:
    # Seed 004: "The first time you send a text to someone in your database, Command
    # sends the following text": its own text, the first one left as written.
    policy = get_profile("command")
    body = "Hi Sam, the house on Elm St is open Sunday."
    decision = check(state, policy, body=body)
    assert decision == Decision(True, None, body, COMMAND_DISCLOSURE)


def test_the_appended_form_puts_the_disclosure_at_the_end_of_the_first_text() -> None:
    policy = with_overrides(get_profile("command"), {"first_text_disclosure_form": "appended"})
    decision = check(None, policy, body="Hi Sam")
    assert decision == Decision(True, None, f"Hi Sam\n\n{COMMAND_DISCLOSURE}")


def test_command_later_texts_carry_no_disclosure() -> None:
    policy = get_profile("command")
    state = decisions.sent(OPTED_IN)
    decision = check(state, policy, body="See you Sunday")
    assert decision == Decision(True, None, "See you Sunday")


def test_refused_first_text_carries_no_disclosure() -> None:
    # The notice is decided by the gate with its text: no notice for a refused one.
    policy = get_profile("command")
    decision = check(opted_out_state(policy), policy, body="See you Sunday")
    assert (decision.body, decision.notice) == ("See you Sunday", None)


def test_a_separate_notice_is_not_a_campaign_text_s_opt_out_language() -> None:
    policy = with_overrides(get_profile("default"), {"first_text_disclosure_form": "separate"})
    assert check(OPTED_IN, policy, campaign=True, body="20% off").reason is (
        Reason.MISSING_OPT_OUT_LANGUAGE
    )
    allowed = check(OPTED_IN, policy, campaign=True, body="20% off. Reply STOP to opt out")
    # Sent all the same: seed 004's notice goes before every first text, whatever it says.
    assert allowed == Decision(
        True, None, "20% off. Reply STOP to opt out", policy.first_text_disclosure
    )


def test_a_separate_notice_never_sent_leaves_the_disclosure_for_the_next_text() -> None:
    policy = get_profile("command")
    texted = decisions.sent(ContactState(PHONE))
    assert not decisions.never_sent(texted, policy, COMMAND_DISCLOSURE).texted
    assert decisions.never_sent(texted, policy, "See you Sunday").texted


@pytest.mark.parametrize("name", ["business_text", "callrail", "krispcall", "salesmsg", "twilio"])
def test_profiles_without_a_disclosure_send_the_first_text_as_written(name: str) -> None:
    assert check(OPTED_IN, get_profile(name), body="Hello").body == "Hello"


def test_sent_marks_the_contact_texted_once() -> None:
    state = decisions.sent(OPTED_IN)
    assert state.texted
    assert decisions.sent(state) is state


def test_refused_event_names_the_reason_and_sender() -> None:
    policy = get_profile("twilio")
    state = opted_out_state(policy)
    decision = check(state, policy)
    event = decisions.refused_event(state, S1.number, decision)
    assert event.type is EventType.SEND_REFUSED
    assert event.data["reason"] == "opted_out"
    assert event.data["sender"] == S1.number
