"""The phrase rules: regular expressions per language that read a request in words.

Each rule is a :class:`optline.domain.vocabulary.Phrase` compiled once per keyword set.
A rule runs only on a text holding one of its anchor words (Chinese rules, with no
anchors, on a text with two ideographs in a row); a match is dismissed when negated
("don't stop the reminders") and is only a possible opt-out inside a question ("how do
I unsubscribe?"). What belongs here: compiling the rules, choosing those a text's words
call for, and matching them in protective order. Typos and bare keywords are
:mod:`optline.domain.keyword_reading`'s; putting the stages together is
:mod:`optline.domain.detect`'s. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from optline.domain import vocabulary as vocab
from optline.domain.clauses import Clauses, last_words, negated, quoted
from optline.domain.policy import Intent, KeywordSet
from optline.domain.text import BREAK
from optline.domain.verdicts import Verdict, Verdicts

# A plan for more gate words than this is not kept (a long text may hold hundreds).
_MAX_KEPT_PLAN_WORDS = 24
# Words before a phrase that a negation check reads ("never ever stop", "don't remove
# me from"): the last four, and one more to tell whether there are more than two.
_WORDS_BEFORE = 5
# A text's clauses up to this long are read whole before each match, as the quickest
# way for a short text; a longer text's are indexed once (see Clauses).
_READ_WHOLE_CLAUSES = 2000


@dataclass(frozen=True, slots=True)
class _Rule:
    order: int  # rules are tried in the order vocabulary.PHRASES lists them
    phrase: vocab.Phrase
    language: str
    regex: re.Pattern[str]
    then: re.Pattern[str] | None = None

    def hits(self, form: str) -> Iterable[re.Match[str] | _Span]:
        """Where the rule matches ``form``, in order (each hit's ``span()``)."""
        if self.then is None:
            return self.regex.finditer(form)
        found = _in_turn(self.regex, self.then, form, self.phrase.to_last)
        if self.phrase.either_order:
            other = _in_turn(self.then, self.regex, form, self.phrase.to_last)
            if other is not None and (found is None or other[0] < found[0]):
                found = other
        return () if found is None else (_Span(found),)


@dataclass(frozen=True, slots=True)
class _Span:
    """The match of a rule in two parts (see :func:`_in_turn`)."""

    at: tuple[int, int]

    def span(self) -> tuple[int, int]:
        return self.at


def _in_turn(
    first: re.Pattern[str], then: re.Pattern[str], form: str, to_last: bool
) -> tuple[int, int] | None:
    """The span from the first match of ``first`` to the first (or last) match of
    ``then`` after it; each pattern is run over the text once."""
    opening = first.search(form)
    if opening is None:
        return None
    end = None
    for closing in then.finditer(form, opening.end()):
        end = closing.end()
        if not to_last:
            break
    return None if end is None else (opening.start(), end)


def _order(rule: _Rule) -> int:
    return rule.order


class PhraseRules:
    """The phrase rules of one policy's keyword languages, by anchor word."""

    def __init__(self, keywords: Mapping[str, KeywordSet], verdicts: Verdicts):
        self.verdicts = verdicts
        phrases = [
            (code, phrase)
            for code in sorted(keywords, key=lambda c: (c != "en", c))
            for phrase in vocab.PHRASES.get(code, ())
        ]
        rules = [
            _Rule(
                order,
                phrase,
                code,
                re.compile(phrase.pattern),
                re.compile(phrase.then) if phrase.then else None,
            )
            for order, (code, phrase) in enumerate(phrases)
        ]
        by_anchor: dict[str, list[_Rule]] = {}
        for rule in rules:
            for anchor in rule.phrase.anchors:
                by_anchor.setdefault(anchor, []).append(rule)
        self.by_anchor = {word: tuple(found) for word, found in by_anchor.items()}
        # Rules without anchor words (Chinese, written without spaces): tried on every
        # text with two ideographs in a row.
        self.unanchored = tuple(rule for rule in rules if not rule.phrase.anchors)
        # Words the rules need besides their anchors: part of a plan's key (see plan).
        self.needs = frozenset(word for rule in rules for word in rule.phrase.needs)
        self._plans: dict[frozenset[str], tuple[_Rule, ...]] = {}

    def plan(self, hits: frozenset[str]) -> tuple[_Rule, ...]:
        """The rules anchored on ``hits`` that find the words they need there, in order;
        cached per set of gate words."""
        plan = self._plans.get(hits)
        if plan is None:
            rules = {
                rule
                for word in hits
                for rule in self.by_anchor.get(word, ())
                if not rule.phrase.needs or not rule.phrase.needs.isdisjoint(hits)
            }
            plan = tuple(sorted(rules, key=_order))
            if len(hits) <= _MAX_KEPT_PLAN_WORDS:
                if len(self._plans) >= 4096:
                    self._plans.clear()
                self._plans[hits] = plan
        return plan

    def read(self, form: str, plan: tuple[_Rule, ...]) -> Verdict | None:
        """The most protective verdict of the rules in ``plan``; the first opt-out ends.

        A rule that keeps the texts (intent none, "... but keep the texts") takes its
        words out of what the later rules read, and is the verdict only when nothing
        else asks to stop: "keep the texts. Actually no, stop texting me" opts out.
        """
        best: Verdict | None = None
        kept: Verdict | None = None
        clauses: Clauses | None = None  # made for a long text's first negatable match
        for rule in plan:
            phrase = rule.phrase
            # The first match that is not negated counts.
            for hit in rule.hits(form):
                start, end = hit.span()
                question = False
                if phrase.negatable:
                    if len(form) <= _READ_WHOLE_CLAUSES:
                        opening = form.rfind(BREAK, 0, start) + 1
                        before = form[opening:start].split()
                    else:
                        if clauses is None or clauses.form is not form:
                            clauses = Clauses(form)
                        opening = clauses.start_of(start)
                        before = last_words(form, opening, start, _WORDS_BEFORE)
                    if negated(before) or (
                        phrase.after_object
                        and len(before) > 2
                        and before[-1] in vocab.OBJECT_PRONOUNS
                        and negated(before[:-2])
                    ):
                        continue
                    if phrase.intent is Intent.OPT_OUT:
                        question = (
                            not vocab.QUESTION_WORDS.isdisjoint(before)
                            if clauses is None or clauses.form is not form
                            else clauses.question_between(opening, start)
                            # A word cut by the match's start, as the clause's words are read.
                            or bool(before and before[-1] in vocab.QUESTION_WORDS)
                        )
                said = form[start:end].strip(" |").replace(" |", ",")
                key = (rule.order, said, question)
                found = self.verdicts.get(key) or self.verdicts.keep(
                    key, _said(rule, said, question)
                )
                if found.intent is Intent.OPT_OUT:
                    return found
                if found.intent is Intent.NONE:
                    kept = found
                    form = f"{form[:start]} {BREAK} {form[end:]}"
                elif best is None or _rank(found) < _rank(best):
                    best = found
                break
        return best or kept


def _said(rule: _Rule, said: str, question: bool) -> Verdict:
    """The verdict of ``rule`` matching the words ``said``."""
    said = quoted(said)
    phrase = rule.phrase
    if question:
        return Verdict(
            Intent.POSSIBLE_OPT_OUT,
            f"{said!r} {phrase.name}, but as a question ({rule.language})",
            None,
            rule.language,
        )
    return Verdict(phrase.intent, f"{said!r} {phrase.name} ({rule.language})", None, rule.language)


_RANKS = {Intent.OPT_OUT: 0, Intent.POSSIBLE_OPT_OUT: 1}


def _rank(verdict: Verdict) -> int:
    # Protective order: an opt-out beats a possible one, which beats an opt-in.
    return _RANKS.get(verdict.intent, 2)
