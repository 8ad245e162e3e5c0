"""Keywords read beyond an exact match: typos, spellings, fillers and keyword clauses.

FCC 47 CFR 64.1200(a)(10) requires honouring any reply that a reasonable person would
read as a request to stop; CTIA 5.1.3 asks to act on natural-language requests except
where a word could cause unintended opt-outs. What belongs here is every reading of a
policy's own keywords:

- typos: one slip of the finger away from an opt-out keyword of 4+ letters (a
  neighbouring QWERTY key, two letters swapped, a letter doubled or missing, or a
  neighbouring key pressed too: "STPO", "SOTP", "STOPP", "UNSUSCRIBE"), never when the
  typo is itself an ordinary word per ``wordfreq`` ("STEP", "SHOP", "QUIET", "SPOT");
- spellings: "stahp", a keyword as it is said rather than mistyped;
- fillers: "Stop. Thank you", "STOP PLEASE", "ok stop", "baja por favor";
- clauses: a keyword that is a clause of its own ("Who is this? Stop"), or that opens
  or closes one; laughter around it makes it the "Stop!" of chat.

Phrases in words are :mod:`optline.domain.phrase_rules`'s. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import wordfreq

from optline.domain import vocabulary as vocab
from optline.domain.clauses import core_words, quoted
from optline.domain.policy import Intent, KeywordMatch, KeywordSet
from optline.domain.text import BREAK, squeeze, typos
from optline.domain.verdicts import Verdict, Verdicts

# A typo that wordfreq sees at least once per million words (Zipf 3) is a word someone
# meant to write ("atop", "quot"), not a slip.
_ORDINARY_ZIPF = 3.0
_MIN_TYPO_LENGTH = 4

_SARCASM = re.compile(vocab.SARCASM)


def _is_ordinary(token: str, language: str) -> bool:
    return any(wordfreq.zipf_frequency(token, code) >= _ORDINARY_ZIPF for code in {language, "en"})


class KeywordReader:
    """Typo and spelling tables for one policy's keyword sets, and the readings of a
    word or clause as one of its keywords."""

    def __init__(
        self,
        keywords: Mapping[str, KeywordSet],
        index: Mapping[str, KeywordMatch],
        verdicts: Verdicts,
    ):
        self.verdicts = verdicts
        # A plain dict: its look-ups cost less than the policy's read-only view's.
        self.index = dict(index)
        # Most words in one keyword: a longer run of words cannot be a keyword.
        self.longest = max((form.count(" ") + 1 for form in index), default=0)
        self.typos = self._typo_table(keywords, index)
        self.spellings = self._spelling_table(index)
        # A word of an opt-out keyword, or a typo or spelling of one: worth splitting
        # into clauses.
        opt_out_words = frozenset(
            word
            for form, match in index.items()
            if match.intent is Intent.OPT_OUT
            for word in form.split()
        )
        self.keyword_words = opt_out_words | frozenset(self.typos) | frozenset(self.spellings)

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
                return self.verdicts.get(key) or self.verdicts.keep(
                    key,
                    Verdict(
                        match.intent,
                        f"{quoted(token).upper()} is the keyword {match.keyword.upper()} "
                        f"with letters repeated ({match.language})",
                        match,
                    ),
                )
        return None

    def _bare_keyword(self, core: list[str], typos_on: bool) -> Verdict | None:
        """The message without its fillers is a keyword: "Stop. Thank you"."""
        if len(core) <= self.longest:
            match = self.index.get(" ".join(core))
            if match is not None:
                key = ("filler", match.keyword)
                return self.verdicts.get(key) or self.verdicts.keep(
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
        return self.verdicts.get(key) or self.verdicts.keep(
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
        return self.verdicts.get(key) or self.verdicts.keep(
            key,
            Verdict(
                Intent.OPT_OUT,
                f"{quoted(token).upper()} {how} the opt-out keyword {match.keyword.upper()} "
                f"({match.language})",
                match,
            ),
        )

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
        return self.verdicts.get(key) or self.verdicts.keep(
            key,
            Verdict(
                Intent.POSSIBLE_OPT_OUT,
                f"the keyword {match.keyword.upper()} among laughter or delight, as an "
                f"exclamation ({match.language})",
                match,
            ),
        )

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
                return self.verdicts.get(key) or self.verdicts.keep(
                    key,
                    Verdict(
                        Intent.OPT_OUT,
                        f"a clause of its own is the opt-out keyword "
                        f"{match.keyword.upper()} ({match.language})",
                        match,
                    ),
                )
            key = ("weak clause", match.keyword)
            return self.verdicts.get(key) or self.verdicts.keep(
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
            return self.verdicts.get(ends) or self.verdicts.keep(
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
            return self.verdicts.get(opens) or self.verdicts.keep(
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
