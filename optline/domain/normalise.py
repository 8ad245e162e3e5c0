"""Look-alike spellings read as the letters they imitate, before any stage reads a text.

Belongs here: the three foldings that make a disguised keyword plain, each applied
where it cannot turn an ordinary word into a keyword.

- Confusables: a letter of another script drawn like a Latin one (Cyrillic "ЅТОР",
  Greek "ΟΡΤ ΟUΤ") is read as that Latin letter. The table comes from Unicode's
  confusables data (UTS #39) as the ``confusable_homoglyphs`` package ships it, not
  from a list of our own; :func:`optline.domain.text.fold` applies it to every
  non-ASCII text, after NFKC.
- Digits and symbols standing for letters ("5T0P", "$TOP", "UN$UB"): a word holding
  one is read with the letters it imitates only when that reading is one of the
  policy's keyword words, so "10am" or "2nite" are left alone.
- A text of nothing but emoji and punctuation with a stop sign in it (🛑, ⛔) reads as
  STOP: the sign says what the word would.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Container
from functools import cache

from confusable_homoglyphs import confusables

# Digits and symbols written for letters; the first reading is tried first.
_LEET: dict[str, str] = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "$": "s",
    "@": "a",
    "|": "li",
    "!": "i",
    "+": "t",
    "€": "e",
}
_LEET_CHAR = re.compile("[" + re.escape("".join(_LEET)) + "]")
# A whitespace-separated piece with a letter and one of the characters above in it.
_PIECE = re.compile(r"\S+")
# Punctuation that ends or opens a word rather than standing for a letter in it.
_EDGE_PUNCTUATION = ".,;:?!\"'()[]"
# Each reading of a word is tried against the keyword words: a bound on how many.
_MAX_READINGS = 32

#: Emoji whose meaning is "stop" (U+1F6D1 OCTAGONAL SIGN, U+26D4 NO ENTRY).
STOP_SIGNS = frozenset({"\U0001f6d1", "\u26d4"})


@cache
def confusable_table() -> dict[int, str]:
    """Non-ASCII characters that Unicode lists as confusable with a Latin letter, each
    mapped to that letter (one hop further where the listed look-alike is itself
    non-ASCII, as Cyrillic "т" -> "ᴛ" -> "T")."""
    data = confusables.confusables_data

    def latin(char: str) -> str | None:
        found = [h["c"] for h in data.get(char, ()) if len(h["c"]) == 1 and h["c"].isascii()]
        letters = sorted(c for c in found if c.isalpha())
        return letters[0] if letters else None

    table: dict[int, str] = {}
    for char in sorted(data):
        if len(char) != 1 or char.isascii():
            continue
        # Unicode lists some lowercase look-alikes under their capital only ("т": "Т").
        found = latin(char) or (latin(char.upper()) if len(char.upper()) == 1 else None)
        if found is None:
            for glyph in data[char]:
                if len(glyph["c"]) == 1 and not glyph["c"].isascii():
                    found = latin(glyph["c"])
                    if found is not None:
                        break
        if found is not None:
            table[ord(char)] = found.lower()
    return table


def has_look_alikes(folded: str) -> bool:
    """Whether ``folded`` holds a digit or symbol that may stand for a letter."""
    return _LEET_CHAR.search(folded) is not None


def unleet(folded: str, keyword_words: Container[str]) -> str:
    """``folded`` with each word spelled in digits or symbols read as letters, where
    that reading is one of ``keyword_words`` ("5t0p" -> "stop"); other words as they were."""

    def reading(piece: re.Match[str]) -> str:
        word = piece.group()
        core = word.strip(_EDGE_PUNCTUATION) or word
        if not _LEET_CHAR.search(core) or not any(c.isalpha() for c in core):
            return word
        options = [_LEET.get(c, c) for c in core]
        for count, letters in enumerate(itertools.product(*options)):
            if count >= _MAX_READINGS:
                break
            candidate = "".join(letters)
            if candidate in keyword_words:
                return word.replace(core, candidate)
        return word

    return _PIECE.sub(reading, folded)


def stop_sign_only(text: str) -> bool:
    """A text of emoji and punctuation only, a stop sign among them: "🛑", "⛔⛔!"."""
    return not STOP_SIGNS.isdisjoint(text) and not any(c.isalnum() for c in text)
