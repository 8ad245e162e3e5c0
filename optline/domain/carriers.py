"""What the carriers and CTIA fix for every sender, whatever the product's policy. Pure.

Belongs here: the help words (HELP is answered whatever the consent, CTIA 5.1.2.1; an
account trigger on one is the account's help reply, as seed 001 sets HELP up) and what
a toll-free number's carrier network does on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from optline.domain.policy import HELP_KEYWORDS, Intent, Policy

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
