"""Consent rules for HELP and the texts each profile replies with."""

from __future__ import annotations

import pytest
from consent_support import (
    ALL_PROFILES,
    PHONE,
    S1,
    SHORT_CODE,
    TOLL_FREE,
    opted_out_state,
    text,
    types,
)

from optline.domain.classify import classify
from optline.domain.consent import ContactState, Sender, Trigger
from optline.domain.consent_codes import EventType
from optline.domain.inbound_text import receive
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import get_profile

# -- HELP ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PROFILES)
@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize("keyword", ["HELP", "info"])
def test_help_is_answered_whatever_the_consent_status(
    name: str, opted_out: bool, keyword: str
) -> None:
    policy = get_profile(name)
    state = opted_out_state(policy) if opted_out else ContactState(PHONE)

    outcome = text(state, keyword, policy)

    assert outcome.reply == policy.render(policy.replies["en"].help)
    assert types(outcome) == [EventType.HELP_ANSWERED]
    assert outcome.state == state


# Seed 001's "Trigger / Intelligent Response" table, its HELP row.
SEED_001_HELP = (
    "To opt out of these marketing messages, reply OPTOUT. To no longer receive any "
    "communication from us, reply STOP. \u2013 Company"
)
HELP_TRIGGERS = {"help": Trigger("help", SEED_001_HELP)}


@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize("keyword", ["HELP", "help?", "Info"])
def test_a_help_trigger_is_the_account_s_help_reply_whatever_the_consent(
    opted_out: bool, keyword: str
) -> None:
    # Seed 001 sets up HELP as a trigger; CTIA: HELP is answered even when opted out.
    # One trigger on HELP answers INFO too: both are the carriers' help words.
    policy = get_profile("business_text")
    state = opted_out_state(policy) if opted_out else ContactState(PHONE)
    classification = classify(keyword, policy, HELP_TRIGGERS.keys())
    outcome = receive(state, classification, S1, policy, HELP_TRIGGERS)
    assert outcome.reply == SEED_001_HELP
    assert types(outcome) == [EventType.HELP_ANSWERED]
    assert outcome.events[0].data["trigger"] == "HELP"
    assert outcome.state == state  # HELP never opts anyone back in


def test_a_help_request_in_another_language_keeps_its_own_reply() -> None:
    policy = get_profile("default")
    classification = classify("AYUDA", policy, HELP_TRIGGERS.keys())
    outcome = receive(ContactState(PHONE), classification, S1, policy, HELP_TRIGGERS)
    assert outcome.reply == policy.render(policy.replies["es"].help)
    assert "trigger" not in outcome.events[0].data


# -- reply texts -------------------------------------------------------------------------


TWILIO_STOP = (
    "You have successfully been unsubscribed. You will not receive any more messages "
    "from this number. Reply START to resubscribe."
)
TWILIO_START = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP "
    "for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
TWILIO_HELP = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
CALLRAIL_START = (
    "You have successfully been resubscribed to messages from this number. Reply HELP "
    "for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
KRISPCALL_START = (
    "You have successfully been re-subscribed to messages from this number. Reply "
    "\u201cHELP\u201d or \u201cINFO\u201d for help. Reply STOP to unsubscribe. "
    "Msg&Data Rates May Apply."
)


@pytest.mark.parametrize(
    ("name", "stop", "start"),
    [
        ("twilio", TWILIO_STOP, TWILIO_START),
        ("callrail", TWILIO_STOP, CALLRAIL_START),  # seed 000
        ("krispcall", TWILIO_STOP, KRISPCALL_START),  # seed 003
        ("command", TWILIO_STOP, TWILIO_START),
        ("salesmsg", TWILIO_STOP, TWILIO_START),
        ("business_text", TWILIO_STOP, TWILIO_START),
    ],
)
def test_vendor_profiles_answer_with_their_exact_texts(name: str, stop: str, start: str) -> None:
    policy = get_profile(name)
    out = text(ContactState(PHONE), "STOP", policy)
    assert out.reply == stop
    back = text(out.state, "START", policy)
    assert back.reply == start
    assert text(back.state, "HELP", policy).reply == TWILIO_HELP


def test_default_replies_carry_brand_support_and_rates() -> None:
    policy = with_overrides(
        get_profile("default"), {"brand": "Acme Dental", "support_contact": "acme.example/help"}
    )
    help_reply = text(ContactState(PHONE), "HELP", policy).reply
    assert help_reply is not None
    for needle in ("Acme Dental", "acme.example/help", "Msg & data rates may apply", "STOP"):
        assert needle in help_reply
    stop_reply = text(ContactState(PHONE), "STOP", policy).reply
    assert stop_reply is not None
    assert stop_reply.startswith("Acme Dental:")


CUSTOM = {"opt_out": "Bye from Acme.", "opt_in": "Welcome back.", "help": "Call us."}


@pytest.mark.parametrize("sender", [S1, TOLL_FREE])
def test_salesmsg_custom_replies_are_not_used_on_long_codes_or_toll_free(sender: Sender) -> None:
    # Seed 002: "For long code messages, we do not have the option to change these
    # default messages." (Optline's own replies on toll-free: the network's turned off.)
    overrides = {"custom_replies": CUSTOM, "toll_free_network_replies": False}
    policy = with_overrides(get_profile("salesmsg"), overrides)
    assert text(ContactState(PHONE), "STOP", policy, sender).reply == TWILIO_STOP
    assert text(ContactState(PHONE), "HELP", policy, sender).reply == TWILIO_HELP


def test_salesmsg_custom_replies_are_used_on_a_dedicated_short_code() -> None:
    # Seed 002: "For a dedicated Short Code, you can customize the messages."
    policy = with_overrides(get_profile("salesmsg"), {"custom_replies": CUSTOM})
    out = text(ContactState(PHONE), "STOP", policy, SHORT_CODE)
    assert out.reply == "Bye from Acme."
    assert text(out.state, "START", policy, SHORT_CODE).reply == "Welcome back."
    assert text(out.state, "HELP", policy, SHORT_CODE).reply == "Call us."


@pytest.mark.parametrize("sender", [S1, TOLL_FREE, SHORT_CODE])
def test_default_custom_replies_are_used_on_every_sender_kind(sender: Sender) -> None:
    overrides = {"custom_replies": CUSTOM, "toll_free_network_replies": False}
    policy = with_overrides(get_profile("default"), overrides)
    assert text(ContactState(PHONE), "STOP", policy, sender).reply == "Bye from Acme."
