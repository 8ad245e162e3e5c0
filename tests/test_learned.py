"""The learned stage (optline/domain/learned.py), its place behind the rules in
classify(), and the shipped model's provenance (optline/train.py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optline import Intent, classify
from optline.domain import learned
from optline.domain.classify import Stage
from optline.train import (
    DATA,
    _combined,
    _Scored,
    data_files,
    data_hash,
    head_probabilities,
    load,
    train,
    words_of,
)

SHIPPED = json.loads(learned.model_text())
ROWS = load(DATA)


def test_the_shipped_model_was_trained_on_the_data_in_tests_data() -> None:
    # Fails when a reply is added, changed or removed under tests/data without a
    # retrain (python -m optline.train): the model must match its recorded data.
    training = SHIPPED["training"]
    assert training["data_sha256"] == data_hash(DATA)
    assert training["files"] == [p.relative_to(DATA).as_posix() for p in data_files(DATA)]
    assert any(name.startswith("replies/") for name in training["files"])
    assert training["rows"] == len(ROWS)


def test_the_model_file_records_how_it_was_made_and_stays_small() -> None:
    assert SHIPPED["format"] == learned.FORMAT and SHIPPED["version"] == learned.FORMAT_VERSION
    assert {"scikit-learn", "numpy", "scipy", "python"} <= set(SHIPPED["training"]["libraries"])
    assert isinstance(SHIPPED["training"]["seed"], int)
    at = SHIPPED["thresholds"]
    assert 0 < at["possible_opt_out"] <= at["opt_out"] < 1 and 0 < at["neighbour"] <= 1
    cv = SHIPPED["cross_validation"]
    assert {"rules", "model_alone", "rules_then_model", "per_language"} <= set(cv)
    assert len(learned.model_text().encode()) < 5_000_000


@pytest.mark.slow  # retrains: about a minute; deselect with -m "not slow"
def test_training_reproduces_the_shipped_model_byte_for_byte() -> None:
    assert train(DATA) == learned.model_text()


def _model(
    intercept: float,
    examples: list[tuple[str, str]],
    neighbour_at: float = 0.5,
    sure_at: float = 2.0,
) -> learned.Model:
    """A model that gives every text the same probability (no weights)."""
    return learned.Model(
        weights={},
        intercept=intercept,
        opt_out_at=0.9,
        possible_at=0.6,
        neighbour_at=neighbour_at,
        examples=learned.examples_of(examples),
        sure_at=sure_at,
    )


# Texts about purging contact details: wording the rules do not read.
EXAMPLES = [
    ("please purge my contact details from the roster", "opt_out"),
    ("see you at the dentist tomorrow", "none"),
]
SURE = _model(5.0, EXAMPLES)  # probability 0.993
UNSURE = _model(0.8, EXAMPLES)  # probability 0.69: in the band
NEVER = _model(-50.0, EXAMPLES)


def test_an_opt_out_of_the_model_names_its_stage_and_nearest_example() -> None:
    got = classify("purge my contact details pls", model=SURE)
    assert got.intent is Intent.OPT_OUT and got.stage is Stage.MODEL
    assert got.reason.startswith(
        "model stage: like 'please purge my contact details from the roster' (0."
    )
    assert "opt-out probability 0.99" in got.reason


def test_without_a_close_opt_out_example_the_model_only_flags() -> None:
    far = classify("erase my data from your servers", model=SURE)
    assert far.intent is Intent.POSSIBLE_OPT_OUT and far.stage is Stage.MODEL
    strict = _model(5.0, EXAMPLES, neighbour_at=0.99)
    assert classify("purge my contact details pls", model=strict).intent is Intent.POSSIBLE_OPT_OUT


def test_the_band_below_the_threshold_is_a_possible_opt_out() -> None:
    got = classify("purge my contact details pls", model=UNSURE)
    assert got.intent is Intent.POSSIBLE_OPT_OUT
    assert "below what opts out alone" in got.reason
    assert classify("purge my contact details pls", model=NEVER).intent is Intent.NONE


def test_in_the_band_a_nearly_identical_opt_out_example_opts_out() -> None:
    examples = [*EXAMPLES, ("annulla iscrizione", "opt_out"), ("quiite", "opt_out")]
    band, sure = _model(0.8, examples), _model(0.8, examples, sure_at=0.95)
    for text in ("Please purge my contact details from the roster!", "Annulla iscrizione"):
        assert classify(text, model=band).intent is Intent.POSSIBLE_OPT_OUT
        got = classify(text, model=sure)
        assert got.intent is Intent.OPT_OUT and got.stage is Stage.MODEL
    # Alike, but not nearly the same: still only flagged. One word stays the rules'.
    assert classify("purge my contact details pls", model=sure).intent is Intent.POSSIBLE_OPT_OUT
    assert classify("quiite", model=sure).intent is Intent.POSSIBLE_OPT_OUT
    never = _model(-50.0, examples, sure_at=0.95)
    assert classify("Annulla iscrizione", model=never).intent is Intent.NONE


def test_negated_and_one_word_texts_are_left_to_the_rules() -> None:
    assert classify("I do not purge my contact details", model=SURE).intent is Intent.NONE
    assert classify("quite", model=SURE).intent is Intent.POSSIBLE_OPT_OUT


def test_a_chinese_reply_without_spaces_is_a_phrase_not_a_word() -> None:
    chinese = _model(5.0, [("我对你们的短信非常反感", "opt_out")])
    assert learned.may_opt_out(["不要再发短信给我了"]) and not learned.may_opt_out(["quite"])
    assert classify("我对你们的短信很反感", use_model=False).intent is Intent.NONE
    got = classify("我对你们的短信很反感", model=chinese)
    assert got.intent is Intent.OPT_OUT and got.stage is Stage.MODEL


@pytest.mark.parametrize("text", ["STOP", "Stop.", "please stop texting me", "ARRÊT", "5T0P"])
def test_the_model_never_lowers_an_opt_out_of_the_rules(text: str) -> None:
    for model in (NEVER, SURE):
        got = classify(text, model=model)
        assert got.intent is Intent.OPT_OUT and got.stage in (Stage.KEYWORD, Stage.RULES)


def test_keywords_opt_in_and_help_are_not_the_models_to_read() -> None:
    for text in ("START", "HELP", "yes"):
        assert classify(text, model=SURE) == classify(text, use_model=False)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([row.text for row in ROWS]))
def test_the_learned_stage_only_ever_raises_the_rules_reading(text: str) -> None:
    rules, both = classify(text, use_model=False), classify(text)
    if rules.intent is Intent.OPT_OUT:
        assert both == rules
    elif rules.intent is Intent.POSSIBLE_OPT_OUT:
        assert both.intent in (Intent.OPT_OUT, Intent.POSSIBLE_OPT_OUT)
    elif rules.intent is not Intent.NONE:
        assert both == rules


def test_training_reads_the_model_as_classify_does() -> None:
    """train._combined (used to choose thresholds) and classify agree on every row."""
    model = learned.shipped()
    at = {"opt_out": model.opt_out_at, "possible_opt_out": model.possible_at}
    at["neighbour"] = model.neighbour_at
    at["sure_neighbour"] = model.sure_at
    at |= {head.label: head.at for head in model.heads}
    for row in ROWS[::7]:
        form = learned.model_form(row.text)
        near = model.nearest(form)
        words = words_of(form)
        scored = _Scored(
            row,
            classify(row.text, use_model=False).intent.value,
            model.probability(form),
            ("none", 0.0) if near is None else (near.example.label, near.similarity),
            learned.may_read(words),
            learned.may_opt_out(words),
            head_probabilities(model, form),
        )
        got = classify(row.text)
        # The opt-in head's reading is noted in ``detected``, not acted on.
        read = got.detected if got.detected is Intent.OPT_IN else got.intent
        assert _combined(scored, at) == read.value, row.text


def test_the_nearest_example_is_found_through_the_index() -> None:
    model = learned.shipped()
    near = model.nearest(learned.model_form("I hereby withdraw my consent to be texted"))
    assert near is not None and near.similarity > 0.3
    assert near.example.label in ("opt_out", "possible_opt_out")


def test_the_shipped_model_reads_formal_wording_the_rules_miss() -> None:
    text = "Cease all further correspondence to this number."
    assert classify(text, use_model=False).intent is Intent.NONE
    got = classify(text)
    assert got.intent is Intent.OPT_OUT and got.reason.startswith("model stage: like ")


def test_scoring_needs_no_training_library() -> None:
    code = (
        "import sys, optline; optline.classify('I no longer consent to receiving texts'); "
        "print(sorted(m for m in ('sklearn', 'numpy', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_keyword_only_profiles_get_the_free_reading_in_detected() -> None:
    text = "Cease all further correspondence to this number."
    for name in ("twilio", "callrail", "krispcall", "command", "salesmsg"):
        got = classify(text, name)
        # Flagged for review (flag_plain_language), never an opt-out of the profile's own.
        assert got.intent is Intent.POSSIBLE_OPT_OUT and got.detected is Intent.OPT_OUT
        assert "read freely: model stage" in got.reason
        assert classify("please stop texting me", name).detected is Intent.OPT_OUT
        assert classify("STOP", name).detected is None
        assert classify("see you at noon", name).detected is None
    implicit = classify(text, "business_text")
    assert implicit.intent is Intent.POSSIBLE_OPT_OUT and implicit.detected is Intent.OPT_OUT


def _with_heads(probability: float) -> learned.Model:
    """NEVER's opt-out reading, with help and opt-in heads that give every text
    ``probability`` (no weights) at a threshold of 0.9."""
    model = _model(-50.0, [*EXAMPLES, ("can someone help me with these alerts", "help")])
    model.heads = tuple(
        learned.Head(label, {}, math.log(probability / (1 - probability)), 0.9)
        for label in learned.HEAD_LABELS
    )
    return model


def test_a_head_reads_help_the_rules_miss_with_a_help_example_nearest() -> None:
    text = "can somebody help me with the alerts"
    assert classify(text, use_model=False).intent is Intent.NONE
    got = classify(text, model=_with_heads(0.95))
    assert got.intent is Intent.HELP and got.stage is Stage.MODEL
    assert "help probability 0.95" in got.reason
    # Below the head's threshold, or with no help example nearest, the rules' none stands.
    assert classify(text, model=_with_heads(0.5)).intent is Intent.NONE
    assert classify("purge my contact details", model=_with_heads(0.95)).intent is Intent.NONE


def test_the_opt_in_head_only_notes_an_opt_in_and_subscribes_nobody() -> None:
    model = _with_heads(0.95)
    model.heads = tuple(head for head in model.heads if head.label == "opt_in")
    model.examples = learned.examples_of(
        [*EXAMPLES, ("send me the appointment reminders", "opt_in")]
    )
    text = "send me appointment reminders"
    assert classify(text, use_model=False).intent is Intent.NONE
    got = classify(text, model=model)
    # Consent is given in so many words: the guess is kept for review, nothing more.
    assert got.intent is Intent.NONE and got.detected is Intent.OPT_IN
    assert got.stage is Stage.MODEL and "opt-in probability 0.95" in got.reason
    # The policy's own opt-in keyword still opts in.
    assert classify("START", model=model).intent is Intent.OPT_IN


def test_heads_never_change_what_the_rules_read_as_something() -> None:
    model = _with_heads(0.99)
    for text in ("can somebody help me with the alerts? stop texting me", "not interested"):
        assert classify(text, model=model) == classify(text, use_model=False)
    # A text with an opt-out keyword in it is the rules' to read ("stop start").
    assert classify("stop start", model=model).intent is Intent.NONE
    # A keyword-only profile acts on keywords alone.
    got = classify("can somebody help me with the alerts", "twilio", model=model)
    assert got.intent is Intent.NONE
