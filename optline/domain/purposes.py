"""Purposes: the categories of texts a consent covers (``marketing``, ``informational``
and the account's own, such as ``appointment_reminders``). Pure, as the consent state
machine it extends (:mod:`optline.domain.consent`).

Belongs here: what a purpose name may be, which purpose a send is of, a consent or an
opt-out of one purpose (its state and event), and an inbound revocation where
``revoke_all`` is off: it ends the purpose of the text answered, or, where the contact
held consent for several purposes, every one of them with one confirmation that asks
which were meant, and the contact's answer (47 CFR 64.1200(a)(12): no answer means all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from optline.domain import inbound_text
from optline.domain.carriers import network_answers
from optline.domain.classify import Classification
from optline.domain.consent import ContactState, Event, Outcome, Refused, Sender, Trigger, new_event
from optline.domain.consent_codes import EventType, Method, Source, Status
from optline.domain.policy import Intent, Policy, Resubscribe, Scope
from optline.domain.text import words

MARKETING = "marketing"
INFORMATIONAL = "informational"
#: Every account's purposes; an account may add its own.
DEFAULT_PURPOSES: tuple[str, ...] = (MARKETING, INFORMATIONAL)
#: The answer that keeps a revocation on every purpose; no purpose may take the name.
ALL = "all"

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def check_name(name: str) -> str:
    """A purpose name an account may add: lower-case letters, digits and underscores,
    from a letter, at most 40; ValueError otherwise."""
    if not _NAME.fullmatch(name) or name == ALL:
        raise ValueError(
            f"a purpose name is 1 to 40 lower-case letters, digits or underscores, from a "
            f"letter, and not {ALL!r}: {name[:40]!r}"
        )
    return name


def of_send(purpose: str | None, campaign: bool, list_purpose: str | None = None) -> str:
    """The purpose a send is of: the one it names, else its list's, else ``marketing``
    for a campaign text and ``informational`` for any other (so an account that never
    names purposes decides every text as before)."""
    if purpose is not None:
        return purpose
    if list_purpose is not None:
        return list_purpose
    return MARKETING if campaign else INFORMATIONAL


def consented(state: ContactState, sender: str | None, purposes: Iterable[str]) -> tuple[str, ...]:
    """The ``purposes`` the contact is opted in to, as seen from ``sender``."""
    return tuple(p for p in purposes if state.status_from(sender, p) is Status.OPTED_IN)


def set_purpose(
    state: ContactState,
    purpose: str,
    status: Status,
    source: Source,
    sender: str | None,
    method: Method,
    **data: Any,
) -> tuple[ContactState, Event]:
    """``state`` with a consent of ``purpose``'s own, and its event (``purpose`` on it:
    the projection's key, see :mod:`optline.domain.projection`)."""
    new = replace(state, purposes=MappingProxyType({**state.purposes, purpose: status}))
    new = replace(new, clarified=False)
    kind = EventType.OPTED_IN if status is Status.OPTED_IN else EventType.OPTED_OUT
    event = new_event(
        kind, new, source, sender, scope="account", purpose=purpose, method=method.value, **data
    )
    return new, event


# -- manual changes ---------------------------------------------------------------------


def opt_out(
    state: ContactState, purpose: str, note: str | None = None, flag: int | None = None
) -> Outcome:
    """The business opts the contact out of ``purpose`` alone, from every sender."""
    already = state.status_from(None, purpose) is Status.OPTED_OUT
    new, event = set_purpose(
        state,
        purpose,
        Status.OPTED_OUT,
        Source.MANUAL,
        None,
        Method.MANUAL,
        note=note,
        flag=flag,
        repeat=True if already else None,
    )
    return Outcome(new, (event,))


def opt_in(
    state: ContactState,
    policy: Policy,
    purpose: str,
    evidence: str | None,
    method: Method = Method.MANUAL,
) -> Outcome:
    """The business opts the contact in to ``purpose`` alone, with evidence, under the
    rules of :func:`optline.domain.consent.opt_in`."""
    if state.blocked:
        raise Refused("contact is blocked: unblock before opting in")
    if (
        policy.resubscribe is Resubscribe.NEVER
        and state.status_from(None, purpose) is Status.OPTED_OUT
    ):
        raise Refused(
            f"profile {policy.name!r} lets only the contact opt back in, by texting an "
            "opt-in keyword"
        )
    if not (evidence and evidence.strip()):
        raise Refused("opting a contact in needs evidence: who gave consent, when and how")
    new, event = set_purpose(
        state, purpose, Status.OPTED_IN, Source.MANUAL, None, method, evidence=evidence.strip()
    )
    return Outcome(new, (event,))


# -- inbound ----------------------------------------------------------------------------


