"""What does an inbound text mean? Pure, no I/O.

Order of checks: the account's own keywords (triggers and list opt-out keywords), then
the policy's keywords as the whole message; an account keyword never takes one of the
policy's opt-out keywords. A policy with ``single_keyword_only`` stops there, as the
vendors documented in seeds 000, 003 and 004 do ("STOP PLEASE" and "PLEASE CANCEL" do
not count), after a typo check where ``typo_tolerance`` is on (seed 002); a text that
reads as a request to stop is then flagged as a possible opt-out for review
(``flag_plain_language``, 47 CFR 64.1200(a)(10)), never acted on. Otherwise
:mod:`optline.domain.detect` reads the rest: keywords among filler words, typos, and
plain-language replies in the policy's languages.
:func:`with_provider_keyword` then follows what the provider itself did with the text.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from optline.domain.detect import Detector, Verdict, detector_for
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
    # fold() without the call for plain ASCII, the common case.
    folded = text.lower() if text.isascii() else fold(text)
    index = policy.keyword_index
    prepared = _PREPARED.get(id(index))
    if prepared is None or prepared.index is not index:
        prepared = _prepare(policy)
    exact = prepared.exact
    # Most keywords arrive already in keyword form ("STOP", "stop"): the folded text is
    # then its own form, and the words need not be split out. An account keyword never
    # takes one of the policy's opt-out keywords: the opt-out wins (64.1200(a)(10); a
    # trigger made before the word was reserved, or under another profile).
    found = exact.get(folded)
    if found is not None and (found.intent is Intent.OPT_OUT or folded not in account_keywords):
        return found
    tokens = folded_words(folded)
    if not tokens:
        return _EMPTY
    if len(tokens[0]) == 1:
        tokens = join_spelled_out(tokens)
    form = " ".join(tokens)
    detector = prepared.detector
    match = detector.index.get(form)
    if form in account_keywords and (match is None or match.intent is not Intent.OPT_OUT):
        return Classification(Intent.TRIGGER, form.upper(), None, f"account keyword {form.upper()}")
    if match is not None:
        found = exact.get(form)
        if found is None:
            found = exact[form] = _exact(match)
        return found
    if policy.single_keyword_only and not (policy.typo_tolerance and len(tokens) == 1):
        if policy.flag_plain_language or policy.implicit_opt_in:
            return _flagged(detector.free_text(folded, tokens, form, False))
        return _NOT_A_KEYWORD
    if policy.single_keyword_only:
        verdict = detector.word(tokens[0])
        return _NOT_A_KEYWORD if verdict is None else _from_verdict(verdict)
    verdict = detector.free_text(folded, tokens, form, policy.typo_tolerance)
    if verdict is not None:
        return _from_verdict(verdict)
    return _NOTHING_FOUND


_NOT_A_KEYWORD = Classification(Intent.NONE, reason="not one of the policy's keywords")


def _flagged(verdict: Verdict | None) -> Classification:
    """A text outside a single-keyword policy's keywords, read freely.

    "Please stop texting me" is none of the vendors' keywords, but 47 CFR
    64.1200(a)(10) binds every business whatever its vendor matches: read freely it
    asks to stop, so it is flagged as a possible opt-out for review, which changes no
    consent. Under seed 001's implicit opt-in this also keeps it from counting as a
    new message that opts the contact back in.
    """
    if verdict is None or verdict.intent not in (Intent.OPT_OUT, Intent.POSSIBLE_OPT_OUT):
        return _NOT_A_KEYWORD
    language = verdict.match.language if verdict.match is not None else verdict.language
    return Classification(
        Intent.POSSIBLE_OPT_OUT,
        None,
        language,
        f"not one of the policy's keywords, but read freely: {verdict.reason}",
    )


_NOTHING_FOUND = Classification(Intent.NONE, reason="no keyword, typo or opt-out phrase")


@dataclass(slots=True)
class _Prepared:
    """What is kept per policy: results are immutable, so each is made once."""

    index: Mapping[str, KeywordMatch]
    # Shared by the policies with the same keywords; its ``index`` is the policy's as a
    # plain dict, whose look-ups cost less than the read-only view's.
    detector: Detector
    # Keyword form -> result, filled as keywords are met.
    exact: dict[str, Classification] = field(default_factory=dict)


# By identity of the policy's keyword index (a policy's own, made with it).
_PREPARED: dict[int, _Prepared] = {}
# Results of the detector's verdicts, which it shares between messages.
_FROM_VERDICT: dict[Verdict, Classification] = {}
_MAX_KEPT = 4096


def _prepare(policy: Policy) -> _Prepared:
    if len(_PREPARED) >= 256:  # policies come and go with accounts; keep this bounded
        _PREPARED.clear()
    index = policy.keyword_index
    found = _PREPARED[id(index)] = _Prepared(index, detector_for(policy))
    return found


def _exact(match: KeywordMatch) -> Classification:
    what = "stop-all" if match.all_senders else _INTENT_WORDS[match.intent]
    keyword = match.keyword.upper()
    return Classification(
        match.intent,
        keyword,
        match.language,
        f"whole message is the {what} keyword {keyword} ({match.language})",
        match.all_senders,
    )


def _from_verdict(verdict: Verdict) -> Classification:
    found = _FROM_VERDICT.get(verdict)
    if found is not None:
        return found
    match = verdict.match
    if match is None:
        found = Classification(verdict.intent, None, verdict.language, verdict.reason)
    else:
        found = Classification(
            verdict.intent,
            match.keyword.upper(),
            match.language,
            verdict.reason,
            match.all_senders and verdict.intent is Intent.OPT_OUT,
        )
    if len(_FROM_VERDICT) >= _MAX_KEPT:
        _FROM_VERDICT.clear()
    _FROM_VERDICT[verdict] = found
    return found


# A provider's own keyword handling (Twilio's OptOutType, Telnyx's autoresponse_type),
# by the intent it acted on, and the readings of optline's own that it overrides.
_PROVIDER_INTENTS = {
    "stop": Intent.OPT_OUT,
    "start": Intent.OPT_IN,
    "help": Intent.HELP,
    "info": Intent.HELP,
}
_OVERRIDDEN_BY = {
    Intent.OPT_OUT: frozenset(Intent) - {Intent.OPT_OUT},
    # Never over an opt-out of optline's own reading, nor one flagged for review.
    Intent.OPT_IN: frozenset({Intent.NONE, Intent.TRIGGER, Intent.HELP}),
    Intent.HELP: frozenset({Intent.NONE, Intent.TRIGGER}),
}


def with_provider_keyword(
    classification: Classification, provider_keyword: str | None
) -> Classification:
    """``classification`` once the provider has acted on the text as a keyword itself.

    The provider's opt-out is in force at the provider whatever optline's policy reads
    in the text (Twilio opts out REVOKE and OPTOUT, which older keyword lists lack), so
    the record follows it: provider and app must never disagree about who opted out.
    Its opt-in and HELP are followed where optline read nothing stronger.
    """
    if provider_keyword is None:
        return classification
    keyword = provider_keyword.strip().upper()
    intent = _PROVIDER_INTENTS.get(keyword.lower())
    if intent is None or classification.intent not in _OVERRIDDEN_BY[intent]:
        return classification
    return Classification(
        intent,
        keyword,
        classification.language,
        f"the provider handled the text as its {keyword} keyword",
    )
