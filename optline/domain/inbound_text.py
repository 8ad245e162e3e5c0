"""One inbound text applied to a contact's consent: the contact's own keywords.

Pure, as the state machine it builds on (:mod:`optline.domain.consent`): the text comes
classified (:mod:`optline.domain.classify`), and the outcome says the new state, its
events and the reply. Opt-out, opt-in and help keywords, a possible opt-out, the
account's triggers and list keywords, and the implicit opt-in of seed 001 are here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from optline.domain.carriers import help_trigger, network_answers, network_blocks_replies
from optline.domain.classify import Classification
from optline.domain.consent import (
    ContactState,
    Event,
    Outcome,
    Sender,
    Trigger,
    list_change,
    new_event,
    scoped_opt_in,
    scoped_opt_out,
)
from optline.domain.consent_codes import EventType, Method, Source, Status
from optline.domain.policy import Intent, Policy, SenderKind

_NONE: Mapping[str, Any] = MappingProxyType({})


def _keyword_method(keyword: str | None) -> Method:
    """An inbound opt-out or opt-in: by a keyword, or read in plain language."""
    return Method.KEYWORD if keyword else Method.PLAIN_LANGUAGE


def receive(
    state: ContactState,
    classification: Classification,
    sender: Sender,
    policy: Policy,
    triggers: Mapping[str, Trigger] = _NONE,
    list_keywords: Mapping[str, str] = _NONE,
) -> Outcome:
    """Apply one inbound text, already classified under ``policy``.

    ``triggers`` and ``list_keywords`` (keyword form -> list name) are the account's own
    keywords; the classifier reports them as ``Intent.TRIGGER``.
    """
    intent = classification.intent
    number = sender.number
    replies = policy.replies_for(sender.kind, classification.language)
    keyword = classification.keyword
    method = _keyword_method(keyword)
    # A contact's own opt-out or opt-in says in which language it was read (the
    # dashboard counts them by language).
    read_as = {"keyword": keyword, "language": classification.language}

    # STOPALL ends every sender's consent only where the policy says it widens.
    all_senders = classification.all_senders and policy.opt_out_all_widens

    if state.blocked:
        # Blocked contacts get no texts either way; their texts are kept hidden, but a
        # revocation is still recorded (it must survive a later unblock).
        if intent is Intent.OPT_OUT:
            new, event, _ = scoped_opt_out(
                state, number, policy, Source.KEYWORD, all_senders, method, **read_as
            )
            return Outcome(new, (event,), None, hidden=True)
        if intent is Intent.OPT_IN:
            refused = new_event(
                EventType.OPT_IN_REFUSED,
                state,
                Source.KEYWORD,
                number,
                keyword=keyword,
                reason="blocked",
            )
            return Outcome(state, (refused,), None, hidden=True)
        return Outcome(state, (), None, hidden=True)

    if intent is Intent.OPT_OUT:
        new, event, already = scoped_opt_out(
            state, number, policy, Source.KEYWORD, all_senders, method, **read_as
        )
        # One confirmation (CTIA 5.1.3), none where the toll-free network sends its own.
        confirm = not (already and policy.one_confirmation_per_opt_out) and not network_answers(
            classification, sender.kind, policy
        )
        return Outcome(new, (event,), policy.render(replies.opt_out) if confirm else None)

    if intent is Intent.HELP:
        # CTIA: HELP is answered whatever the consent status, except where the toll-free
        # network lets no text through to an opted-out contact; an account trigger on the
        # help keyword is the account's help reply (seed 001's HELP trigger).
        opted_out_here = state.status_from(number) is Status.OPTED_OUT
        if network_blocks_replies(sender.kind, policy, opted_out_here):
            return Outcome(state)
        trigger = help_trigger(keyword, triggers)
        event = new_event(
            EventType.HELP_ANSWERED,
            state,
            Source.KEYWORD,
            number,
            keyword=keyword,
            trigger=None if trigger is None else trigger.keyword.upper(),
        )
        help_text = replies.help if trigger is None else trigger.reply
        return Outcome(state, (event,), policy.render(help_text))

    if intent is Intent.OPT_IN:
        if sender.kind is SenderKind.TOLL_FREE and (
            keyword is None or keyword.lower() not in policy.toll_free_opt_in
        ):
            # Toll-free carriers only lift an opt-out on START or UNSTOP: not YES, and
            # not a phrase such as "opt me back in".
            if state.status_from(number) is Status.OPTED_IN:
                return Outcome(state)
            refused = new_event(
                EventType.OPT_IN_REFUSED,
                state,
                Source.KEYWORD,
                number,
                keyword=keyword,
                reason="toll_free_keyword",
            )
            return Outcome(state, (refused,), None)
        new, event = scoped_opt_in(state, number, policy, Source.KEYWORD, method, **read_as)
        if network_answers(classification, sender.kind, policy):
            return Outcome(new, (event,))  # the toll-free network confirms START itself
        return Outcome(new, (event,), policy.render(replies.opt_in))

    opted_out = state.status_from(number) is Status.OPTED_OUT

    if intent is Intent.POSSIBLE_OPT_OUT and not opted_out:
        # Recorded for review; answered at most once until consent next changes.
        flagged = new_event(
            EventType.REVOCATION_FLAGGED,
            state,
            Source.KEYWORD,
            number,
            reason=classification.reason,
        )
        if policy.clarify_possible_opt_out and not state.clarified:
            return Outcome(
                replace(state, clarified=True), (flagged,), policy.render(replies.clarify)
            )
        return Outcome(state, (flagged,))

    list_opt_out = (
        intent is Intent.TRIGGER and keyword is not None and keyword.lower() in list_keywords
    )
    implicit: tuple[Event, ...] = ()
    if (
        opted_out
        and policy.implicit_opt_in
        and intent is not Intent.POSSIBLE_OPT_OUT
        and not list_opt_out
        and sender.kind is not SenderKind.TOLL_FREE
    ):
        # Seed 001: a new message from an opted-out contact opts them back in, but not
        # one that may itself mean "stop texting me" (nor a list's opt-out keyword), and
        # not on a toll-free number, where carriers lift an opt-out only on START or
        # UNSTOP.
        state, event = scoped_opt_in(state, number, policy, Source.IMPLICIT, Method.CONVERSATION)
        implicit, opted_out = (event,), False

    if intent is Intent.TRIGGER and keyword is not None:
        form = keyword.lower()
        if list_opt_out:
            list_name = list_keywords[form]
            new, event = list_change(state, list_name, False, Source.KEYWORD, number)
            reply = None if opted_out else policy.render(replies.list_opt_out, list_name)
            return Outcome(new, (*implicit, event), reply)
        trigger = triggers.get(form)
        if trigger is not None:
            fired = _fire_trigger(state, trigger, number, opted_out, policy)
            return replace(fired, events=(*implicit, *fired.events))
    return Outcome(state, implicit)


def _fire_trigger(
    state: ContactState, trigger: Trigger, sender: str, opted_out: bool, policy: Policy
) -> Outcome:
    events = [
        new_event(EventType.TRIGGER_FIRED, state, Source.KEYWORD, sender, keyword=trigger.keyword)
    ]
    new = state
    if trigger.unsubscribe_list:
        new, event = list_change(new, trigger.unsubscribe_list, False, Source.KEYWORD, sender)
        events.append(event)
    if trigger.subscribe_list:
        new, event = list_change(new, trigger.subscribe_list, True, Source.KEYWORD, sender)
        events.append(event)
    # An opted-out contact gets no automatic reply other than HELP and the confirmation.
    reply = None if opted_out else policy.render(trigger.reply)
    return Outcome(new, tuple(events), reply)
