"""Beyond exact keywords: typos, fillers around a keyword, and plain-language replies.

Used by :func:`optline.domain.classify.classify` for policies that turn it on (the
``default`` profile). FCC 47 CFR 64.1200(a)(10) requires honouring any reply that a
reasonable person would read as a request to stop; CTIA 5.1.3 asks to act on
natural-language requests except where a word could cause unintended opt-outs. So:

- typos: one slip of the finger away from an opt-out keyword of 4+ letters (a
  neighbouring QWERTY key, two letters swapped, a letter doubled or missing, or a
  neighbouring key pressed too: "STPO", "SOTP", "STOPP", "UNSUSCRIBE"), never when the
  typo is itself an ordinary word per ``wordfreq`` ("STEP", "SHOP", "QUIET", "SPOT");
- spellings: "stahp", a keyword as it is said rather than mistyped;
- fillers: "Stop. Thank you", "STOP PLEASE", "ok stop", "baja por favor";
- clauses: a keyword that is a clause of its own ("Who is this? Stop");
- phrases per language (:mod:`optline.domain.vocabulary`), each dismissed when negated
  ("don't stop the reminders") and only a possible opt-out inside a question ("how do
  I unsubscribe?"), unless the question names the texts or the list it would leave
  ("how do I get off this list?"); a message that keeps the texts while leaving
  another channel ("unsubscribe me from the emails, keep the texts") is no opt-out.

Everything a policy needs is built once per keyword set (:func:`detector_for`); a
message then costs a few set and dict look-ups, and a regular expression runs only
when the message holds one of its anchor words. Verdicts depend only on what matched
(a keyword, a typo, a phrase as said), never on the rest of the message, so each is
made once and reused.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import wordfreq

from optline.domain import vocabulary as vocab
from optline.domain.clauses import Clauses, core_words, last_words, negated, quoted
from optline.domain.policy import Intent, KeywordMatch, KeywordSet, Policy
from optline.domain.text import BREAK, clause_form, has_inner_break, squeeze, typos

# A typo that wordfreq sees at least once per million words (Zipf 3) is a word someone
# meant to write ("atop", "quot"), not a slip.
_ORDINARY_ZIPF = 3.0
_MIN_TYPO_LENGTH = 4
# No keyword has more words than this ("opt out", "stop all", "no mas").
_LONGEST_KEYWORD = 3
# Verdicts kept per detector; matched phrases are few, but a flood of odd ones must not
# grow memory without bound.
_MAX_VERDICTS = 4096
# Nor may long texts: a verdict on words longer than this is made afresh each time, and
# a plan for more gate words than this is not kept (a long text may hold hundreds).
_MAX_KEPT_TEXT = 100
_MAX_KEPT_PLAN_WORDS = 24
# Words before a phrase that a negation check reads ("never ever stop", "don't remove
# me from"): the last four, and one more to tell whether there are more than two.
_WORDS_BEFORE = 5
# A text's clauses up to this long are read whole before each match, as the quickest
# way for a short text; a longer text's are indexed once (see Clauses).
_READ_WHOLE_CLAUSES = 2000


_SARCASM = re.compile(vocab.SARCASM)
# Two CJK ideographs in a row: a text the unanchored (Chinese) rules read.
_IDEOGRAPHS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2}")


def _is_ordinary(token: str, language: str) -> bool:
    return any(wordfreq.zipf_frequency(token, code) >= _ORDINARY_ZIPF for code in {language, "en"})


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


# Not frozen and compared by identity: verdicts are shared (see the module docstring),
# and the classifier keys its own results on them, so hashing must be cheap.
@dataclass(slots=True, eq=False)
class Verdict:
    """What the detector found; the classifier turns it into a Classification."""

    intent: Intent
    reason: str
    match: KeywordMatch | None = None
    language: str | None = None


class Detector:
    """Typo table and phrase rules for one policy's keyword sets."""

    def __init__(self, keywords: Mapping[str, KeywordSet], index: Mapping[str, KeywordMatch]):
        # A plain dict: its look-ups cost less than the policy's read-only view's.
        self.index = dict(index)
        # Most words in one keyword: a longer run of words cannot be a keyword.
        self.longest = max((form.count(" ") + 1 for form in index), default=0)
        self.typos = self._typo_table(keywords, index)
        self.spellings = self._spelling_table(index)
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
        self.rules_by_anchor = {word: tuple(found) for word, found in by_anchor.items()}
        # Rules without anchor words (Chinese, written without spaces): tried on every
        # text with two ideographs in a row.
        self.unanchored = tuple(rule for rule in rules if not rule.phrase.anchors)
        # A word of an opt-out keyword, or a typo or spelling of one: worth splitting
        # into clauses.
        opt_out_words = frozenset(
            word
            for form, match in index.items()
            if match.intent is Intent.OPT_OUT
            for word in form.split()
        )
        self.keyword_words = opt_out_words | frozenset(self.typos) | frozenset(self.spellings)
        # Words the rules need besides their anchors: part of a plan's key (see _plan).
        needs = frozenset(word for rule in rules for word in rule.phrase.needs)
        self.gate = self.keyword_words | frozenset(self.rules_by_anchor) | needs
        self._plans: dict[frozenset[str], tuple[_Rule, ...]] = {}
        self._verdicts: dict[Hashable, Verdict] = {}

    def _keep(self, key: tuple[str | int, str, *tuple[Hashable, ...]], verdict: Verdict) -> Verdict:
        """Remember ``verdict`` as the one for ``key`` (what kind of verdict, then the
        words it is on, which a long text may make long: then it is not kept)."""
        if len(key[1]) > _MAX_KEPT_TEXT:
            return verdict
        if len(self._verdicts) >= _MAX_VERDICTS:
            self._verdicts.clear()
        self._verdicts[key] = verdict
        return verdict

    @staticmethod
    def _typo_table(
        keywords: Mapping[str, KeywordSet], index: Mapping[str, KeywordMatch]
    ) -> dict[str, KeywordMatch]:
        table: dict[str, KeywordMatch] = {}
        # Sorted, so a typo near two keywords ("ARRETR": ARRET, ARRETER) names the same
        # one in every process, whatever the hash seed.
        for form, match in sorted(index.items()):
            # Chinese keywords (not ASCII once folded) are typed with an input method,
            # not key by key on QWERTY: no slips of the finger to list.
            if (
                match.intent is not Intent.OPT_OUT
                or " " in form
                or len(form) < 4
                or not form.isascii()
            ):
                continue
            for typo in typos(form):
                if (
                    len(typo) >= _MIN_TYPO_LENGTH
                    and typo not in index
                    and typo not in table
                    and not _is_ordinary(typo, match.language)
                ):
                    table[typo] = match
        return table

    @staticmethod
    def _spelling_table(index: Mapping[str, KeywordMatch]) -> dict[str, KeywordMatch]:
        """vocabulary.SPELLINGS of the opt-out keywords in ``index``, each also with one
        letter doubled ("stahhp"); more repeats are squeezed before the look-up."""
        table: dict[str, KeywordMatch] = {}
        for spelling, keyword in vocab.SPELLINGS.items():
            match = index.get(keyword)
            if match is None or match.intent is not Intent.OPT_OUT:
                continue
            for i in range(len(spelling)):
                table.setdefault(spelling[: i + 1] + spelling[i:], match)
            table[spelling] = match
        return table

    # -- single words ---------------------------------------------------------------

    def word(self, token: str) -> Verdict | None:
        """A one-word message (or clause) that is a keyword typed in a hurry."""
        match = self.typos.get(token)
        if match is not None:
            return self._read_as(token, match, "is one typo away from")
        plain = squeeze(token)
        if plain != token:
            match = self.index.get(plain) or self.typos.get(plain)
            if match is not None:
                key = ("repeated", token)
                return self._verdicts.get(key) or self._keep(
                    key,
                    Verdict(
                        match.intent,
                        f"{quoted(token).upper()} is the keyword {match.keyword.upper()} "
                        f"with letters repeated ({match.language})",
                        match,
                    ),
                )
        return None

    # -- free text ------------------------------------------------------------------

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
                return self._verdicts.get(key) or self._keep(
                    key,
                    Verdict(intent, f"the whole reply {short.upper()!r} ({code})", None, code),
                )
            if short in vocab.POSSIBLE_REPLIES:
                key = ("reply", short)
                return self._verdicts.get(key) or self._keep(
                    key,
                    Verdict(
                        Intent.POSSIBLE_OPT_OUT,
                        f"the reply {short.upper()!r} may refuse further texts",
                    ),
                )
        hits = self.gate.intersection(tokens)
        if self.unanchored and not folded.isascii() and _IDEOGRAPHS.search(folded):
            found = self._phrases(clause_form(folded), self.unanchored)
            if found is not None:
                return found
        if not hits:
            return None
        plan = self._plan(hits)
        if not plan and self.keyword_words.isdisjoint(hits):
            return None
        # Where the words are the whole text (no punctuation), there is one clause.
        split = form != folded and has_inner_break(folded)
        if split:
            form = clause_form(folded)
        best = self._phrases(form, plan)
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
        found = self._phrases(fixed, self._plan(hits | frozenset(slips.values())))
        return found if found is not None and found.intent is Intent.OPT_OUT else None

    def _unless_exclaimed(self, clause: Verdict, folded: str, tokens: list[str]) -> Verdict:
        """A keyword clause's opt-out, unless laughter or delight around it makes it the
        "Stop!" of chat ("Stop! That's amazing news 🎉"): then a possible opt-out. Not
        where the keyword closes a text that mocks the texts ("Wow, another text. Just
        what I needed. STOP."): the delight is sarcasm."""
        match = clause.match
        if (
            clause.intent is not Intent.OPT_OUT
            or match is None
            or (vocab.EXCLAIMED.isdisjoint(tokens) and vocab.EXCLAIMED_SIGNS.isdisjoint(folded))
            or (tokens[-1] == match.keyword and _SARCASM.search(" ".join(tokens)))
        ):
            return clause
        key = ("exclaimed", match.keyword)
        return self._verdicts.get(key) or self._keep(
            key,
            Verdict(
                Intent.POSSIBLE_OPT_OUT,
                f"the keyword {match.keyword.upper()} among laughter or delight, as an "
                f"exclamation ({match.language})",
                match,
            ),
        )

    def _bare_keyword(self, core: list[str], typos_on: bool) -> Verdict | None:
        """The message without its fillers is a keyword: "Stop. Thank you"."""
        if len(core) <= self.longest:
            match = self.index.get(" ".join(core))
            if match is not None:
                key = ("filler", match.keyword)
                return self._verdicts.get(key) or self._keep(
                    key,
                    Verdict(
                        match.intent,
                        f"the keyword {match.keyword.upper()} with only filler words "
                        f"around it ({match.language})",
                        match,
                    ),
                )
        if len(core) == 1:
            found = self.word(core[0]) if typos_on else None
            return found if found is not None else self._spelling(core[0])
        # "STOP QUIT", "stop cancel", "STOP HELP", "help stop": nothing but opt-out
        # keywords, or one with HELP (whoever asks for help with stopping asks to stop).
        # "HELP INFO", "START SUBSCRIBE": nothing but help, or opt-in, keywords.
        matches = []
        for word in core:
            match = self.index.get(word)
            if match is None:
                return None
            matches.append(match)
        intents = {match.intent for match in matches}
        if Intent.OPT_OUT in intents and intents <= {Intent.OPT_OUT, Intent.HELP}:
            first = next(match for match in matches if match.intent is Intent.OPT_OUT)
            what = "an opt-out among them"
        elif intents == {Intent.HELP} or intents == {Intent.OPT_IN}:
            first = matches[0]
            what = "all " + ("help" if first.intent is Intent.HELP else "opt-in")
        else:
            return None
        key = ("only", " ".join(core))
        return self._verdicts.get(key) or self._keep(
            key,
            Verdict(
                first.intent,
                f"only keywords, {what}: {key[1].upper()} ({first.language})",
                first,
            ),
        )

    def _spelling(self, token: str) -> Verdict | None:
        """A one-word clause that is a keyword as spoken: "stahp", "stahhhp"."""
        match = self.spellings.get(token) or self.spellings.get(squeeze(token))
        return None if match is None else self._read_as(token, match, "is a spelling of")

    def _read_as(self, token: str, match: KeywordMatch, how: str) -> Verdict:
        """One word read as the opt-out keyword of ``match`` (kept per word and reading)."""
        key = (how, token)
        return self._verdicts.get(key) or self._keep(
            key,
            Verdict(
                Intent.OPT_OUT,
                f"{quoted(token).upper()} {how} the opt-out keyword {match.keyword.upper()} "
                f"({match.language})",
                match,
            ),
        )

    def _plan(self, hits: frozenset[str]) -> tuple[_Rule, ...]:
        """The rules anchored on ``hits`` that find the words they need there, in order;
        cached per set of gate words."""
        plan = self._plans.get(hits)
        if plan is None:
            rules = {
                rule
                for word in hits
                for rule in self.rules_by_anchor.get(word, ())
                if not rule.phrase.needs or not rule.phrase.needs.isdisjoint(hits)
            }
            plan = tuple(sorted(rules, key=_order))
            if len(hits) <= _MAX_KEPT_PLAN_WORDS:
                if len(self._plans) >= 4096:
                    self._plans.clear()
                self._plans[hits] = plan
        return plan

    def _phrases(self, form: str, plan: tuple[_Rule, ...]) -> Verdict | None:
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
                found = self._verdicts.get(key) or self._keep(key, _said(rule, said, question))
                if found.intent is Intent.OPT_OUT:
                    return found
                if found.intent is Intent.NONE:
                    kept = found
                    form = f"{form[:start]} {BREAK} {form[end:]}"
                elif best is None or _rank(found) < _rank(best):
                    best = found
                break
        return best or kept

    def _clauses(self, form: str, typos_on: bool) -> Verdict | None:
        """A clause that is an opt-out keyword, or opens or ends with a strong one."""
        possible: Verdict | None = None
        for clause in form.split(BREAK):
            words = clause.split()
            if self.keyword_words.isdisjoint(words):
                continue
            core = core_words(words)
            found = self._clause(core, typos_on) if core else None
            if found is not None:
                if found.intent is Intent.OPT_OUT:
                    return found
                possible = possible or found
        return possible

    def _clause(self, core: list[str], typos_on: bool) -> Verdict | None:
        """:meth:`_clauses` for one clause (``core``: its words without fillers)."""
        bare = self._bare_keyword(core, typos_on)
        if bare is not None and bare.match is not None and bare.intent is Intent.OPT_OUT:
            match = bare.match
            if match.keyword not in vocab.WEAK_OPT_OUT:
                key = ("clause", match.keyword)
                return self._verdicts.get(key) or self._keep(
                    key,
                    Verdict(
                        Intent.OPT_OUT,
                        f"a clause of its own is the opt-out keyword "
                        f"{match.keyword.upper()} ({match.language})",
                        match,
                    ),
                )
            key = ("weak clause", match.keyword)
            return self._verdicts.get(key) or self._keep(
                key,
                Verdict(
                    Intent.POSSIBLE_OPT_OUT,
                    f"a clause is {match.keyword.upper()}, which also has other "
                    f"senses ({match.language})",
                    match,
                ),
            )
        return self._edge(core)

    def _edge(self, core: list[str]) -> Verdict | None:
        if len(core) < 2:
            return None
        last, first = self._strong(core[-1]), self._strong(core[0])
        # "I did not say stop": the word before is itself negated.
        if (
            last is not None
            and core[-2] in vocab.BEFORE_FINAL_KEYWORD
            and not (len(core) > 2 and core[-3] in vocab.NEGATORS)
        ):
            ends = ("ends", last.keyword, core[-2])
            return self._verdicts.get(ends) or self._keep(
                ends,
                Verdict(
                    Intent.OPT_OUT,
                    f"ends with the opt-out keyword {last.keyword.upper()} after "
                    f"{core[-2]!r} ({last.language})",
                    last,
                ),
            )
        if first is not None and core[1] in vocab.AFTER_FIRST_KEYWORD:
            opens = ("opens", first.keyword)
            return self._verdicts.get(opens) or self._keep(
                opens,
                Verdict(
                    Intent.OPT_OUT,
                    f"opens with the opt-out keyword {first.keyword.upper()}, then a new "
                    f"sentence ({first.language})",
                    first,
                ),
            )
        return None

    def _strong(self, word: str) -> KeywordMatch | None:
        match = self.index.get(word)
        if match is None or match.intent is not Intent.OPT_OUT:
            return None
        return None if word in vocab.WEAK_OPT_OUT else match


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
