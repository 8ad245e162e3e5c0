"""The learned stage: a character n-gram logistic regression over what the rules leave.

Belongs here: the model's features, its scoring, the nearest labelled example of a
text, and reading the model file shipped with the package (``data/``). Training is
:mod:`optline.train`'s (scikit-learn, a ``train`` extra); scoring is plain Python over
the weight table, so the run time needs nothing heavy.

Features: the distinct character n-grams (2 to 5 characters) of a text's folded words
joined by single spaces, with a space at each end and a ``?`` word when the text asks
a question; each gram in the model's vocabulary weighs 1/sqrt(k), k being how many of
them the text has (binary features, L2-normalised). The probability of an opt-out is
the logistic function of the intercept plus the weighted sum.

Heads: beside the opt-out model, one model per other class the rules miss with extra
words (help, opt-in), each the same features against every other label, with its own
threshold; read only on a short text the rules and the opt-out model leave as none,
and trusted only with a labelled example of its class nearest.

Nearest example: the labelled example whose gram set has the highest cosine with the
text's; candidates come from an index of the examples' 4-grams (grams shared by many
examples are left out), so a look-up costs a few dict reads, not a pass
over every example. The model file ships the index, so loading builds nothing.
Where that example is an opt-out nearly the same as the text (``sure_at``), a
probability in the possible band is enough for an opt-out (:meth:`Model.opts_out`).
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from optline.domain.text import fold, folded_words
from optline.domain.vocabulary import NEGATORS

#: The shipped model's file, inside this package's ``data`` folder.
MODEL_FILE = "optout-ngram-v1.json"
FORMAT = "optline-ngram-logreg"
FORMAT_VERSION = 2
NGRAM_SIZES = (2, 3, 4, 5)
# A text is scored on its first this many characters of words: the cost stays bounded,
# and a request to stop is rarely buried deeper in a text message.
MAX_FORM_LENGTH = 320
# The index of 4-grams leaves out grams more examples than this share.
_MAX_POSTINGS = 150
# Two CJK ideographs or kana in a row: a phrase in a script written without spaces.
_IDEOGRAPHS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{2}")
# The heads read texts of at most this many words: help and opt-in requests are short.
HEAD_MAX_WORDS = 12
# The classes the heads read, in the order they are tried.
HEAD_LABELS = ("help", "opt_in")
# Exact similarity is worked out for this many candidates with the most shared 4-grams.
_CANDIDATES = 12


def model_form(text: str) -> str:
    """What the model reads of ``text``: its folded words, and ``?`` for a question."""
    folded = text.lower() if text.isascii() else fold(text)
    return form_of(folded, folded_words(folded))


def form_of(folded: str, words: Sequence[str]) -> str:
    """:func:`model_form` of a text already folded and split into ``words``."""
    form = " ".join(words)[:MAX_FORM_LENGTH]
    return f"{form} ?" if "?" in folded else form


def may_read(words: Iterable[str]) -> bool:
    """Whether the model reads a text of ``words`` at all: not where a negation stands
    ("please do not take me off the list", "i do not text"). The rules read negations;
    character n-grams cannot tell "do not text me" from "I do not text"."""
    return NEGATORS.isdisjoint(words)


def may_opt_out(words: Sequence[str]) -> bool:
    """Whether the model may opt out a text of ``words`` alone: not a one-word text,
    which is the typo rules' to read ("quite" and "stoop" are words, not typos). A
    Chinese or Japanese reply is written without spaces, so one "word" of two or more
    ideographs is a phrase ("不要再发短信给我了"), not a word."""
    return len(words) >= 2 or any(_IDEOGRAPHS.search(word) for word in words)


def grams(form: str) -> set[str]:
    """The distinct character n-grams of ``form`` with a space at each end."""
    padded = f" {form} "
    last = len(padded)
    return {padded[i : i + n] for n in NGRAM_SIZES for i in range(last - n + 1)}


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled reply of the training data, as the model file keeps it."""

    text: str
    label: str


@dataclass(frozen=True, slots=True)
class Neighbour:
    example: Example
    similarity: float


@dataclass(frozen=True, slots=True)
class Head:
    """A one-against-the-rest model of one class (help, opt-in) over the same grams."""

    label: str
    weights: dict[str, float]
    intercept: float
    # Probability at or above which a text is read as ``label``.
    at: float

    def probability(self, found: set[str]) -> float:
        return _score(self.weights, self.intercept, found)


