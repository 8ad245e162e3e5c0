"""The consent state machine. Pure: state in, new state + events + reply out.

A contact's state is a small immutable value. Every change (an inbound text, a manual
action, a provider's opted-out report) is a function ``(state, ...) -> Outcome`` whose
events go to the ledger in the same transaction as the new state. The changes made
to many contacts at once (a policy's scope widened, a contacts import) are in
:mod:`optline.domain.bulk`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from optline.domain.carriers import help_trigger, network_answers, network_blocks_replies
from optline.domain.classify import Classification
from optline.domain.policy import Intent, Policy, Resubscribe, Scope, SenderKind


class Status(StrEnum):
    # Nothing on record for this scope: a number never seen, or one only ever texted.
    NO_CONSENT = "no_consent"
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    BLOCKED = "blocked"  # only ever an effective status: blocked is a flag on the contact


class EventType(StrEnum):
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    OPT_IN_REFUSED = "opt_in_refused"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    HELP_ANSWERED = "help_answered"
    LIST_SUBSCRIBED = "list_subscribed"
    LIST_UNSUBSCRIBED = "list_unsubscribed"
    TRIGGER_FIRED = "trigger_fired"
    REVOCATION_FLAGGED = "revocation_flagged"
    FLAG_DISMISSED = "flag_dismissed"  # a flagged reply reviewed: not a revocation
    SEND_REFUSED = "send_refused"
    SEND_SETTLED = "send_settled"  # a send's unknown outcome settled after the fact
    MESSAGE_REDACTED = "message_redacted"  # a text's body erased (its hash stays)


class Source(StrEnum):
    """Who or what caused a change, recorded on every event."""

    KEYWORD = "keyword"  # the contact texted a keyword
    IMPLICIT = "implicit"  # any inbound text, under implicit_opt_in (seed 001)
    MANUAL = "manual"  # the business, by API, CLI or UI
    PROVIDER = "provider"  # the SMS provider reported the number opted out
    IMPORT = "import"  # a contacts import
    POLICY = "policy"  # a change of the account's policy


class Method(StrEnum):
    """How a scope's consent came to be what it is, on every opted_in / opted_out event
    (``method``) and on the projection (see :mod:`optline.domain.projection`)."""

    KEYWORD = "keyword"  # STOP, START, ARRET...: a keyword of the policy
    PLAIN_LANGUAGE = "plain_language"  # "please stop texting me" (64.1200(a)(10))
    CONVERSATION = "conversation"  # a text from the contact opted them back in (seed 001)
    WEB_FORM = "web_form"  # opted in by the business with a web form's evidence
    MANUAL = "manual"  # by the business (API, CLI, UI); an opt-in with evidence
    IMPORT = "import"  # a contacts import (an opt-in with evidence)
    PROVIDER = "provider"  # the provider reported the number opted out (21610...)
    SCOPE_WIDENED = "scope_widened"  # the policy's scope widened (``widen_scope``)


#: The method of an event that names none (written before methods were recorded):
#: its source says it, but for a keyword event, whose keyword then says which.
SOURCE_METHODS: Mapping[str, Method] = MappingProxyType(
    {
        Source.KEYWORD: Method.KEYWORD,
        Source.IMPLICIT: Method.CONVERSATION,
        Source.MANUAL: Method.MANUAL,
        Source.PROVIDER: Method.PROVIDER,
        Source.IMPORT: Method.IMPORT,
        Source.POLICY: Method.SCOPE_WIDENED,
    }
)

#: The methods a business may name for an opt-in it makes by hand (with evidence).
MANUAL_OPT_IN_METHODS = frozenset({Method.MANUAL, Method.WEB_FORM})


class ChangeReason(StrEnum):
    """Why a change no one asked for on this contact was made (on its event)."""

    # The policy's scope widened (per sender -> account): an opt-out from one sender
    # now covers the account (see :func:`widen_scope`).
    SCOPE_WIDENED = "scope_widened"


class ProviderScope(StrEnum):
    """What a provider's own opt-out covers, where it is wider than the one number the
    contact texted STOP to (Twilio's, outside a Messaging Service) or a send was
    refused from."""

    # Telnyx keeps opt-outs per messaging profile: a STOP to one of its numbers blocks
    # the contact on every number of that profile.
    MESSAGING_PROFILE = "messaging_profile"


class Refused(ValueError):
    """A manual change that the policy does not allow; nothing is changed."""


class Reason(StrEnum):
    """Stable reason codes for refused outbound texts."""

    BLOCKED = "blocked"
    OPTED_OUT = "opted_out"
    LIST_UNSUBSCRIBED = "list_unsubscribed"
    MISSING_OPT_OUT_LANGUAGE = "missing_opt_out_language"
    # No consent on record, where the policy's ``no_consent`` does not allow the text.
    NO_CONSENT = "no_consent"
    # A reply that may revoke consent waits for review (``hold_campaigns_on_review``).
    REVOCATION_PENDING_REVIEW = "revocation_pending_review"
    # Send windows and caps (optline.domain.windows): held until ``next_allowed_at``.
    OUTSIDE_SEND_WINDOW = "outside_send_window"
    FREQUENCY_CAP = "frequency_cap"


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ContactState:
    """Everything consent-related about one phone number within one account."""

    phone: str
    blocked: bool = False
    # Consent for the whole account; under SENDER scope the fallback for senders
    # that have no status of their own. Never opted in by default: nothing on record.
    account_status: Status = Status.NO_CONSENT
    # SENDER scope only: sender number -> status overriding ``account_status``.
    sender_status: Mapping[str, Status] = field(default_factory=lambda: _EMPTY)
    # List name -> subscribed. A global opt-out leaves these untouched so that a
    # later opt-in restores them (RapidPro loses them; we do not).
    lists: Mapping[str, bool] = field(default_factory=lambda: _EMPTY)
    # Has the contact ever been sent a text (first-text disclosure, seed 004)?
    texted: bool = False
    # A clarification was sent for a possible opt-out since the last consent change;
    # a second ambiguous reply is flagged again but not answered again.
    clarified: bool = False
    # Has the contact ever texted the account (the 1:1 texts that a contact with no
    # consent on record may get, where the policy's ``no_consent`` allows them)?
    inbound: bool = False

    def status_from(self, sender: str | None) -> Status:
        """The contact's status as seen from ``sender`` (None: the account)."""
        if self.blocked:
            return Status.BLOCKED
        if sender is not None:
            return self.sender_status.get(sender, self.account_status)
        return self.account_status


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    phone: str
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Sender:
    number: str
    kind: SenderKind = SenderKind.LONG_CODE


@dataclass(frozen=True, slots=True)
class Trigger:
    """An account keyword with an automatic reply and an optional list action."""

    keyword: str  # keyword form
    reply: str
    unsubscribe_list: str | None = None
    subscribe_list: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    state: ContactState
    events: tuple[Event, ...] = ()
    reply: str | None = None
    # The inbound text is kept but hidden from the inbox (blocked contacts).
    hidden: bool = False


# -- helpers -------------------------------------------------------------------------


def _set_status(
    state: ContactState, status: Status, sender: str | None, policy: Policy, everywhere: bool
) -> ContactState:
    """Set consent in the policy's scope; ``everywhere`` clears per-sender overrides."""
    if policy.scope is Scope.SENDER and sender is not None and not everywhere:
        return replace(
            state, sender_status={**state.sender_status, sender: status}, clarified=False
        )
    return replace(state, account_status=status, sender_status=_EMPTY, clarified=False)


def _scope_label(policy: Policy, sender: str | None, everywhere: bool) -> str:
    if policy.scope is Scope.SENDER and sender is not None and not everywhere:
        return "sender"
    return "account"


def new_event(
    kind: EventType, state: ContactState, source: Source, sender: str | None, **data: Any
) -> Event:
    """An event on ``state``'s contact: who caused it, the sender, and its data (None
    values left out)."""
    payload: dict[str, Any] = {"source": source.value}
    if sender is not None:
        payload["sender"] = sender
    payload.update({k: v for k, v in data.items() if v is not None})
    return Event(kind, state.phone, MappingProxyType(payload))


def _opt_out(
    state: ContactState,
    sender: str | None,
    policy: Policy,
    source: Source,
    everywhere: bool,
    method: Method,
    **data: Any,
) -> tuple[ContactState, Event, bool]:
    """Opt out; returns the new state, its event, and whether it was already opted out."""
    if everywhere or sender is None or policy.scope is Scope.ACCOUNT:
        already = state.account_status is Status.OPTED_OUT and all(
            s is Status.OPTED_OUT for s in state.sender_status.values()
        )
    else:
        already = state.status_from(sender) in (Status.OPTED_OUT, Status.BLOCKED)
    new = _set_status(state, Status.OPTED_OUT, sender, policy, everywhere)
    event = new_event(
        EventType.OPTED_OUT,
        new,
        source,
        sender,
        scope=_scope_label(policy, sender, everywhere),
        method=method.value,
        repeat=True if already else None,
        **data,
    )
    return new, event, already


def _opt_in(
    state: ContactState,
    sender: str | None,
    policy: Policy,
    source: Source,
    method: Method,
    **data: Any,
) -> tuple[ContactState, Event]:
    everywhere = policy.opt_in_all_senders
    new = _set_status(state, Status.OPTED_IN, sender, policy, everywhere)
    event = new_event(
        EventType.OPTED_IN,
        new,
        source,
        sender,
        scope=_scope_label(policy, sender, everywhere),
        method=method.value,
        **data,
    )
    return new, event


def _keyword_method(keyword: str | None) -> Method:
    """An inbound opt-out or opt-in: by a keyword, or read in plain language."""
    return Method.KEYWORD if keyword else Method.PLAIN_LANGUAGE


# -- inbound ---------------------------------------------------------------------------


def receive(
    state: ContactState,
    classification: Classification,
    sender: Sender,
    policy: Policy,
    triggers: Mapping[str, Trigger] = _EMPTY,
    list_keywords: Mapping[str, str] = _EMPTY,
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

    # STOPALL ends every sender's consent only where the policy says it widens.
    all_senders = classification.all_senders and policy.opt_out_all_widens

    if state.blocked:
        # Blocked contacts get no texts either way; their texts are kept hidden, but a
        # revocation is still recorded (it must survive a later unblock).
        if intent is Intent.OPT_OUT:
            new, event, _ = _opt_out(
                state, number, policy, Source.KEYWORD, all_senders, method, keyword=keyword
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
        new, event, already = _opt_out(
            state, number, policy, Source.KEYWORD, all_senders, method, keyword=keyword
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
        new, event = _opt_in(state, number, policy, Source.KEYWORD, method, keyword=keyword)
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
        state, event = _opt_in(state, number, policy, Source.IMPLICIT, Method.CONVERSATION)
        implicit, opted_out = (event,), False

    if intent is Intent.TRIGGER and keyword is not None:
        form = keyword.lower()
        if list_opt_out:
            list_name = list_keywords[form]
            new, event = _list_change(state, list_name, False, Source.KEYWORD, number)
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
        new, event = _list_change(new, trigger.unsubscribe_list, False, Source.KEYWORD, sender)
        events.append(event)
    if trigger.subscribe_list:
        new, event = _list_change(new, trigger.subscribe_list, True, Source.KEYWORD, sender)
        events.append(event)
    # An opted-out contact gets no automatic reply other than HELP and the confirmation.
    reply = None if opted_out else policy.render(trigger.reply)
    return Outcome(new, tuple(events), reply)


def _list_change(
    state: ContactState, list_name: str, subscribed: bool, source: Source, sender: str | None
) -> tuple[ContactState, Event]:
    new = replace(state, lists={**state.lists, list_name: subscribed})
    kind = EventType.LIST_SUBSCRIBED if subscribed else EventType.LIST_UNSUBSCRIBED
    return new, new_event(kind, new, source, sender, list=list_name)


# -- manual and provider changes -------------------------------------------------------


def opt_out(
    state: ContactState,
    policy: Policy,
    sender: str | None = None,
    note: str | None = None,
    flag: int | None = None,
) -> Outcome:
    """The business opts the contact out (everywhere when no sender is given); ``flag``:
    the seq of the flagged reply this opt-out resolves, named on its event."""
    new, event, _ = _opt_out(
        state, sender, policy, Source.MANUAL, sender is None, Method.MANUAL, note=note, flag=flag
    )
    return Outcome(new, (event,))


def opt_in(
    state: ContactState,
    policy: Policy,
    evidence: str | None,
    sender: str | None = None,
    method: Method = Method.MANUAL,
    source: Source = Source.MANUAL,
) -> Outcome:
    """The business opts the contact in, with the evidence of the consent it was given
    (``method``: by hand, a web form, an import); refused unless the policy allows it.
    A contact with no consent on record may always be opted in with evidence: only
    lifting an opt-out is a resubscription."""
    if state.blocked:
        raise Refused("contact is blocked: unblock before opting in")
    if policy.resubscribe is Resubscribe.NEVER and _lifts_opt_out(state, sender, policy):
        raise Refused(
            f"profile {policy.name!r} lets only the contact opt back in, by texting an "
            "opt-in keyword"
        )
    if not (evidence and evidence.strip()):
        raise Refused("opting a contact in needs evidence: who gave consent, when and how")
    new, event = _opt_in(state, sender, policy, source, method, evidence=evidence.strip())
    return Outcome(new, (event,))


def _lifts_opt_out(state: ContactState, sender: str | None, policy: Policy) -> bool:
    """Would an opt-in from ``sender`` (None: the account) lift an opt-out?"""
    if sender is None or policy.opt_in_all_senders or policy.scope is Scope.ACCOUNT:
        opted_out = (state.account_status, *state.sender_status.values())
        return Status.OPTED_OUT in opted_out
    return state.status_from(sender) is Status.OPTED_OUT


def block(state: ContactState, note: str | None = None, source: Source = Source.MANUAL) -> Outcome:
    """Block: no texts either way; implies opted out everywhere."""
    new = replace(state, blocked=True, account_status=Status.OPTED_OUT, sender_status=_EMPTY)
    return Outcome(new, (new_event(EventType.BLOCKED, new, source, None, note=note),))


def unblock(state: ContactState, note: str | None = None) -> Outcome:
    """Unblock; the contact stays opted out (seed 001: unblocking does not opt in)."""
    new = replace(state, blocked=False)
    return Outcome(new, (new_event(EventType.UNBLOCKED, new, Source.MANUAL, None, note=note),))


def subscribe(state: ContactState, list_name: str, source: Source = Source.MANUAL) -> Outcome:
    new, event = _list_change(state, list_name, True, source, None)
    return Outcome(new, (event,))


def unsubscribe(state: ContactState, list_name: str, source: Source = Source.MANUAL) -> Outcome:
    new, event = _list_change(state, list_name, False, source, None)
    return Outcome(new, (event,))


def provider_opt_out(
    state: ContactState,
    policy: Policy,
    sender: str,
    provider: str,
    code: str,
    provider_scope: ProviderScope | None = None,
    provider_scope_id: str | None = None,
) -> Outcome:
    """The provider refused a send because the number opted out there (21610, 40300, ...).

    The change follows the account's scope, as any opt-out does: under SENDER scope
    only that sender is affected, under ACCOUNT scope the whole account. Where the
    provider's own opt-out covers more than the sending number (``provider_scope``:
    Telnyx's messaging profile, ``provider_scope_id`` its id where known), the event
    says so: under SENDER scope the provider then refuses numbers that optline still
    counts as opted in (see :func:`provider_blocks`).
    """
    new, event, _ = _opt_out(
        state,
        sender,
        policy,
        Source.PROVIDER,
        False,
        Method.PROVIDER,
        provider=provider,
        code=code,
        provider_scope=None if provider_scope is None else provider_scope.value,
        provider_scope_id=provider_scope_id if provider_scope is not None else None,
    )
    return Outcome(new, (event,))
