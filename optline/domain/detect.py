"""The rule-based detector: a message that is not exactly a keyword, read by rules.

Used by :func:`optline.domain.classify.classify` for policies that turn it on (the
``default`` profile). What belongs here is the order in which the rules read a free
text and the choice among their verdicts: the whole reply as said, a bare keyword among
fillers (:mod:`optline.domain.keyword_reading`), the phrase rules
(:mod:`optline.domain.phrase_rules`), a typo inside a phrase, and keyword clauses; and
building one detector per distinct keyword set.

Everything a policy needs is built once per keyword set (:func:`detector_for`); a
message then costs a few set and dict look-ups, and a regular expression runs only
when the message holds one of its anchor words. Verdicts depend only on what matched
(a keyword, a typo, a phrase as said), never on the rest of the message, so each is
made once and reused (:class:`optline.domain.verdicts.Verdicts`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from optline.domain import vocabulary as vocab
from optline.domain.clauses import core_words
from optline.domain.keyword_reading import KeywordReader
from optline.domain.phrase_rules import PhraseRules
from optline.domain.policy import Intent, KeywordMatch, KeywordSet, Policy
from optline.domain.text import clause_form, has_inner_break
from optline.domain.verdicts import Verdict, Verdicts

# No keyword has more words than this ("opt out", "stop all", "no mas").
_LONGEST_KEYWORD = 3
# Two CJK ideographs in a row: a text the unanchored (Chinese) rules read.
_IDEOGRAPHS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2}")


class Detector(KeywordReader):
    """The keyword readings and phrase rules for one policy's keyword sets."""

    def __init__(self, keywords: Mapping[str, KeywordSet], index: Mapping[str, KeywordMatch]):
        super().__init__(keywords, index, Verdicts())
        self.phrases = PhraseRules(keywords, self.verdicts)
        # Words that call for a closer look: keyword words, rule anchors and the words
        # the rules need (part of a plan's key, see PhraseRules.plan).
        self.gate = self.keyword_words | frozenset(self.phrases.by_anchor) | self.phrases.needs

    def free_text(
        self, folded: str, tokens: list[str], form: str, typos_on: bool
    ) -> Verdict | None:
        """Read a message that is not exactly a keyword.

        ``folded`` is its folded text, ``tokens`` its words and ``form`` the words
        joined by spaces.
        """
        core = core_words(tokens)
        if 0 < len(core) <= _LONGEST_KEYWORD:
            found = self._bare_keyword(core, typos_on)
            if found is not None:
                # "STOP IT 🤣🤣": the keyword and fillers, among laughter.
                return (
                    self._unless_exclaimed(found, folded, tokens)
                    if len(core) < len(tokens)
                    else found
                )
        if len(core) <= 4:
            short = " ".join(core or tokens)
            said = vocab.SHORT_REPLIES.get(short)
            if said is not None:
                key = ("reply as said", short)
                intent, code = said
                return self.verdicts.get(key) or self.verdicts.keep(
                    key,
                    Verdict(intent, f"the whole reply {short.upper()!r} ({code})", None, code),
                )
            if short in vocab.POSSIBLE_REPLIES:
                key = ("reply", short)
                return self.verdicts.get(key) or self.verdicts.keep(
                    key,
                    Verdict(
                        Intent.POSSIBLE_OPT_OUT,
                        f"the reply {short.upper()!r} may refuse further texts",
                    ),
                )
        hits = self.gate.intersection(tokens)
        if self.phrases.unanchored and not folded.isascii() and _IDEOGRAPHS.search(folded):
            found = self.phrases.read(clause_form(folded), self.phrases.unanchored)
            if found is not None:
                return found
        if not hits:
            return None
        plan = self.phrases.plan(hits)
        if not plan and self.keyword_words.isdisjoint(hits):
            return None
        # Where the words are the whole text (no punctuation), there is one clause.
        split = form != folded and has_inner_break(folded)
        if split:
            form = clause_form(folded)
        best = self.phrases.read(form, plan)
        if best is not None and best.intent is Intent.OPT_OUT:
            return best
        if typos_on and (best is None or best.intent is not Intent.NONE):
            slipped = self._phrases_unslipped(form, hits)
            if slipped is not None:
                return slipped
        if not self.keyword_words.isdisjoint(hits):
            if split:
                clause = self._clauses(form, typos_on)
            else:  # one clause, whose words and core are known
                clause = self._clause(core, typos_on) if core else None
            if clause is not None and (best is None or clause.intent is Intent.OPT_OUT):
                return self._unless_exclaimed(clause, folded, tokens)
        return best

    def _phrases_unslipped(self, form: str, hits: frozenset[str]) -> Verdict | None:
        """The phrase rules' opt-out once each word one slip from an opt-out keyword is
        read as that keyword: "remvoe me", "unsubscirbe me pls" (a typo inside a phrase,
        where the word alone would be read as a typo already)."""
        # Not a keyword with letters added at its end: "unsubscribed", "stops" are the
        # word inflected ("I unsubscribed from the emails"), not mistyped.
        slips = {
            word: match.keyword
            for word in hits
            if (match := self.typos.get(word)) is not None and not word.startswith(match.keyword)
        }
        if not slips:
            return None
        fixed = " ".join(slips.get(word, word) for word in form.split(" "))
        found = self.phrases.read(fixed, self.phrases.plan(hits | frozenset(slips.values())))
        return found if found is not None and found.intent is Intent.OPT_OUT else None


_BY_ID: dict[int, tuple[Mapping[str, KeywordSet], Detector]] = {}
_BY_KEYWORDS: dict[tuple[tuple[str, KeywordSet], ...], Detector] = {}


def detector_for(policy: Policy) -> Detector:
    """The detector for ``policy``'s keywords, built once per distinct keyword set.

    Every account policy is a new :class:`Policy` object, so the quick look-up is by
    identity and the build is shared by every policy with the same keywords.
    """
    entry = _BY_ID.get(id(policy.keywords))
    if entry is not None and entry[0] is policy.keywords:
        return entry[1]
    key = tuple(sorted(policy.keywords.items()))
    detector = _BY_KEYWORDS.get(key)
    if detector is None:
        detector = _BY_KEYWORDS[key] = Detector(policy.keywords, policy.keyword_index)
    if len(_BY_ID) >= 256:  # policies come and go with accounts; keep this bounded
        _BY_ID.clear()
    _BY_ID[id(policy.keywords)] = (policy.keywords, detector)
    return detector
