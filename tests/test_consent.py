"""The consent state machine, rule by rule (issue 2, section 4), for every profile.

Each test names the rule it proves. Vendor behaviour cites its seed file in
``../shared/seeds/``; the profile that reproduces it is named in the test.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from optline.domain import consent
from optline.domain.classify import Classification, classify
from optline.domain.consent import (
    ContactState,
    Decision,
    EventType,
    Outcome,
    Reason,
    Refused,
    Sender,
    Source,
    Status,
    Trigger,
    decide,
    receive,
)
from optline.domain.policy import Intent, Policy, SenderKind, with_overrides
from optline.domain.profiles import PROFILES, get_profile

PHONE = "+15555550123"
S1 = Sender("+15555550001")
S2 = Sender("+15555550002")
NEW_SENDER = "+15555550099"  # a number the contact has never texted
TOLL_FREE = Sender("+18885550100", SenderKind.TOLL_FREE)
SHORT_CODE = Sender("12345", SenderKind.SHORT_CODE)

ALL_PROFILES = sorted(PROFILES)
SENDER_SCOPE = ["callrail", "krispcall", "twilio"]
ACCOUNT_SCOPE = ["business_text", "command", "default", "salesmsg"]
NEVER_RESUBSCRIBE = ["callrail", "command", "krispcall", "salesmsg", "twilio"]
WITH_EVIDENCE = ["business_text", "default"]
NO_IMPLICIT_OPT_IN = [name for name in ALL_PROFILES if name != "business_text"]
# The profiles whose own keywords have no OPTOUT (those of the seeds' products, which
# keep Twilio's list from before 2025-05-14): there it can be a list's keyword alone.
WITHOUT_OPTOUT = [n for n in ALL_PROFILES if "optout" not in get_profile(n).opt_out_words()]

LIST_KEYWORDS: Mapping[str, str] = {"optout": "marketing"}
TRIGGERS: Mapping[str, Trigger] = {
    "deals": Trigger("deals", "Deals are on their way {brand}", subscribe_list="deals"),
    "nodeals": Trigger("nodeals", "No more deals. Code {SAVE20}", unsubscribe_list="deals"),
}


def text(
    state: ContactState,
    body: str,
    policy: Policy,
    sender: Sender = S1,
) -> Outcome:
    """The contact texts ``body`` to ``sender``: classify, then apply."""
    account_keywords = set(LIST_KEYWORDS) | set(TRIGGERS)
    classification = classify(body, policy, account_keywords)
    return receive(state, classification, sender, policy, TRIGGERS, LIST_KEYWORDS)


def run(state: ContactState, policy: Policy, *bodies: str, sender: Sender = S1) -> ContactState:
    for body in bodies:
        state = text(state, body, policy, sender).state
    return state


def check(
    state: ContactState | None,
    policy: Policy,
    sender: Sender | str = S1,
    body: str = "Hi, your table is ready.",
    list_name: str | None = None,
    campaign: bool = False,
) -> Decision:
    number = sender.number if isinstance(sender, Sender) else sender
    return decide(state, number, policy, body, list_name, campaign)


def types(outcome: Outcome) -> list[EventType]:
    return [event.type for event in outcome.events]


def opted_out_state(policy: Policy) -> ContactState:
    return run(ContactState(PHONE), policy, "STOP")


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
    # Seeds 000 ("PLEASE CANCEL"), 003 ("STOP QUIT", "STOP PLEASE"), 004 ("please stop").
    policy = get_profile(name)
    outcome = text(ContactState(PHONE), body, policy)
    assert outcome.state == ContactState(PHONE)
    assert outcome.events == ()
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
    outcome = text(ContactState(PHONE), "YES", policy, TOLL_FREE)
    assert outcome == Outcome(ContactState(PHONE))


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


# -- lists ----------------------------------------------------------------------------------


def subscribed(*names: str) -> ContactState:
    state = ContactState(PHONE)
    for name in names:
        state = consent.subscribe(state, name).state
    return state


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


# -- outbound decisions --------------------------------------------------------------------


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
    state = consent.sent(ContactState(PHONE))
    decision = check(state, policy, campaign=True, body="Spring sale: 20% off today")
    assert decision == Decision(False, Reason.MISSING_OPT_OUT_LANGUAGE, decision.body)


def test_first_text_disclosure_counts_as_opt_out_language() -> None:
    # The default profile's disclosure ("Reply STOP to opt out.") goes out with the
    # first text, so that text already carries opt-out language.
    policy = get_profile("default")
    first = check(None, policy, campaign=True, body="20% off")
    assert first.allowed and first.body.endswith("Reply STOP to opt out.")
    assert check(None, get_profile("callrail"), campaign=True, body="20% off").reason is (
        Reason.MISSING_OPT_OUT_LANGUAGE
    )


def test_a_first_text_never_sent_leaves_the_disclosure_for_the_next() -> None:
    policy = get_profile("default")
    first = check(None, policy, body="20% off")
    texted = consent.sent(ContactState(PHONE))
    assert not consent.never_sent(texted, policy, first.body).texted
    # A later text (no disclosure) refused at its hand-over: the contact was told.
    assert consent.never_sent(texted, policy, "20% off").texted


def test_disclosure_is_not_repeated_when_the_text_already_carries_it() -> None:
    policy = get_profile("default")
    body = "Your visit is confirmed. Reply STOP to opt out."
    assert check(None, policy, body=body).body == body


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
    decision = check(consent.sent(ContactState(PHONE)), policy, campaign=True, body=body)
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
    assert check(consent.sent(ContactState(PHONE)), policy, campaign=True, body=body).allowed


def test_default_accepts_the_two_word_opt_out_keyword_as_opt_out_language() -> None:
    policy = get_profile("default")
    state = consent.sent(ContactState(PHONE))
    assert check(state, policy, campaign=True, body="Sale. Reply OPT OUT to leave").allowed


@pytest.mark.parametrize("name", ["callrail", "default"])
def test_one_to_one_text_needs_no_opt_out_language(name: str) -> None:
    policy = get_profile(name)
    assert check(consent.sent(ContactState(PHONE)), policy, body="Running late").allowed


@pytest.mark.parametrize("name", ["business_text", "command", "krispcall", "salesmsg", "twilio"])
def test_profiles_without_the_rule_allow_campaign_texts_without_opt_out_language(
    name: str,
) -> None:
    policy = get_profile(name)
    assert check(consent.sent(ContactState(PHONE)), policy, campaign=True, body="20% off").allowed


COMMAND_DISCLOSURE = "Prefer a phone call or email? Reply STOP to unsubscribe."


@pytest.mark.parametrize("state", [None, ContactState(PHONE)])
def test_command_first_text_carries_the_disclosure(state: ContactState | None) -> None:
    # Seed 004: "The first time you send a text to someone ... Command sends" it.
    policy = get_profile("command")
    decision = check(state, policy, body="Hi Sam, the house on Elm St is open Sunday.")
    assert decision.allowed
    assert decision.body.endswith(COMMAND_DISCLOSURE)
    assert decision.body.startswith("Hi Sam")


def test_command_later_texts_carry_no_disclosure() -> None:
    policy = get_profile("command")
    state = consent.sent(ContactState(PHONE))
    decision = check(state, policy, body="See you Sunday")
    assert decision.body == "See you Sunday"


def test_refused_first_text_carries_no_disclosure() -> None:
    policy = get_profile("command")
    decision = check(opted_out_state(policy), policy, body="See you Sunday")
    assert decision.body == "See you Sunday"


@pytest.mark.parametrize("name", ["business_text", "callrail", "krispcall", "salesmsg", "twilio"])
def test_profiles_without_a_disclosure_send_the_first_text_as_written(name: str) -> None:
    assert check(None, get_profile(name), body="Hello").body == "Hello"


def test_sent_marks_the_contact_texted_once() -> None:
    state = consent.sent(ContactState(PHONE))
    assert state.texted
    assert consent.sent(state) is state


def test_refused_event_names_the_reason_and_sender() -> None:
    policy = get_profile("twilio")
    state = opted_out_state(policy)
    decision = check(state, policy)
    event = consent.refused_event(state, S1.number, decision)
    assert event.type is EventType.SEND_REFUSED
    assert event.data["reason"] == "opted_out"
    assert event.data["sender"] == S1.number


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
    # default messages."
    policy = with_overrides(get_profile("salesmsg"), {"custom_replies": CUSTOM})
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
    policy = with_overrides(get_profile("default"), {"custom_replies": CUSTOM})
    assert text(ContactState(PHONE), "STOP", policy, sender).reply == "Bye from Acme."


# -- possible opt-outs ------------------------------------------------------------------


MAYBE = Classification(Intent.POSSIBLE_OPT_OUT, reason="reads like a request to stop")


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_possible_opt_out_is_flagged_and_clarified_once(name: str) -> None:
    policy = get_profile(name)
    first = receive(ContactState(PHONE), MAYBE, S1, policy)

    assert types(first) == [EventType.REVOCATION_FLAGGED]
    assert first.events[0].data["reason"] == MAYBE.reason
    assert first.reply == policy.render(policy.replies["en"].clarify)
    assert first.state.status_from(S1.number) is Status.OPTED_IN

    second = receive(first.state, MAYBE, S1, policy)
    assert types(second) == [EventType.REVOCATION_FLAGGED]
    assert second.reply is None


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
    scope = consent.ProviderScope.MESSAGING_PROFILE
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
    [block] = consent.provider_blocks(events)
    assert (block.provider, block.scope, block.scope_id, block.sender, block.code) == (
        "telnyx",
        scope,
        "mp-1",
        S1.number,
        "40300",
    )
    assert block.wider_than_optline
    manual = consent.opt_in(outcome.state, get_profile("default"), "signed form").events
    assert consent.provider_blocks([*events, *((e.type.value, e.data) for e in manual)])
    start = receive(outcome.state, classify("START", policy), S1, policy).events
    assert consent.provider_blocks([*events, *((e.type.value, e.data) for e in start)]) == []

    # A provider whose opt-outs cover the number alone records no wider scope.
    plain = consent.provider_opt_out(ContactState(PHONE), policy, S1.number, "twilio", "21610")
    assert "provider_scope" not in plain.events[0].data
    assert consent.provider_blocks([(e.type.value, e.data) for e in plain.events]) == []
    under_account = consent.provider_opt_out(
        ContactState(PHONE), get_profile("default"), S1.number, "telnyx", "40300", scope
    )
    assert "provider_scope_id" not in under_account.events[0].data
    blocks = consent.provider_blocks([(e.type.value, e.data) for e in under_account.events])
    assert [b.wider_than_optline for b in blocks] == [False]


# -- scope switched by an override ------------------------------------------------------------


def test_account_scope_override_turns_a_sender_profile_account_wide() -> None:
    policy = with_overrides(get_profile("twilio"), {"scope": "account"})
    state = run(ContactState(PHONE), policy, "STOP", sender=S1)
    assert check(state, policy, S2).reason is Reason.OPTED_OUT


def test_sender_scope_override_turns_an_account_profile_per_number() -> None:
    policy = with_overrides(get_profile("default"), {"scope": "sender"})
    state = run(ContactState(PHONE), policy, "STOP", sender=S1)
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
