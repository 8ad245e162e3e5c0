"""Outbound decisions: may a text go to a contact, and what a send does to its state.
Pure, as the consent state machine it reads (:mod:`optline.domain.consent`).

The order of the checks is the order the broadcast suppression query
(``optline.store.queries.suppressed``) applies its facts in: blocked, opted out (for
the sender, under the policy's scope), unsubscribed from the list; then the first-text
disclosure (seed 004) and the opt-out language a campaign text needs (CTIA).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from optline.domain.consent import (
    ContactState,
    Event,
    EventType,
    Reason,
    Source,
    Status,
    new_event,
)
from optline.domain.policy import Policy
from optline.domain.text import words


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason | None
    body: str
    # A text held by a send window or cap: the first moment it may go (windows.Hold).
    next_allowed_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason.value if self.reason else None,
            "body": self.body,
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
) -> Decision:
    """May ``body`` go from ``sender`` to this contact? ``state`` None: never seen."""
    if state is not None:
        status = state.status_from(sender)
        if status is Status.BLOCKED:
            return Decision(False, Reason.BLOCKED, body)
        if status is Status.OPTED_OUT:
            return Decision(False, Reason.OPTED_OUT, body)
        if list_name is not None and state.lists.get(list_name) is False:
            return Decision(False, Reason.LIST_UNSUBSCRIBED, body)
    disclosure = policy.first_text_disclosure
    first_text = state is None or not state.texted
    # Said once: a first text that already carries the notice does not repeat it.
    if disclosure and first_text and disclosure.casefold() not in body.casefold():
        body = f"{body}\n\n{disclosure}"
    # The disclosure counts as opt-out language: it is part of the text that goes out.
    if (
        campaign
        and policy.campaign_opt_out_language_required
        and not has_opt_out_language(body, policy)
    ):
        return Decision(False, Reason.MISSING_OPT_OUT_LANGUAGE, body)
    return Decision(True, None, body)


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


def never_sent(state: ContactState, policy: Policy, body: str) -> ContactState:
    """``state`` once a text decided for it was refused at its hand-over: one that
    carried the first-text disclosure never told the contact (seed 004), so the next
    text carries it again."""
    disclosure = policy.first_text_disclosure
    if state.texted and disclosure and disclosure.casefold() in body.casefold():
        return replace(state, texted=False)
    return state
