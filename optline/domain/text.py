"""Text normalisation for keyword matching.

CTIA Messaging Principles 5.1.3 ask senders to ignore "de minimis variances" such as
capitalisation and punctuation, so every inbound text is reduced to a canonical form
before any keyword is compared: Unicode NFKC (full-width and other compatibility forms
such as "ＳＴＯＰ" become plain letters), look-alike letters of other scripts read as
the Latin ones they imitate (:mod:`optline.domain.normalise`), casefold, zero-width and other format
characters removed, accents folded ("ARRÊT" -> "arret"), punctuation and emoji dropped,
and a word spelled out letter by letter ("S T O P") joined back together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from optline.domain.normalise import confusable_table

# Letters and digits only: punctuation, symbols, emoji and underscores separate words.
_WORD = re.compile(r"[^\W_]+")
# Words, and the punctuation that ends a clause ("Stop. Thank you", "Wrong number, stop").
# An en or em dash ends one too ("Stop \u2014 Mike"), and so does a hyphen between spaces
# ("Stop - Mike"), read as a comma; a hyphen inside a word ("laissez-moi") does not.
_WORD_OR_BREAK = re.compile(r"[^\W_]+|[.,;:!?\n\u2013\u2014]+")
_SPACED_HYPHEN = re.compile(r"(?<=\s)-+(?=\s)")
# Clause-ending punctuation with a word after it.
_INNER_BREAK = re.compile(r"[.,;:!?\n\u2013\u2014][^\w]*[^\W_]")
# The three above for ASCII text, most replies: on it they find exactly the same, and a
# plain character range is much quicker to test than a Unicode category.
_ASCII_WORD = re.compile(r"[a-zA-Z0-9]+")
_ASCII_WORD_OR_BREAK = re.compile(r"[a-zA-Z0-9]+|[.,;:!?\n]+")
_ASCII_INNER_BREAK = re.compile(r"[.,;:!?\n][^a-zA-Z0-9_]*[a-zA-Z0-9]")
# The same letter three or more times in a row: emphasis, not spelling ("stopppp").
_REPEAT = re.compile(r"([^\W\d_])\1{2,}")

#: Stands for a clause break in :func:`clause_form`.
BREAK = "|"


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Texts up to this long are folded once and kept (keywords and short replies come
# again and again); a longer one is folded each time, so that a stream of long texts
# cannot fill the cache with megabytes of text each.
_KEPT_FOLD_LENGTH = 160


def _fold_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    # Letters of other scripts drawn like Latin ones ("ЅТОР"): UTS #39 confusables.
    text = text.translate(confusable_table())
    # Cf covers zero-width spaces/joiners, soft hyphens, BOMs and bidi controls.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _strip_marks(text.casefold())


_fold_kept = lru_cache(maxsize=65536)(_fold_text)


def fold(text: str) -> str:
    """Casefolded, accent-free, compatibility-normalised text (punctuation kept)."""
    if text.isascii():
        return text.lower()
    return _fold_kept(text) if len(text) <= _KEPT_FOLD_LENGTH else _fold_text(text)


def words(text: str) -> list[str]:
    """The folded words of ``text``: letters and digits only."""
    return folded_words(fold(text))


def folded_words(folded: str) -> list[str]:
    """:func:`words` of text that is already :func:`fold`-ed."""
    if folded.replace(" ", "").isalnum():
        # Letters and digits between single spaces, as many replies are: splitting on
        # the spaces gives the same words at a fraction of the cost.
        return folded.split()
    return (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)


def clause_form(folded: str) -> str:
    """Words of :func:`fold`-ed text joined by spaces, ``|`` where punctuation ends a clause.

    "wrong number. stop!" -> "wrong number | stop |"; phrase rules matched against
    this form cannot run across two clauses.
    """
    if " -" in folded:
        folded = _SPACED_HYPHEN.sub(",", folded)
    found = (_ASCII_WORD_OR_BREAK if folded.isascii() else _WORD_OR_BREAK).findall(folded)
    return " ".join([tok if tok[0].isalnum() else BREAK for tok in found])


def has_inner_break(folded: str) -> bool:
    """Does punctuation end a clause before the last word? ("Stop. Thanks", not "Stop!")"""
    if " -" in folded:
        folded = _SPACED_HYPHEN.sub(",", folded)
    found = (_ASCII_INNER_BREAK if folded.isascii() else _INNER_BREAK).search(folded)
    return found is not None


def squeeze(word: str) -> str:
    """``word`` with letters repeated for emphasis written once: "stopppp" -> "stop"."""
    return _REPEAT.sub(r"\1", word)


def join_spelled_out(tokens: list[str]) -> list[str]:
    """Join a message spelled out letter by letter: ["s", "t", "o", "p"] -> ["stop"]."""
    if len(tokens) >= 2 and len(tokens[0]) == 1 and all(len(t) == 1 for t in tokens):
        return ["".join(tokens)]
    return tokens


def keyword_form(text: str) -> str:
    """The whole message as one comparable phrase: "  Stop!! " -> "stop", "S T O P" -> "stop"."""
    return " ".join(join_spelled_out(words(text)))


def normalise_keyword(keyword: str) -> str:
    """A configured keyword in the same form as :func:`keyword_form` of a message."""
    form = keyword_form(keyword)
    if not form:
        raise ValueError(f"keyword {keyword!r} has no letters or digits")
    return form


_QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _qwerty_neighbours() -> dict[str, str]:
    """Keys touching each letter key on a staggered QWERTY keyboard."""
    where = {ch: (r, c) for r, row in enumerate(_QWERTY) for c, ch in enumerate(row)}
    near: dict[str, str] = {}
    for ch, (r, c) in where.items():
        spots = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)]
        near[ch] = "".join(
            _QWERTY[rr][cc] for rr, cc in spots if 0 <= rr < 3 and 0 <= cc < len(_QWERTY[rr])
        )
    return near


_NEAR = _qwerty_neighbours()


def typos(word: str) -> Iterator[str]:
    """Every one-slip misspelling of ``word``: a letter missing, doubled, swapped with
    the next, or a neighbouring QWERTY key instead of it or pressed with it."""
    for i, ch in enumerate(word):
        head, tail = word[:i], word[i + 1 :]
        yield head + tail  # missing letter
        yield head + ch + ch + tail  # doubled letter
        for key in _NEAR.get(ch, ""):
            yield head + key + tail  # neighbouring key instead
            yield head + ch + key + tail  # neighbouring key pressed too, after
            yield head + key + ch + tail  # ... or before
        if tail:
            yield head + tail[0] + ch + tail[1:]  # swapped with the next letter
