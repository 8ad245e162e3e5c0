"""Reading a reply as a wrong number (optline.domain.wrong_number), pure: the labelled
wrong-number replies in every language, the labelled replies that are not one, and
properties: ordinary replies are never a wrong number, a wrong number stays one
whatever ordinary words surround it."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from consent_support import S1, opted_out_state, subscribed
from hypothesis import given
from hypothesis import strategies as st

from optline.domain.classify import Classification, classify
from optline.domain.consent import ContactState, Outcome
from optline.domain.consent_codes import EventType, Status
from optline.domain.policy import Intent
from optline.domain.profiles import get_profile
from optline.domain.wrong_number import CONFIRMATIONS, detect, receive

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "replies" / "wrong_number_languages.csv"
LANGUAGES = ("en", "es", "fr", "de", "pt", "it")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


WRONG = [r for r in rows(CORPUS) if r["note"].startswith("wrong number")]
NOT_WRONG = [r for r in rows(CORPUS) if r["note"].startswith("not a wrong number")]


def test_the_corpus_holds_wrong_numbers_and_look_alikes_in_every_language() -> None:
    assert len(WRONG) + len(NOT_WRONG) == len(rows(CORPUS))
    for language in LANGUAGES:
        assert sum(r["language"] == language for r in WRONG) >= 7, language
        assert sum(r["language"] == language for r in NOT_WRONG) >= 3, language


@pytest.mark.parametrize("row", WRONG, ids=[r["text"] for r in WRONG])
def test_every_labelled_wrong_number_is_read_in_its_language(row: dict[str, str]) -> None:
    found = detect(row["text"])
    assert found is not None and found.language == row["language"]


@pytest.mark.parametrize("row", NOT_WRONG, ids=[r["text"] for r in NOT_WRONG])
def test_a_labelled_look_alike_is_not_a_wrong_number(row: dict[str, str]) -> None:
    assert detect(row["text"]) is None


def test_no_reply_labelled_none_opt_in_or_help_anywhere_is_a_wrong_number() -> None:
    # Every labelled reply set: 3,000+ ordinary replies, help and opt-in requests.
    negatives = [
        r["text"]
        for path in sorted(DATA.rglob("*.csv"))
        for r in rows(path)
        if r["label"] in ("none", "opt_in", "help")
    ]
    assert len(negatives) > 2000
    assert [t for t in negatives if detect(t) is not None] == []


ORDINARY = [
    "Thanks!",
    "See you at 5",
    "I'm not sure",
    "Not now",
    "Not Tuesday",
    "I'm not Interested in the blue one",
    "Is the order ready?",
    "What number should I call?",
    "My number changed, it's on my profile",
    "Wrong size, can I swap it?",
    "Nothing's wrong",
    "Who is this?",
    "The number on the box",
    "Ok",
    "No",
    "Sí, gracias",
    "Merci, à demain",
    "Danke, bis morgen",
    "Obrigado",
    "Grazie mille",
    "I'm not home, leave it at the door",
    "This is not what I ordered",
    "Call me on my other number",
    "Did I give you the wrong number?",
]
FILLERS = ["", "Hi", "ok", "lol", "thanks", "sorry", "Hey there", "FYI", "🙂", "?!"]


@given(st.lists(st.sampled_from(ORDINARY), min_size=1, max_size=4), st.sampled_from(FILLERS))
def test_ordinary_replies_are_never_a_wrong_number(parts: list[str], filler: str) -> None:
    assert detect(" ".join([filler, *parts]).strip()) is None


@given(st.text(alphabet=st.characters(blacklist_categories=("Lu", "Cs")), max_size=60))
def test_text_with_no_wrong_number_words_is_never_one(text: str) -> None:
    # Without a capital there is no name to deny, so only the phrases could match.
    if not any(w in text.casefold() for w in ("wrong", "numer", "nummer", "person", "engano")):
        assert detect(text) is None


WRONG_PHRASES = [
    ("Wrong number", "en"),
    ("you have the wrong person", "en"),
    ("I'm not Mike", "en"),
    ("Número equivocado", "es"),
    ("mauvais numéro", "fr"),
    ("falsche Nummer", "de"),
    ("número errado", "pt"),
    ("numero sbagliato", "it"),
]


@given(
    st.sampled_from(WRONG_PHRASES),
    st.sampled_from(["", "Hi.", "Sorry,", "Hey!", "Um"]),
    st.sampled_from(["", ".", "!", ", sorry", ". Good luck", " 🙂"]),
)
def test_a_wrong_number_stays_one_among_ordinary_words(
    phrase: tuple[str, str], before: str, after: str
) -> None:
    text, language = phrase
    found = detect(f"{before} {text}{after}".strip())
    assert found is not None and found.language == language


# -- applied to consent (default: ends it; vendor profiles: flagged) --------------------


def applied(state: ContactState, text: str, profile: str) -> tuple[Classification, Outcome]:
    policy = get_profile(profile)
    return receive(state, text, classify(text, policy), S1, policy, {}, {})


def test_the_default_profile_ends_every_scope_and_list_and_confirms_in_the_language() -> None:
    policy = get_profile("default")
    state = subscribed("news", "alerts")
    classification, outcome = receive(
        state, "numero sbagliato", classify("numero sbagliato", policy), S1, policy, {}, {}
    )
    assert classification.intent is Intent.OPT_OUT
    assert outcome.state.account_status is Status.OPTED_OUT
    assert dict(outcome.state.lists) == {"news": False, "alerts": False}
    kinds = [e.type for e in outcome.events]
    assert kinds == [EventType.OPTED_OUT, EventType.LIST_UNSUBSCRIBED, EventType.LIST_UNSUBSCRIBED]
    assert outcome.events[0].data["method"] == "wrong_number"
    assert outcome.reply == policy.render(CONFIRMATIONS["it"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_confirmation_carries_no_marketing_and_names_the_brand(language: str) -> None:
    text = CONFIRMATIONS[language]
    assert text.startswith("{brand}") and "http" not in text and "%" not in text


def test_a_keyword_only_profile_flags_what_it_would_otherwise_ignore() -> None:
    policy = get_profile("twilio")
    # The classifier's own reading leaves this to the wrong-number reading.
    assert classify("There is no Mike here", policy).intent is Intent.NONE
    classification, outcome = applied(ContactState(S1.number), "There is no Mike here", "twilio")
    assert classification.intent is Intent.POSSIBLE_OPT_OUT
    assert [e.type for e in outcome.events] == [EventType.REVOCATION_FLAGGED]


def test_an_opt_in_or_a_blocked_contact_is_left_to_the_consent_rules() -> None:
    classification, _ = applied(ContactState(S1.number), "START", "default")
    assert classification.intent is Intent.OPT_IN
    blocked = opted_out_state(get_profile("default"))
    _, outcome = applied(replace(blocked, blocked=True), "wrong number", "default")
    assert outcome.hidden and outcome.reply is None
