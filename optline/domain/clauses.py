"""How the classifier reads the words around a match: where a long text's clauses
start and its question words stand (indexed once), the words just before a match,
whether they negate it, a message's words without the fillers at either end, and how
a reason quotes a long match. Pure, used by :mod:`optline.domain.keyword_reading`
and :mod:`optline.domain.phrase_rules`.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from optline.domain import vocabulary as vocab
from optline.domain.text import BREAK

# What a reason quotes of the words matched: a match may run across a long text.
MAX_QUOTED = 80

_BREAKS = re.compile(re.escape(BREAK))
# A question word as a whole word of a clause form (words between single spaces).
_QUESTION_WORD = re.compile(rf"(?<![^ ])(?:{'|'.join(sorted(vocab.QUESTION_WORDS))})(?![^ ])")


class Clauses:
    """Where the clauses of one clause form start and where its question words stand,
    found in one pass: each match's negation and question checks then read the few
    words before it, not its clause from the start (a long text of many negated
    phrases in one clause cost the square of its length that way)."""

    __slots__ = ("_breaks", "_question_ends", "_questions", "form")

    def __init__(self, form: str) -> None:
        self.form = form
        self._breaks = [hit.start() for hit in _BREAKS.finditer(form)]
        found = [hit.span() for hit in _QUESTION_WORD.finditer(form)]
        self._questions = [start for start, _ in found]
        self._question_ends = [end for _, end in found]

    def start_of(self, at: int) -> int:
        """Where the clause holding position ``at`` starts (after its break)."""
        index = bisect_left(self._breaks, at)
        return self._breaks[index - 1] + 1 if index else 0

    def question_between(self, start: int, end: int) -> bool:
        """Whether a question word stands whole within ``form[start:end]``."""
        index = bisect_left(self._questions, start)
        return index < len(self._questions) and self._question_ends[index] <= end


def last_words(form: str, start: int, end: int, count: int) -> list[str]:
    """The last ``count`` words of ``form[start:end]`` (as ``split()`` gives them),
    read backwards from ``end``: the cost is their length, not the clause's."""
    found: list[str] = []
    stop = end
    while len(found) < count:
        while stop > start and form[stop - 1] == " ":
            stop -= 1
        if stop <= start:
            break
        space = form.rfind(" ", start, stop)
        begin = start if space < 0 else space + 1
        found.append(form[begin:stop])
        stop = begin
    found.reverse()
    return found


def quoted(text: str) -> str:
    """``text`` as a reason quotes it: a long one by its two ends."""
    if len(text) <= MAX_QUOTED:
        return text
    half = MAX_QUOTED // 2
    return f"{text[:half].rstrip()} ... {text[-half:].lstrip()}"


def core_words(words: list[str]) -> list[str]:
    """``words`` without filler words at either end; a repeated word once."""
    if words and words[0] not in vocab.FILLERS and words[-1] not in vocab.FILLERS:
        if len(words) > 1 and words[1] == words[0] and words.count(words[0]) == len(words):
            return words[:1]  # "STOP STOP STOP"
        return words
    start, end = 0, len(words)
    while start < end and words[start] in vocab.FILLERS:
        start += 1
    while end > start and words[end - 1] in vocab.FILLERS:
        end -= 1
    core = words[start:end]
    if len(core) > 1 and core.count(core[0]) == len(core):
        return core[:1]  # "STOP STOP STOP"
    return core


def negated(before: list[str]) -> bool:
    """A negation right before a phrase: "don't stop", "never ever stop", "not asking
    to unsubscribe"; or an undoing: "undo unsubscribe", "reverse my opt-out"."""
    if not before or before[-1] in vocab.NEGATION_BREAKERS:
        return False
    if before[-1] in vocab.NEGATORS or before[-1] in vocab.UNDOERS:
        return True
    if len(before) > 1 and before[-1] in {"my", "the", "that"} and before[-2] in vocab.UNDOERS:
        return True
    if (
        len(before) > 2
        and before[-1] == "to"
        and before[-2] in vocab.INTENDING
        and before[-3] in vocab.NEGATORS
    ):
        return True
    return (
        len(before) > 1
        and before[-1] in {"ever", "really", "just"}
        and (before[-2] in vocab.NEGATORS)
    )
