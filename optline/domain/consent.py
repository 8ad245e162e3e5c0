"""The consent state machine: a contact's state, and the rules every change follows.

A contact's state is a small immutable value. Every change is a function
``(state, ...) -> Outcome`` whose events go to the ledger in the same transaction as the
new state. Here: the state and outcome values, the scope rules (which consent an
opt-out or opt-in changes) and the changes the business and the provider make. An
inbound text's changes are in :mod:`optline.domain.inbound_text`; the codes the events
carry in :mod:`optline.domain.consent_codes`; the changes made to many contacts at once
(a policy's scope widened, a contacts import) in :mod:`optline.domain.bulk`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from optline.domain.consent_codes import EventType, Method, ProviderScope, Source, Status
from optline.domain.policy import Policy, Resubscribe, Scope, SenderKind


class Refused(ValueError):
    """A manual change that the policy does not allow; nothing is changed."""


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
    # Purposes with prior express written consent on record, not since revoked
    # (optline.domain.written_consent).
    written: frozenset[str] = frozenset()
    # Purpose -> a consent of that purpose's own, account-wide (optline.domain.purposes):
    # it decides the texts of that purpose over the scope's status, except a sender's
    # own opt-out. A change with no purpose for the whole account drops them all.
    purposes: Mapping[str, Status] = field(default_factory=lambda: _EMPTY)
    # 64.1200(a)(12): a revocation that ended several purposes asked which were meant;
    # until ``choice_until`` the contact may name them, and ``choice_purposes`` (the
    # purposes it ended) not named are given back.
    choice_until: datetime | None = None
    choice_purposes: tuple[str, ...] = ()

    def status_from(self, sender: str | None, purpose: str | None = None) -> Status:
        """The contact's status as seen from ``sender`` (None: the account), for a text
        of ``purpose`` (None: the scope's own status, whatever the purposes say)."""
        if self.blocked:
            return Status.BLOCKED
        own = None if sender is None else self.sender_status.get(sender)
        if purpose is not None and own is not Status.OPTED_OUT and self.purposes:
            marked = self.purposes.get(purpose)
            if marked is not None:
                return marked
        return self.account_status if own is None else own


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
    # A join keyword that asks for confirmation first (double opt-in): the purpose
    # its written consent is for (optline.domain.written_consent); None: no asking.
    confirm_purpose: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    state: ContactState
    events: tuple[Event, ...] = ()
    reply: str | None = None
    # The inbound text is kept but hidden from the inbox (blocked contacts).
    hidden: bool = False
    # Consent language its events refer to by SHA-256, for the store to keep.
    consent_texts: tuple[str, ...] = ()


# -- the scope rules: one opt-out, one opt-in, one list change -------------------------


def _set_status(
    state: ContactState, status: Status, sender: str | None, policy: Policy, everywhere: bool
) -> ContactState:
    """Set consent in the policy's scope; ``everywhere`` clears per-sender overrides."""
    if policy.scope is Scope.SENDER and sender is not None and not everywhere:
        return replace(
            state, sender_status={**state.sender_status, sender: status}, clarified=False
        )
    # An opt-out for the whole account revokes the written consent on record too.
    written = frozenset() if status is Status.OPTED_OUT else state.written
    return replace(
        state,
        account_status=status,
        sender_status=_EMPTY,
        clarified=False,
        written=written,
        purposes=_EMPTY,
        choice_until=None,
        choice_purposes=(),
    )


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


def scoped_opt_out(
    state: ContactState,
    sender: str | None,
    policy: Policy,
    source: Source,
    everywhere: bool,
    method: Method,
    **data: Any,
) -> tuple[ContactState, Event, bool]:
    """Opt out in the policy's scope (``everywhere``: the whole account); returns the
    new state, its event, and whether it was already opted out."""
    if everywhere or sender is None or policy.scope is Scope.ACCOUNT:
        already = state.account_status is Status.OPTED_OUT and all(
            s is Status.OPTED_OUT for s in (*state.sender_status.values(), *state.purposes.values())
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


def scoped_opt_in(
    state: ContactState,
    sender: str | None,
    policy: Policy,
    source: Source,
    method: Method,
    **data: Any,
) -> tuple[ContactState, Event]:
    """Opt in in the policy's scope (every sender where ``opt_in_all_senders``)."""
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


def opted_in(
    state: ContactState, policy: Policy, source: Source, method: Method, **data: Any
) -> tuple[ContactState, Event]:
    """An opt-in for the whole account that the contact made (a double opt-in's YES):
    no resubscription check, the contact lifts their own opt-out."""
    return scoped_opt_in(state, None, policy, source, method, **data)


def list_change(
    state: ContactState, list_name: str, subscribed: bool, source: Source, sender: str | None
) -> tuple[ContactState, Event]:
    """Subscribe the contact to ``list_name`` or unsubscribe them; consent is untouched."""
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
    new, event, _ = scoped_opt_out(
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
    new, event = scoped_opt_in(state, sender, policy, source, method, evidence=evidence.strip())
    return Outcome(new, (event,))


def _lifts_opt_out(state: ContactState, sender: str | None, policy: Policy) -> bool:
    """Would an opt-in from ``sender`` (None: the account) lift an opt-out?"""
    if sender is None or policy.opt_in_all_senders or policy.scope is Scope.ACCOUNT:
        opted_out = (state.account_status, *state.sender_status.values())
        return Status.OPTED_OUT in (*opted_out, *state.purposes.values())
    return state.status_from(sender) is Status.OPTED_OUT


def block(state: ContactState, note: str | None = None, source: Source = Source.MANUAL) -> Outcome:
    """Block: no texts either way; implies opted out everywhere."""
    new = replace(
        state,
        blocked=True,
        account_status=Status.OPTED_OUT,
        sender_status=_EMPTY,
        written=frozenset(),
        purposes=_EMPTY,
        choice_until=None,
        choice_purposes=(),
    )
    return Outcome(new, (new_event(EventType.BLOCKED, new, source, None, note=note),))


def unblock(state: ContactState, note: str | None = None) -> Outcome:
    """Unblock; the contact stays opted out (seed 001: unblocking does not opt in)."""
    new = replace(state, blocked=False)
    return Outcome(new, (new_event(EventType.UNBLOCKED, new, Source.MANUAL, None, note=note),))


def subscribe(state: ContactState, list_name: str, source: Source = Source.MANUAL) -> Outcome:
    new, event = list_change(state, list_name, True, source, None)
    return Outcome(new, (event,))


def unsubscribe(state: ContactState, list_name: str, source: Source = Source.MANUAL) -> Outcome:
    new, event = list_change(state, list_name, False, source, None)
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
    new, event, _ = scoped_opt_out(
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


def end_consent(
    state: ContactState,
    policy: Policy,
    source: Source,
    method: Method,
    sender: str | None = None,
    **data: Any,
) -> Outcome:
    """End the consent on record because it was never this number holder's: a wrong
    number, a reassigned number. Every scope is opted out and every list left (they
    were the earlier holder's, so a later opt-in must not bring them back)."""
    new, event, _ = scoped_opt_out(state, sender, policy, source, True, method, **data)
    events = [event]
    for list_name in sorted(name for name, on in state.lists.items() if on):
        new, left = list_change(new, list_name, False, source, sender)
        events.append(left)
    return Outcome(new, tuple(events))