def receive(
    state: ContactState,
    classification: Classification,
    body: str,
    sender: Sender,
    policy: Policy,
    *,
    now: datetime,
    answered: str,
    purposes: tuple[str, ...],
    triggers: Mapping[str, Trigger] = _EMPTY,
    list_keywords: Mapping[str, str] = _EMPTY,
) -> Outcome:
    """:func:`optline.domain.inbound_text.receive` with the account's ``purposes``: an
    answer to an open question of which purposes to stop, and a revocation under
    ``revoke_all`` off (``answered``: the purpose of the text it answers). Everything
    else, and every revocation where ``revoke_all`` is on, is the state machine's."""
    if state.choice_until is not None and now <= state.choice_until and not state.blocked:
        chosen = choice_of(body, state.choice_purposes)
        if chosen is not None:
            return _answer(state, chosen, sender.number)
    if (
        classification.intent is Intent.OPT_OUT
        and not state.blocked
        and not classification.all_senders
        # Under sender scope a revocation ends every purpose from that sender (the
        # vendors' behaviour: they know no purposes).
        and policy.scope is Scope.ACCOUNT
        and not policy.revoke_all.covers_all(now)
    ):
        return _revoke(state, classification, sender, policy, now, answered, purposes)
    return inbound_text.receive(state, classification, sender, policy, triggers, list_keywords)


def _revoke(
    state: ContactState,
    classification: Classification,
    sender: Sender,
    policy: Policy,
    now: datetime,
    answered: str,
    purposes: tuple[str, ...],
) -> Outcome:
    held = consented(state, sender.number, purposes)
    if len(held) > 1:
        # 64.1200(a)(12): the one confirmation may ask which purposes were meant, and
        # every text needing consent stops until the contact answers; no answer means
        # all. So all of them end now, and an answer gives back those not named.
        outcome = inbound_text.receive(state, classification, sender, policy)
        until = now + timedelta(minutes=policy.purpose_choice_minutes)
        (event,) = outcome.events
        data = {**event.data, "purposes": list(held), "choice_until": until.isoformat()}
        asked = Event(event.type, event.phone, MappingProxyType(data))
        new = replace(outcome.state, choice_until=until, choice_purposes=held)
        reply = None
        if outcome.reply is not None:
            template = policy.replies_for(sender.kind, classification.language).opt_out_choice
            named = ", ".join(p.upper() for p in held)
            reply = policy.render(template).replace("{purposes}", named)
        return Outcome(new, (asked,), reply)
    already = state.status_from(sender.number, answered) is Status.OPTED_OUT
    keyword = classification.keyword
    new, event = set_purpose(
        state,
        answered,
        Status.OPTED_OUT,
        Source.KEYWORD,
        sender.number,
        Method.KEYWORD if keyword else Method.PLAIN_LANGUAGE,
        keyword=keyword,
        repeat=True if already else None,
    )
    confirm = not (already and policy.one_confirmation_per_opt_out) and not network_answers(
        classification, sender.kind, policy
    )
    replies = policy.replies_for(sender.kind, classification.language)
    return Outcome(new, (event,), policy.render(replies.opt_out) if confirm else None)


#: Words an answer may hold besides the purposes' names ("stop marketing only").
_FILLERS = frozenset({"stop", "only", "and", "the", "texts", "messages", "please", "just"})


def choice_of(body: str, choices: Iterable[str]) -> tuple[str, ...] | None:
    """The purposes an answer names: every one of ``choices`` for ALL, those whose
    names it says ("MARKETING", "appointment reminders"), or None when it is not an
    answer (a word that is neither a name nor a filler, or no name at all)."""
    said = [w for w in words(body) if w not in _FILLERS]
    options = tuple(choices)
    if said == [ALL]:
        return options
    chosen: list[str] = []
    rest = said
    # Longest names first, so "appointment reminders" is not read as "appointment".
    for name in sorted(options, key=lambda n: -len(n.split("_"))):
        parts = name.split("_")
        for at in range(len(rest) - len(parts) + 1):
            if rest[at : at + len(parts)] == parts:
                chosen.append(name)
                rest = rest[:at] + rest[at + len(parts) :]
                break
    if not chosen or rest:
        return None
    return tuple(p for p in options if p in chosen)


def _answer(state: ContactState, chosen: tuple[str, ...], sender: str) -> Outcome:
    """The contact named the purposes to stop: the others are given back. No text is
    sent: the confirmation was the only one (64.1200(a)(12))."""
    new = replace(state, choice_until=None, choice_purposes=())
    events: list[Event] = []
    for purpose in state.choice_purposes:
        if purpose not in chosen:
            new, event = set_purpose(
                new, purpose, Status.OPTED_IN, Source.KEYWORD, sender, Method.PURPOSE_CHOICE
            )
            events.append(event)
    return Outcome(new, tuple(events))
