"""What does an inbound text mean? Pure, no I/O.

Order of checks: the account's own keywords (triggers and list opt-out keywords), then
the policy's keywords as the whole message. A policy with ``single_keyword_only`` stops
there, as the vendors documented in seeds 000, 003 and 004 do ("STOP PLEASE" and
"PLEASE CANCEL" do not count), after a typo check where ``typo_tolerance`` is on (seed
002). Otherwise :mod:`optline.domain.detect` reads the rest: keywords among filler
words, typos, and plain-language replies in the policy's languages.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from optline.domain.detect import Verdict, detector_for
from optline.domain.policy import Intent, KeywordMatch, Policy
from optline.domain.profiles import get_profile
from optline.domain.text import fold, folded_words, join_spelled_out

_INTENT_WORDS = {
    Intent.OPT_OUT: "opt-out",
    Intent.OPT_IN: "opt-in",
    Intent.HELP: "help",
}


@dataclass(frozen=True, slots=True)
class Classification:
    intent: Intent
    keyword: str | None = None
    language: str | None = None
    reason: str = ""
    # An opt-out keyword that ends consent for every sender of the account (STOPALL).
    all_senders: bool = False

    def as_dict(self) -> dict[str, str | None]:
        return {
            "intent": self.intent.value,
            "keyword": self.keyword,
            "language": self.language,
            "reason": self.reason,
        }


_EMPTY = Classification(Intent.NONE, reason="empty message")


def classify(
    text: str,
    policy: Policy | str = "default",
    account_keywords: Collection[str] = (),
) -> Classification:
    """Classify ``text`` under ``policy`` (a :class:`Policy` or a profile name).

    ``account_keywords`` are the account's trigger and list keywords in keyword form;
    they are matched before the policy's keywords.
    """
    if isinstance(policy, str):
        policy = get_profile(policy)
    folded = fold(text)
    tokens = join_spelled_out(folded_words(folded))
    if not tokens:
        return _EMPTY
    form = " ".join(tokens)
    if form in account_keywords:
        return Classification(Intent.TRIGGER, form.upper(), None, f"account keyword {form.upper()}")
    match = policy.keyword_index.get(form)
    if match is not None:
        return _exact(match)
    if policy.single_keyword_only:
        if policy.typo_tolerance and len(tokens) == 1:
            found = detector_for(policy).word(tokens[0])
            if found is not None:
                return _from_verdict(found)
        return _NOT_A_KEYWORD
    found = detector_for(policy).free_text(folded, tokens, form, policy.typo_tolerance)
    if found is not None:
        return _from_verdict(found)
    return _NOTHING_FOUND


_NOT_A_KEYWORD = Classification(Intent.NONE, reason="not one of the policy's keywords")
_NOTHING_FOUND = Classification(Intent.NONE, reason="no keyword, typo or opt-out phrase")

# Results are immutable, so the one for each keyword is made once.
_EXACT: dict[KeywordMatch, Classification] = {}


def _exact(match: KeywordMatch) -> Classification:
    found = _EXACT.get(match)
    if found is None:
        what = "stop-all" if match.all_senders else _INTENT_WORDS[match.intent]
        keyword = match.keyword.upper()
        found = _EXACT[match] = Classification(
            match.intent,
            keyword,
            match.language,
            f"whole message is the {what} keyword {keyword} ({match.language})",
            match.all_senders,
        )
    return found


def _from_verdict(verdict: Verdict) -> Classification:
    match = verdict.match
    if match is None:
        return Classification(verdict.intent, None, verdict.language, verdict.reason)
    return Classification(
        verdict.intent,
        match.keyword.upper(),
        match.language,
        verdict.reason,
        match.all_senders and verdict.intent is Intent.OPT_OUT,
    )
