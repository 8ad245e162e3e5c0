"""What the carriers and CTIA fix for every sender, whatever the product's policy. Pure.

Belongs here: the help words (HELP is answered whatever the consent, CTIA 5.1.2.1; an
account trigger on one is the account's help reply, as seed 001 sets HELP up) and what
a toll-free number's carrier network does on its own: it answers STOP and its peers
with a fixed text that cannot be customised, opts back in on START and UNSTOP only
(answering those too), and lets nothing through to a contact opted out there, so an
opted-out contact's HELP gets no answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from optline.domain.classify import Classification
from optline.domain.policy import HELP_KEYWORDS, Intent, Policy, SenderKind

T = TypeVar("T")


def is_help_keyword(form: str, policy: Policy) -> bool:
    """Is ``form`` (keyword form) a help keyword: a carrier-wide one, or the policy's?"""
    match = policy.keyword_index.get(form)
    return form in HELP_KEYWORDS or (match is not None and match.intent is Intent.HELP)


def help_trigger(keyword: str | None, triggers: Mapping[str, T]) -> T | None:
    """The account's trigger (by keyword form) that answers a help request made with
    ``keyword``: the one on that word, else, for HELP or INFO, the one on the other
    (both are the carriers' help words, so one trigger answers both)."""
    if keyword is None or not triggers:
        return None
    form = keyword.lower()
    found = triggers.get(form)
    if found is None and form in HELP_KEYWORDS:
        found = next((triggers[w] for w in sorted(HELP_KEYWORDS) if w in triggers), None)
    return found


def network_answers(classification: Classification, sender: SenderKind, policy: Policy) -> bool:
    """Does the carrier network answer this inbound text itself, so that optline's own
    reply would be a second one? On a toll-free number (under the policy's
    ``toll_free_network_replies``): one of its opt-out keywords, or START or UNSTOP, as
    the whole message. The consent change is recorded all the same."""
    keyword = classification.keyword
    if not _network_keywords(sender, policy) or not classification.whole_message or not keyword:
        return False
    if classification.intent is Intent.OPT_OUT:
        return keyword.lower() in policy.toll_free_opt_out
    if classification.intent is Intent.OPT_IN:
        return keyword.lower() in policy.toll_free_opt_in
    return False


def network_blocks_replies(sender: SenderKind, policy: Policy, opted_out: bool) -> bool:
    """Does the carrier network stop every text from this sender to the contact, HELP's
    answer included? A toll-free number's network does, once the contact opted out there
    (under ``toll_free_network_replies``)."""
    return opted_out and _network_keywords(sender, policy)


def _network_keywords(sender: SenderKind, policy: Policy) -> bool:
    return sender is SenderKind.TOLL_FREE and policy.toll_free_network_replies
