"""Outbound decisions: may a text go to a contact, and what a send does to its state.
Pure, as the consent state machine it reads (:mod:`optline.domain.consent`).

The order of the checks is the order the broadcast suppression query
(``optline.store.queries_decisions.suppressed``) applies its facts in: blocked, opted out (for
the sender, under the policy's scope), unsubscribed from the list; then no consent on
record where the policy's ``no_consent`` does not allow the text; then a campaign text
with no written consent on record where the policy requires it (64.1200(a)(2)); then
one held by a flagged reply waiting for review (the engine adds those contacts to the
query's); then the first-text disclosure (seed 004: appended, or a notice of its own
sent just before the text, which the gate has then allowed with it) and the opt-out
language a campaign text needs (CTIA).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from optline.domain import written_consent
from optline.domain.consent import ContactState, Event, new_event
from optline.domain.consent_codes import EventType, Reason, Source, Status
from optline.domain.policy import DisclosureForm, Policy
from optline.domain.text import words


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason | None
    body: str
    # The first-text disclosure as a text of its own, sent just before ``body`` (the
    # ``separate`` form, seed 004); None when there is none to send.
    notice: str | None = None
    # A text held by a send window or cap: the first moment it may go (windows.Hold).
    next_allowed_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason.value if self.reason else None,
            "body": self.body,
            "notice": self.notice,
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
        }


# "Reply STOP", "text END to 12345", "STOP to quit": an opt-out keyword given as an
# instruction, or written in capitals as keywords are. "the end of the sale" is not.
_INSTRUCTION = re.compile(
    r"\b(?:reply|replying|text|txt|send|respond)(?: with)?(?: the word)? (\w+(?: \w+)?)"
)


def has_opt_out_language(body: str, policy: Policy) -> bool:
    """Does ``body`` tell the reader how to opt out with one of the policy's keywords?

    "Reply STOP to opt out", "Text end to quit", "STOP to end": a keyword the reader is
    told to send, or one in capitals that says what it does. A capital keyword alone
    does not ("Don't STOP shopping", "THE END of summer sale")."""
    keywords = policy.opt_out_words()
    for match in _SHOUTED_KEYWORD.finditer(body):
        if " ".join(words(match.group(1))) in keywords:
            return True
    phrase = " ".join(words(body))
    for match in _INSTRUCTION.finditer(phrase):
        said = match.group(1)
        if said in keywords or said.partition(" ")[0] in keywords:
            return True
    return False


_SHOUTED_KEYWORD = re.compile(
    r"\b([A-Z][A-Z-]+(?: [A-Z][A-Z-]+)?) (?i:to|2) "
    r"(?i:end|stop|opt|quit|cancel|unsubscribe|unsub|leave|be removed|optout)\b"
)


def decide(
    state: ContactState | None,
    sender: str,
    policy: Policy,
    body: str,
    list_name: str | None = None,
    campaign: bool = False,
    review_pending: bool = False,
    purpose: str | None = None,
) -> Decision:
    """May ``body`` go from ``sender`` to this contact? ``state`` None: never seen.
    ``review_pending``: a reply of the contact's is flagged and not yet reviewed.
    ``purpose``: the text's (optline.domain.purposes.of_send), whose own consent, if
    the contact has one, decides over the scope's status."""
    if state is not None:
        status = state.status_from(sender, purpose)
        if status is Status.BLOCKED:
            return Decision(False, Reason.BLOCKED, body)
        if status is Status.OPTED_OUT:
            return Decision(False, Reason.OPTED_OUT, body)
        if list_name is not None and state.lists.get(list_name) is False:
            return Decision(False, Reason.LIST_UNSUBSCRIBED, body)
    if (state is None or status is Status.NO_CONSENT) and not policy.no_consent.allows(
        campaign, state is not None and state.inbound
    ):
        return Decision(False, Reason.NO_CONSENT, body)
    if (
        campaign
        and policy.written_consent_required
        and not written_consent.covers(state, written_consent.MARKETING)
    ):
        # 64.1200(a)(2): marketing needs prior express written consent on record.
        return Decision(False, Reason.NO_WRITTEN_CONSENT, body)
    if campaign and review_pending and policy.hold_campaigns_on_review:
        # 64.1200(a)(10): a reply that may revoke consent is not answered with more
        # marketing while no one has reviewed it; 1:1 texts go on.
        return Decision(False, Reason.REVOCATION_PENDING_REVIEW, body)
    disclosure = policy.first_text_disclosure
    notice = None
    first_text = state is None or not state.texted
    if disclosure and first_text:
        if policy.first_text_disclosure_form is DisclosureForm.SEPARATE:
            # Seed 004: "the first time you send a text to someone ... Command sends the
            # following text", whatever that text says: a text of its own, before it.
            notice = disclosure
        elif not carries_disclosure(body, policy):
            body = f"{body}\n\n{disclosure}"
    # An appended disclosure counts as opt-out language: it is part of the text that
    # goes out. A separate notice does not: the campaign text must say it itself.
    if (
        campaign
        and policy.campaign_opt_out_language_required
        and not has_opt_out_language(body, policy)
    ):
        return Decision(False, Reason.MISSING_OPT_OUT_LANGUAGE, body)
    return Decision(True, None, body, notice)


def carries_disclosure(body: str, policy: Policy) -> bool:
    """Does ``body`` already say what the policy's first-text disclosure says? Said once,
    never twice: its very words, or, for a disclosure that is opt-out language ("Reply
    STOP to opt out."), opt-out language of the body's own, read by the one check the
    campaign rule uses (:func:`has_opt_out_language`)."""
    disclosure = policy.first_text_disclosure
    if not disclosure:
        return False
    if disclosure.casefold() in body.casefold():
        return True
    return has_opt_out_language(body, policy) and has_opt_out_language(disclosure, policy)


def refused_event(state: ContactState, sender: str, decision: Decision) -> Event:
    """The ledger event for a refused send."""
    assert decision.reason is not None
    # A text held by a send window or cap says until when (windows.Hold).
    held_until = decision.next_allowed_at
    return new_event(
        EventType.SEND_REFUSED,
        state,
        Source.MANUAL,
        sender,
        reason=decision.reason.value,
        next_allowed_at=held_until.isoformat() if held_until else None,
    )


def sent(state: ContactState) -> ContactState:
    return state if state.texted else replace(state, texted=True)


def received(state: ContactState) -> ContactState:
    """``state`` once the contact has texted the account: a 1:1 text to them is then
    one to a contact who texted first (``Policy.no_consent``)."""
    return state if state.inbound else replace(state, inbound=True)


def never_sent(state: ContactState, policy: Policy, body: str) -> ContactState:
    """``state`` once a text decided for it was refused at its hand-over: one that
    carried the first-text disclosure (appended, or the separate notice itself) never
    told the contact (seed 004), so the next text carries it again."""
    if state.texted and carries_disclosure(body, policy):
        return replace(state, texted=False)
    return state