@dataclass(slots=True)
class Model:
    """Weights, thresholds and labelled examples of one trained model."""

    weights: dict[str, float]
    intercept: float
    # Probability at or above which a text is an opt-out (with a close opt-out example).
    opt_out_at: float
    # Probability at or above which, below ``opt_out_at``, it is a possible opt-out.
    possible_at: float
    # Lowest cosine similarity of the nearest opt-out example for an automatic opt-out.
    neighbour_at: float
    examples: tuple[Example, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    heads: tuple[Head, ...] = ()
    # Cosine similarity at or above which an opt-out example so alike ("opt ot" beside
    # "opt ot!") opts a text out with a probability in the possible band.
    sure_at: float = 2.0
    # The examples' 4-gram index (:func:`index_of`), as the model file ships it; built
    # by :meth:`prepare` when a file lacks it.
    index: dict[str, list[int]] | None = None
    # Each example's gram set, once a look-up has needed it.
    _grams: dict[int, frozenset[str]] = field(default_factory=dict, init=False)

    def prepare(self) -> dict[str, list[int]]:
        """The nearest-example index, built once if the model file did not hold it."""
        if self.index is None:
            self.index = index_of([model_form(e.text) for e in self.examples])
        return self.index

    def opts_out(self, probability: float, near: Neighbour | None, alone: bool) -> bool:
        """Whether a text the model scores ``probability`` with the nearest example
        ``near`` is an opt-out of the model's own, where ``alone`` (:func:`may_opt_out`):
        at the opt-out threshold with an opt-out example close enough, or in the
        possible band with an opt-out example at least ``sure_at`` alike."""
        if not alone or near is None or near.example.label != "opt_out":
            return False
        if probability < self.possible_at:
            return False
        if near.similarity >= self.sure_at:
            return True
        return probability >= self.opt_out_at and near.similarity >= self.neighbour_at

    def probability(self, form: str) -> float:
        """The model's probability that the text of ``form`` asks to stop."""
        return _score(self.weights, self.intercept, grams(form))

    def probability_of(self, found: set[str]) -> float:
        """:meth:`probability` of a text whose grams (:func:`grams`) are ``found``."""
        return _score(self.weights, self.intercept, found)

    def head_reading(
        self, form: str, stops: frozenset[str], found: set[str] | None = None
    ) -> tuple[Head, float] | None:
        """The head (help, opt-in) most sure of the text of ``form`` at or above its
        threshold, with its probability; None where no head is, the text is long, or
        it holds one of the words ``stops`` (the policy's opt-out keywords' words, their
        typos and spellings: "stop start" is the rules' to read). ``found``: the text's
        grams, where already made."""
        if not heads_read(form, stops) or not self.heads:
            return None
        if found is None:
            found = grams(form)
        best: tuple[Head, float] | None = None
        for head in self.heads:
            probability = head.probability(found)
            if probability >= head.at and (best is None or probability > best[1]):
                best = (head, probability)
        return best

    def nearest(self, form: str) -> Neighbour | None:
        """The labelled example most like the text of ``form``, and how alike (cosine)."""
        mine = grams(form)
        shared: Counter[int] = Counter()
        postings = self.prepare()
        for gram in mine:
            ids = postings.get(gram) if len(gram) == 4 else None
            if ids is not None:
                shared.update(ids)
        best: Neighbour | None = None
        # Ties broken by example order, not by the set's (hash-seeded) order.
        for i, _ in heapq.nsmallest(_CANDIDATES, shared.items(), key=_most_shared):
            theirs = self._grams.get(i)
            if theirs is None:
                theirs = self._grams[i] = frozenset(grams(model_form(self.examples[i].text)))
            similarity = len(mine & theirs) / math.sqrt(len(mine) * len(theirs))
            if best is None or similarity > best.similarity:
                best = Neighbour(self.examples[i], similarity)
        return best

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
            raise ValueError(f"not a version {FORMAT_VERSION} {FORMAT} model")
        thresholds = data["thresholds"]
        return cls(
            weights=data["weights"],
            intercept=float(data["intercept"]),
            opt_out_at=float(thresholds["opt_out"]),
            possible_at=float(thresholds["possible_opt_out"]),
            neighbour_at=float(thresholds["neighbour"]),
            sure_at=float(thresholds.get("sure_neighbour", 2.0)),
            examples=examples_of(data["examples"]),
            index=data.get("neighbour_index"),
            meta={k: data[k] for k in ("training", "cross_validation") if k in data},
            heads=tuple(
                Head(
                    label,
                    heads[label]["weights"],
                    float(heads[label]["intercept"]),
                    float(thresholds[label]),
                )
                for heads in [data.get("heads", {})]
                for label in HEAD_LABELS
                if label in heads
            ),
        )


def heads_read(form: str, stops: frozenset[str]) -> bool:
    """Whether the heads read the text of ``form`` (see :meth:`Model.head_reading`)."""
    return form.count(" ") < HEAD_MAX_WORDS and stops.isdisjoint(form.split())


def index_of(forms: Sequence[str]) -> dict[str, list[int]]:
    """Example number by 4-gram of the examples' model ``forms``, without the grams more
    than _MAX_POSTINGS examples share (they would find everything)."""
    postings: defaultdict[str, list[int]] = defaultdict(list)
    for i, form in enumerate(forms):
        padded = f" {form} "
        for gram in {padded[j : j + 4] for j in range(len(padded) - 3)}:
            postings[gram].append(i)
    return {g: ids for g, ids in sorted(postings.items()) if len(ids) <= _MAX_POSTINGS}


def _most_shared(item: tuple[int, int]) -> tuple[int, int]:
    return -item[1], item[0]


def examples_of(rows: Iterable[Sequence[str]]) -> tuple[Example, ...]:
    return tuple(Example(text, label) for text, label in rows)


def _score(weights: dict[str, float], intercept: float, found_grams: Iterable[str]) -> float:
    """The logistic of the intercept plus the L2-normalised sum of the grams' weights."""
    found = [w for w in map(weights.get, found_grams) if w is not None]
    if not found:
        return _logistic(intercept)
    return _logistic(intercept + math.fsum(found) / math.sqrt(len(found)))


def _logistic(z: float) -> float:
    if z < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def model_text() -> str:
    """The shipped model file's text."""
    return resources.files("optline.domain").joinpath("data", MODEL_FILE).read_text("utf-8")


@cache
def shipped() -> Model:
    """The model shipped inside the package, read once per process."""
    return Model.from_json(json.loads(model_text()))
