"""Property tests: random sequences of actions against a small reference model.

For every profile (and random field overrides on top of it), hypothesis plays random
sequences of inbound texts from several senders (long code, toll-free, short code),
manual changes, block/unblock, list changes and provider-reported opt-outs. After each
step the state machine must agree with a reference model of who may be texted from
which sender, and these invariants must hold:

- blocked => decide() refuses with ``blocked`` from every sender;
- after an opt-out from sender S, decide() from S refuses until an opt-in that covers S;
- no reply is ever sent to a blocked contact;
- an opt-out is confirmed only when it changed consent (one confirmation per opt-out);
- a clarification is sent at most once between two consent changes;
- the state never changes without an event;
- list memberships change only by list actions, never by opt-out, opt-in or block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optline.domain import consent, decisions, inbound_text
from optline.domain.classify import Classification, classify
from optline.domain.consent import ContactState, Outcome, Refused, Sender, Trigger
from optline.domain.consent_codes import EventType, Reason, Status
from optline.domain.policy import Intent, Policy, Resubscribe, Scope, SenderKind
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import PROFILES, get_profile

PHONE = "+15555550123"
SENDERS = (
    Sender("+15555550001", SenderKind.LONG_CODE),
    Sender("+18885550002", SenderKind.TOLL_FREE),
    Sender("55555", SenderKind.SHORT_CODE),
)
# A number the contact never texts: it follows the account-wide consent.
ELSEWHERE = "+15555550999"
NUMBERS = (*(s.number for s in SENDERS), ELSEWHERE)

LIST_KEYWORDS: Mapping[str, str] = {"leave": "marketing"}
TRIGGERS: Mapping[str, Trigger] = {
    "join": Trigger("join", "Joined {brand} {VIP}", subscribe_list="deals"),
    "nodeals": Trigger("nodeals", "Left deals", unsubscribe_list="deals"),
    "hours": Trigger("hours", "Open 9-5"),
}
ACCOUNT_KEYWORDS = frozenset(LIST_KEYWORDS) | frozenset(TRIGGERS)
LISTS = ("marketing", "deals", "notices")
MAYBE = Classification(Intent.POSSIBLE_OPT_OUT, reason="may mean stop")
CONSENT_EVENTS = {EventType.OPTED_OUT, EventType.OPTED_IN}


# -- reference model ------------------------------------------------------------------------


@dataclass
class Model:
    """Who may be texted from which number, in the plainest possible terms."""

    policy: Policy
    opted_in: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(NUMBERS, True))
    blocked: bool = False
    lists: dict[str, bool] = field(default_factory=dict)

    def targets(self, sender: str | None, everywhere: bool) -> tuple[str, ...]:
        if everywhere or sender is None or self.policy.scope is Scope.ACCOUNT:
            return NUMBERS
        return (sender,)

    def opt_out(self, sender: str | None, everywhere: bool) -> bool:
        """Opt out; True when this changed consent (a first, confirmable opt-out)."""
        targets = self.targets(sender, everywhere)
        changed = any(self.opted_in[n] for n in targets)
        for number in targets:
            self.opted_in[number] = False
        return changed

    def opt_in(self, sender: str | None) -> None:
        for number in self.targets(sender, self.policy.opt_in_all_senders):
            self.opted_in[number] = True

    def allowed(self, sender: str) -> Reason | None:
        if self.blocked:
            return Reason.BLOCKED
        return None if self.opted_in[sender] else Reason.OPTED_OUT

    def lifts_opt_out(self, sender: str | None) -> bool:
        """Would an opt-in for ``sender`` lift an opt-out (a resubscription)?"""
        targets = self.targets(sender, self.policy.opt_in_all_senders)
        return not all(self.opted_in[n] for n in targets)


# -- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    sender: int
    body: str


@dataclass(frozen=True)
class PossibleOptOut:
    sender: int


@dataclass(frozen=True)
class Manual:
    kind: str  # opt_out | opt_in | block | unblock | subscribe | unsubscribe | provider
    sender: int | None = None
    evidence: str | None = None
    list_name: str = "marketing"


Action = Inbound | PossibleOptOut | Manual


def spellings(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word.upper(), word.lower(), word.title(), f" {word}! ", f"{word}."])


def actions(policy: Policy) -> st.SearchStrategy[Action]:
    # One group per meaning, so that rare meanings (STOPALL) come up as often as STOP.
    groups: list[list[str]] = [sorted(ACCOUNT_KEYWORDS)]
    for keyword_set in policy.keywords.values():
        groups += [
            sorted(keyword_set.opt_out),
            sorted(keyword_set.opt_out_all),
            sorted(keyword_set.opt_in),
            sorted(keyword_set.help),
        ]
    keyword = st.sampled_from([group for group in groups if group]).flatmap(st.sampled_from)
    others = ["hello", "please cancel my order", "see you at 5", "stop please", "ok thanks"]
    body = st.one_of(keyword.flatmap(spellings), st.sampled_from(others))
    sender = st.integers(0, len(SENDERS) - 1)
    maybe_sender = st.none() | sender
    return st.one_of(
        st.builds(Inbound, sender, body),
        st.builds(Inbound, sender, body),
        st.builds(PossibleOptOut, sender),
        st.builds(
            Manual,
            st.sampled_from(["opt_out", "opt_in", "block", "unblock", "provider"]),
            maybe_sender,
            st.sampled_from([None, "", "Signed form, front desk, 2025-03-01"]),
        ),
        st.builds(
            Manual,
            st.sampled_from(["subscribe", "unsubscribe"]),
            st.none(),
            st.none(),
            st.sampled_from(LISTS),
        ),
    )


OVERRIDES = st.fixed_dictionaries(
    {
        "scope": st.sampled_from(["account", "sender"]),
        "opt_out_all_widens": st.booleans(),
        "opt_in_all_senders": st.booleans(),
        "implicit_opt_in": st.booleans(),
        "resubscribe": st.sampled_from(["never", "with_evidence"]),
        "one_confirmation_per_opt_out": st.booleans(),
        "clarify_possible_opt_out": st.booleans(),
        "toll_free_network_replies": st.booleans(),
    }
)


@st.composite
def scenarios(draw: st.DrawFn, name: str, overridden: bool) -> tuple[Policy, list[Action]]:
    policy = get_profile(name)
    if overridden:
        overrides: dict[str, Any] = draw(OVERRIDES)
        policy = with_overrides(policy, overrides)
    return policy, draw(st.lists(actions(policy), min_size=1, max_size=40))


# -- one step: apply to the state machine and to the model, compare ---------------------------


@dataclass
class Trace:
    # Opt-out confirmations and clarifications since the last consent change.
    clarifications: int = 0


def step(state: ContactState, model: Model, action: Action, trace: Trace) -> ContactState:
    policy = model.policy
    was_blocked = state.blocked
    lists_before = dict(state.lists)
    expected_lists = dict(model.lists)
    reply_expected: str | None = None
    outcome: Outcome

    if isinstance(action, Inbound):
        sender = SENDERS[action.sender]
        classification = classify(action.body, policy, ACCOUNT_KEYWORDS)
        outcome = inbound_text.receive(
            state, classification, sender, policy, TRIGGERS, LIST_KEYWORDS
        )
        replies = policy.replies_for(sender.kind, classification.language)
        intent = classification.intent
        keyword = (classification.keyword or "").lower()
        opted_out_here = not model.opted_in[sender.number]
        # A toll-free number's network answers its own keywords as the whole message,
        # and lets nothing through to a contact opted out there (carrier facts).
        network = sender.kind is SenderKind.TOLL_FREE and policy.toll_free_network_replies
        network_keyword = network and classification.whole_message
        if intent is Intent.OPT_OUT:
            everywhere = classification.all_senders and policy.opt_out_all_widens
            changed = model.opt_out(sender.number, everywhere)
            network_confirms = network_keyword and keyword in policy.toll_free_opt_out
            if (
                not model.blocked
                and (changed or not policy.one_confirmation_per_opt_out)
                and not network_confirms
            ):
                reply_expected = policy.render(replies.opt_out)
        elif model.blocked:
            pass
        elif intent is Intent.OPT_IN:
            toll_free_refused = (
                sender.kind is SenderKind.TOLL_FREE and keyword not in policy.toll_free_opt_in
            )
            if not toll_free_refused:
                model.opt_in(sender.number)
                if not network_keyword:
                    reply_expected = policy.render(replies.opt_in)
        elif intent is Intent.HELP:
            if not (network and opted_out_here):
                reply_expected = policy.render(replies.help)
        else:
            # Seed 001: any other text opts back in first (never on toll-free numbers),
            # but not one that may mean "stop", nor a list's opt-out keyword.
            if (
                opted_out_here
                and policy.implicit_opt_in
                and intent is not Intent.POSSIBLE_OPT_OUT
                and not (intent is Intent.TRIGGER and keyword in LIST_KEYWORDS)
                and sender.kind is not SenderKind.TOLL_FREE
            ):
                model.opt_in(sender.number)
                opted_out_here = False
            if intent is Intent.TRIGGER and keyword in LIST_KEYWORDS:
                model.lists[LIST_KEYWORDS[keyword]] = False
                if not opted_out_here:
                    reply_expected = policy.render(replies.list_opt_out, LIST_KEYWORDS[keyword])
            elif intent is Intent.TRIGGER and keyword in TRIGGERS:
                trigger = TRIGGERS[keyword]
                if trigger.unsubscribe_list:
                    model.lists[trigger.unsubscribe_list] = False
                if trigger.subscribe_list:
                    model.lists[trigger.subscribe_list] = True
                if not opted_out_here:
                    reply_expected = policy.render(trigger.reply)
        assert outcome.hidden is was_blocked
        if intent is not Intent.POSSIBLE_OPT_OUT:
            assert outcome.reply == reply_expected, (classification, outcome)
    elif isinstance(action, PossibleOptOut):
        sender = SENDERS[action.sender]
        outcome = inbound_text.receive(state, MAYBE, sender, policy)
        if outcome.reply is not None:
            trace.clarifications += 1
        assert trace.clarifications <= 1
        assert outcome.state.status_from(sender.number) is state.status_from(sender.number)
    else:
        number = None if action.sender is None else SENDERS[action.sender].number
        if action.kind == "opt_out":
            outcome = consent.opt_out(state, policy, sender=number)
            model.opt_out(number, number is None)
        elif action.kind == "opt_in":
            may = (
                not model.blocked
                and (
                    policy.resubscribe is Resubscribe.WITH_EVIDENCE
                    or not model.lifts_opt_out(number)
                )
                and bool(action.evidence and action.evidence.strip())
            )
            try:
                outcome = consent.opt_in(state, policy, action.evidence, sender=number)
            except Refused:
                assert not may
                outcome = Outcome(state)
            else:
                assert may
                model.opt_in(number)
        elif action.kind == "block":
            outcome = consent.block(state)
            model.blocked = True
            model.opt_out(None, True)
        elif action.kind == "unblock":
            outcome = consent.unblock(state)
            model.blocked = False
        elif action.kind == "provider":
            sender_number = SENDERS[action.sender or 0].number
            outcome = consent.provider_opt_out(state, policy, sender_number, "twilio", "21610")
            model.opt_out(sender_number, False)
        elif action.kind == "subscribe":
            outcome = consent.subscribe(state, action.list_name)
            model.lists[action.list_name] = True
        else:
            outcome = consent.unsubscribe(state, action.list_name)
            model.lists[action.list_name] = False
        assert outcome.reply is None

    new = outcome.state
    kinds = {event.type for event in outcome.events}

    # No reply is ever sent to a blocked contact.
    if was_blocked or new.blocked:
        assert outcome.reply is None
    # The state never changes without an event (``texted`` belongs to sending).
    if replace(new, texted=state.texted) != state:
        assert outcome.events, (action, state, new)
    assert all(event.phone == PHONE for event in outcome.events)
    # Clarifications: at most one between two consent changes.
    if kinds & CONSENT_EVENTS:
        trace.clarifications = 0
    # List memberships change only through list actions, and are never lost.
    if model.lists == expected_lists:
        assert new.lists == lists_before, (action, lists_before, new.lists)
    assert new.lists == model.lists, (action, lists_before, new.lists)
    # The state machine and the model agree on every sender, and blocked wins.
    assert new.blocked is model.blocked
    for number in NUMBERS:
        decision = decisions.decide(new, number, policy, "hello")
        assert decision.reason is model.allowed(number), (action, number, new, model)
        if model.blocked:
            assert new.status_from(number) is Status.BLOCKED
    for list_name in LISTS:
        decision = decisions.decide(new, NUMBERS[0], policy, "hi", list_name=list_name)
        if model.allowed(NUMBERS[0]) is None and model.lists.get(list_name) is False:
            assert decision.reason is Reason.LIST_UNSUBSCRIBED
    return new


@pytest.mark.parametrize("overridden", [False, True], ids=["as_shipped", "overridden"])
@pytest.mark.parametrize("name", sorted(PROFILES))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_random_action_sequences_agree_with_the_model(
    name: str, overridden: bool, data: st.DataObject
) -> None:
    policy, sequence = data.draw(scenarios(name, overridden))
    # Opted in, as the model starts (no_consent has tests of its own).
    state = ContactState(PHONE, account_status=Status.OPTED_IN)
    model = Model(policy)
    trace = Trace()
    for action in sequence:
        state = step(state, model, action, trace)


def texts_that_do_not_opt_in(policy: Policy) -> st.SearchStrategy[tuple[str, Sender]]:
    """A text that is neither an opt-in keyword nor a manual opt-in, with the sender it
    comes to: an opt-out keyword or "stop please" to any sender; a HELP keyword or a
    plain text to any sender too, except under implicit opt-in (seed 001: a new text
    opts the contact back in), where they come to the toll-free number, on which
    carriers lift an opt-out only on START or UNSTOP."""
    words = policy.keywords["en"]
    refusing = st.sampled_from([*sorted(words.opt_out), "stop please"])
    others = st.sampled_from([*sorted(words.help), "hello", "can you call me"])
    toll_free = [s for s in SENDERS if s.kind is SenderKind.TOLL_FREE]
    return st.one_of(
        st.tuples(refusing, st.sampled_from(SENDERS)),
        st.tuples(others, st.sampled_from(toll_free if policy.implicit_opt_in else SENDERS)),
    )


@pytest.mark.parametrize("name", sorted(PROFILES))
@settings(max_examples=50, deadline=None)
@given(data=st.data(), sender=st.sampled_from(SENDERS))
def test_after_an_opt_out_keyword_the_sender_refuses_until_an_opt_in_covers_it(
    name: str, data: st.DataObject, sender: Sender
) -> None:
    policy = get_profile(name)
    stop_word = data.draw(st.sampled_from(sorted(policy.keywords["en"].opt_out)))
    state = inbound_text.receive(
        ContactState(PHONE), classify(stop_word, policy), sender, policy
    ).state
    assert decisions.decide(state, sender.number, policy, "hi").reason is Reason.OPTED_OUT
    # Anything but an opt-in keyword or a manual opt-in: the sender stays refused.
    for body, via in data.draw(st.lists(texts_that_do_not_opt_in(policy), max_size=15)):
        state = inbound_text.receive(state, classify(body, policy), via, policy).state
        refusal = decisions.decide(state, sender.number, policy, "hi").reason
        assert refusal is Reason.OPTED_OUT, (body, via)
