"""Normalisation before matching (issue 2 section 2; CTIA 5.1.3 "de minimis variances")."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optline.domain import text as text_module
from optline.domain.text import (
    clause_form,
    fold,
    folded_words,
    keyword_form,
    normalise_keyword,
    squeeze,
)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("STOP", "stop"),  # casefold
        ("Stop", "stop"),
        ("ＳＴＯＰ", "stop"),  # NFKC: full-width letters
        ("ｓｔｏｐ！", "stop"),  # full-width punctuation too
        ("S\u200bTOP", "stop"),  # zero-width space
        ("\ufeffSTOP\u200d", "stop"),  # byte-order mark, zero-width joiner
        ("ST\u00adOP", "stop"),  # soft hyphen
        ("Stop.", "stop"),  # punctuation
        ("STOP!!!", "stop"),
        ("  stop \n", "stop"),  # surrounding whitespace
        ("🛑 STOP 🛑", "stop"),  # emoji
        ('"STOP"', "stop"),
        ("S T O P", "stop"),  # spelled out
        ("s.t.o.p", "stop"),
        ("S-T-O-P", "stop"),
        ("ARRÊT", "arret"),  # accents folded
        ("DÉSABONNER", "desabonner"),
        ("NO MÁS", "no mas"),
        ("Opt-Out", "opt out"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("", ""),
        ("!!! ...", ""),
    ],
)
def test_keyword_form(text: str, form: str) -> None:
    assert keyword_form(text) == form


def test_spelled_out_letters_join_only_when_every_word_is_one_letter() -> None:
    assert keyword_form("I T S ok") == "i t s ok"
    assert keyword_form("S") == "s"


def test_fold_keeps_punctuation_and_drops_format_characters() -> None:
    assert fold("Arrêt, s'il vous plaît!") == "arret, s'il vous plait!"
    assert fold("a\u200bb") == "ab"


def test_clause_form_marks_clause_breaks() -> None:
    assert clause_form(fold("Wrong number. STOP!")) == "wrong number | stop |"
    assert clause_form(fold("Stop, thanks")) == "stop | thanks"
    assert clause_form(fold("I'll stop by at 5")) == "i ll stop by at 5"


@pytest.mark.parametrize(
    ("word", "plain"),
    [("stopppp", "stop"), ("stooop", "stop"), ("stopp", "stopp"), ("cancel", "cancel")],
)
def test_squeeze_writes_emphasised_letters_once(word: str, plain: str) -> None:
    assert squeeze(word) == plain


def test_a_keyword_needs_letters_or_digits() -> None:
    with pytest.raises(ValueError, match="no letters"):
        normalise_keyword("!!")


_ANY_WORD = re.compile(r"[^\W_]+")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZé 1_.,'\t\n\u200b!ß"), max_size=40) | st.text())
def test_words_are_the_runs_of_letters_and_digits(text: str) -> None:
    # Replies with no punctuation are split on spaces instead: the same words either way.
    assert folded_words(fold(text)) == _ANY_WORD.findall(fold(text))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_ascii_patterns_find_what_the_unicode_ones_do(text: str) -> None:
    # ASCII replies are read with quicker patterns; they must find exactly the same.
    folded = fold(text)
    assert text_module._ASCII_WORD.findall(folded) == text_module._WORD.findall(folded)
    assert text_module._ASCII_WORD_OR_BREAK.findall(folded) == (
        text_module._WORD_OR_BREAK.findall(folded)
    )
    assert bool(text_module._ASCII_INNER_BREAK.search(folded)) == bool(
        text_module._INNER_BREAK.search(folded)
    )


def test_long_texts_are_folded_without_being_kept() -> None:
    """Short texts are folded once and kept; a long one is folded afresh each time, so
    that a stream of long texts cannot fill memory with copies of them."""
    kept = text_module._fold_kept
    kept.cache_clear()
    assert fold("ARRÊT") == "arret"
    long = "Arrêt, s'il vous plaît. " * 2000
    assert fold(long) == "arret, s'il vous plait. " * 2000
    assert kept.cache_info().currsize == 1
