"""Look-alike normalisation (optline/domain/normalise.py) before every stage."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
from confusable_homoglyphs.confusables import is_mixed_script
from hypothesis import given, settings
from hypothesis import strategies as st

from optline import Intent, classify, get_profile
from optline.domain.normalise import confusable_table, stop_sign_only, unleet
from optline.domain.text import fold, folded_words

DATA = Path(__file__).resolve().parent / "data"
INDEX = get_profile("default").keyword_index
KEYWORD_WORDS = frozenset(word for form in INDEX for word in form.split())


def _ordinary_words() -> list[str]:
    """The words of every reply labelled none, as typed (punctuation and digits kept),
    less those mixing letters of two scripts ("Yеs" with a Cyrillic "е"): such a word
    is a look-alike spelling by construction, which normalising is meant to read."""
    found: set[str] = set()
    for path in sorted(DATA.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row["label"] == "none":
                    found.update(w for w in row["text"].split() if not is_mixed_script(w))
    return sorted(found)


ORDINARY = _ordinary_words()


@pytest.mark.parametrize(
    "text",
    [
        "ЅТОР",  # Cyrillic DZE, TE, O, ER
        "ЅТОР ΡLEASE",  # ... and a Greek RHO
        "ΟΡΤ ΟUΤ",  # Greek OMICRON, RHO, TAU
        "unѕubѕсribе",  # Cyrillic dze, es, ie among Latin letters
        "5T0P",
        "$TOP",
        "st0p",
        "UN$UB",
        "0PT 0UT",
        "qu1t",
        "🛑",
        "⛔",
        "🛑🛑!",
    ],
)
def test_look_alike_spellings_of_opt_out_keywords_opt_out(text: str) -> None:
    assert classify(text).intent is Intent.OPT_OUT
    assert classify(text, use_model=False).intent is Intent.OPT_OUT


def test_the_confusables_come_from_unicode_data_not_a_hand_table() -> None:
    table = confusable_table()
    assert len(table) > 1000  # UTS #39 lists thousands; a hand table would hold dozens
    assert table[ord("ѕ")] == "s" and table[ord("Ο")] == "o" and table[ord("т")] == "t"
    assert all(ch > 127 for ch in table)  # plain ASCII is never remapped
    assert fold("ЅТОР") == "stop"


def test_digits_are_read_as_letters_only_where_they_spell_a_keyword_word() -> None:
    assert unleet("5t0p texting", KEYWORD_WORDS) == "stop texting"
    for text in ("see you at 10am", "2nite", "l8r", "call 555-0100", "room 101", "$5 off"):
        assert unleet(text, KEYWORD_WORDS) == text


def test_a_stop_sign_counts_only_without_words() -> None:
    assert stop_sign_only("🛑") and stop_sign_only(" ⛔ 😤 ")
    assert not stop_sign_only("👍") and not stop_sign_only("🛑 sign is down on 5th")
    assert classify("👍").intent is Intent.NONE


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ORDINARY), min_size=1, max_size=4))
def test_normalising_never_turns_ordinary_words_into_a_keyword(words: list[str]) -> None:
    """Words of replies labelled none: no word becomes a keyword word that was not one,
    and the text does not become a whole keyword."""
    text = " ".join(words)
    plain = folded_words(_fold_without_look_alikes(text))
    normalised = folded_words(unleet(fold(text), KEYWORD_WORDS))
    assert not (set(normalised) - set(plain)) & KEYWORD_WORDS, (text, normalised)
    assert " ".join(normalised) not in INDEX or " ".join(plain) in INDEX


def _fold_without_look_alikes(text: str) -> str:
    """fold() as it was before confusables: NFKC, casefold, accents removed."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
