"""Policy values: field overrides, reply selection and rendering, the keyword index."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from optline.domain.classify import classify
from optline.domain.policy import (
    HELP_KEYWORDS,
    RESERVED_KEYWORDS,
    DisclosureForm,
    Intent,
    KeywordSet,
    Policy,
    Replies,
    Resubscribe,
    Scope,
    SenderKind,
)
from optline.domain.policy_overrides import OVERRIDES, BadOverride, override_values, with_overrides
from optline.domain.profiles import get_profile

REPLIES = Replies(opt_out="out", opt_in="in", help="help", list_opt_out="left {list}")


# -- with_overrides ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_name", "value", "expected"),
    [
        ("scope", "sender", Scope.SENDER),
        ("resubscribe", "never", Resubscribe.NEVER),
        ("single_keyword_only", False, False),
        ("typo_tolerance", True, True),
        ("opt_out_all_widens", False, False),
        ("opt_in_all_senders", True, True),
        ("implicit_opt_in", True, True),
        ("one_confirmation_per_opt_out", False, False),
        ("clarify_possible_opt_out", False, False),
        ("toll_free_network_replies", False, False),
        ("first_text_disclosure", "Txt STOP to quit", "Txt STOP to quit"),
        ("first_text_disclosure", None, None),
        ("first_text_disclosure_form", "separate", DisclosureForm.SEPARATE),
        ("campaign_opt_out_language_required", False, False),
        ("brand", "Acme", "Acme"),
        ("support_contact", "help@acme.example", "help@acme.example"),
    ],
)
def test_with_overrides_switches_one_field_and_leaves_the_profile_alone(
    field_name: str, value: Any, expected: Any
) -> None:
    base = get_profile("default")
    # Every field's value as it was (all of them immutable: strings, enums, frozensets,
    # read-only mappings), to compare the shared profile with afterwards.
    before = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}

    policy = with_overrides(base, {field_name: value})

    assert policy is not base
    assert getattr(policy, field_name) == expected
    # The profile every account shares is the same object, left as it was, field by field.
    assert get_profile("default") is base
    assert {name: getattr(base, name) for name in before} == before
    # The new policy differs from the profile in that field alone.
    for name, was in before.items():
        if name != field_name:
            assert getattr(policy, name) == was, name


def test_with_overrides_keeps_the_profile_name_and_keyword_index() -> None:
    policy = with_overrides(get_profile("twilio"), {"scope": "account", "brand": "Acme"})
    assert policy.name == "twilio"
    assert classify("stopall", policy).all_senders
    assert classify("Unstop", policy).intent is Intent.OPT_IN


def test_with_no_overrides_is_the_profile() -> None:
    assert with_overrides(get_profile("krispcall"), {}) == get_profile("krispcall")


@pytest.mark.parametrize("name", ["keywords", "replies", "name", "toll_free_opt_in", "colour"])
def test_with_overrides_refuses_fields_that_cannot_be_overridden(name: str) -> None:
    with pytest.raises(BadOverride, match=name):
        with_overrides(get_profile("default"), {name: "x"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scope": "number"}, r"scope must be one of \['account', 'sender'\]"),
        ({"resubscribe": "always"}, r"resubscribe must be one of \['never', 'with_evidence'\]"),
        ({"implicit_opt_in": "no"}, "implicit_opt_in must be true or false"),
        ({"single_keyword_only": 1}, "single_keyword_only must be true or false"),
        ({"brand": 42}, "brand must be a text"),
        ({"support_contact": None}, "support_contact must be a text"),
        ({"first_text_disclosure": ["Reply STOP"]}, "first_text_disclosure must be a text"),
        ({"custom_replies": "Bye"}, "custom_replies must be an object"),
        ({"custom_replies": {"goodbye": "Bye"}}, "custom_replies: .*goodbye"),
        ({"custom_replies": {"opt_out": 5}}, "every reply must be a text"),
    ],
)
def test_with_overrides_refuses_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(BadOverride, match=message):
        with_overrides(get_profile("default"), overrides)


#: For every overridable field, JSON values of the wrong type.
WRONG_TYPES: dict[str, list[Any]] = {
    "single_keyword_only": ["false", 0, None],
    "typo_tolerance": ["false", 1, None, []],
    "scope": [None, 1, [], {}],
    "opt_out_all_widens": ["true", 0],
    "opt_in_all_senders": ["true", 1],
    "implicit_opt_in": ["no", 0],
    "resubscribe": [True, None, []],
    "no_consent": [None, True, "anyone", []],
    "one_confirmation_per_opt_out": ["yes", None],
    "clarify_possible_opt_out": ["false", {}],
    "toll_free_network_replies": ["true", 1, None],
    "hold_campaigns_on_review": ["true", 1, None],
    "flag_plain_language": ["yes", 0],
    "first_text_disclosure": [True, 5, ["Reply STOP"], {}],
    "first_text_disclosure_form": ["both", None, True, ["separate"]],
    "campaign_opt_out_language_required": ["false", 1],
    "brand": [None, 42, False, ["Acme"]],
    "support_contact": [None, 1, {}],
    "custom_replies": ["Bye", 5, True, ["Bye"], {"opt_out": None}],
    "send_windows": [
        "US",
        None,
        {},
        [{"where": "US"}],
        [{"where": "US", "opens": "21:00", "closes": "08:00", "source": "law"}],
        [{"where": "US", "opens": "08:00", "closes": "21:00", "source": "law", "per_day": 0}],
        [{"where": "US", "opens": "8am", "closes": "21:00", "source": "law"}],
        [{"where": "US", "opens": "08:00", "closes": "21:00", "source": "", "per_day": True}],
        [{"where": "Florida", "opens": "08:00", "closes": "20:00", "source": "law"}],
    ],
    "send_windows_informational": ["yes", 1],
    "send_windows_on_replies": ["no", None],
    "written_consent_required": ["yes", 1, None],
    "double_opt_in_hours": [True, 0, -1, 721, 1.5, "24", None],
    "message_frequency": [None, 4, ["weekly"]],
    "wrong_number": [None, "end", "ignore", 1, True],
    "reassigned_check_after_days": [0, -3, 3651, 1.5, "45", True, []],
    "revoke_all": [True, None, "yes", "from", "from 31/01/2027", "from 2027-02-30", ["on"]],
    "purpose_choice_minutes": ["60", 0, -5, 10081, 1.5, True, None],
}


def test_every_overridable_field_has_its_wrong_types_tested() -> None:
    assert set(WRONG_TYPES) == set(OVERRIDES)


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in WRONG_TYPES.items() for value in values]
)
def test_every_override_of_the_wrong_type_is_refused(name: str, value: Any) -> None:
    with pytest.raises(BadOverride, match=name):
        with_overrides(get_profile("default"), {name: value})


def test_revoke_all_reads_on_off_and_a_dated_switch() -> None:
    from datetime import UTC, datetime

    default = get_profile("default")
    assert default.revoke_all.covers_all(datetime(2026, 12, 7, tzinfo=UTC))
    off = with_overrides(default, {"revoke_all": "off"})
    assert not off.revoke_all.covers_all(datetime(2030, 1, 1, tzinfo=UTC))
    dated = with_overrides(default, {"revoke_all": "from 2027-01-31"})
    # The date is read in UTC: 19:00 in New York on the 30th is already the 31st.
    assert not dated.revoke_all.covers_all(datetime(2027, 1, 30, 23, 59, 59, tzinfo=UTC))
    assert dated.revoke_all.covers_all(datetime(2027, 1, 31, tzinfo=UTC))
    assert override_values(dated)["revoke_all"] == "from 2027-01-31"
    assert with_overrides(default, {"purpose_choice_minutes": 5}).purpose_choice_minutes == 5


def test_string_false_no_longer_switches_a_flag_on() -> None:
    # "no" is truthy: stored as such, it used to turn implicit re-opt-in on.
    with pytest.raises(BadOverride):
        with_overrides(get_profile("default"), {"implicit_opt_in": "no"})


def test_custom_replies_override_fills_missing_texts_from_the_profile() -> None:
    base = get_profile("twilio")
    policy = with_overrides(base, {"custom_replies": {"opt_out": "Bye from Acme."}})
    assert policy.custom_replies == Replies(
        opt_out="Bye from Acme.",
        opt_in=base.replies["en"].opt_in,
        help=base.replies["en"].help,
        list_opt_out=base.replies["en"].list_opt_out,
        clarify=base.replies["en"].clarify,
    )


def test_custom_replies_override_can_be_cleared() -> None:
    policy = with_overrides(get_profile("default"), {"custom_replies": {"help": "Call us"}})
    assert with_overrides(policy, {"custom_replies": None}).custom_replies is None


# -- replies -------------------------------------------------------------------------------------


def test_replies_fall_back_to_english_for_an_unknown_language() -> None:
    policy = get_profile("default")
    assert policy.replies_for(SenderKind.LONG_CODE, "ja") is policy.replies["en"]
    assert policy.replies_for(SenderKind.LONG_CODE, None) is policy.replies["en"]


def test_replies_in_the_message_language_when_the_policy_has_them() -> None:
    french = Replies(opt_out="fr-out", opt_in="fr-in", help="fr-help", list_opt_out="fr-list")
    policy = Policy(
        "test",
        keywords={"en": KeywordSet.of(opt_out=("STOP",)), "fr": KeywordSet.of(opt_out=("ARRET",))},
        replies={"en": REPLIES, "fr": french},
    )
    assert policy.replies_for(SenderKind.LONG_CODE, "fr") is french
    match = classify("ARRÊT", policy)
    assert (match.intent, match.language) == (Intent.OPT_OUT, "fr")


@pytest.mark.parametrize("kind", list(SenderKind))
def test_custom_replies_only_on_the_sender_kinds_the_policy_allows(kind: SenderKind) -> None:
    policy = with_overrides(get_profile("salesmsg"), {"custom_replies": {"opt_out": "Bye"}})
    chosen = policy.replies_for(kind, "en")
    assert (chosen.opt_out == "Bye") is (kind is SenderKind.SHORT_CODE)


def test_render_fills_brand_support_and_list() -> None:
    policy = with_overrides(
        get_profile("default"), {"brand": "Acme", "support_contact": "acme.example"}
    )
    assert policy.render("{brand} {support} {list}", "marketing") == "Acme acme.example marketing"


@pytest.mark.parametrize("template", ["Use code {SAVE20}", "{0} and {", "}{", "{brand"])
def test_render_keeps_other_braces_as_written(template: str) -> None:
    assert get_profile("default").render(template) == template


def test_render_does_not_expand_placeholders_inside_filled_values() -> None:
    policy = with_overrides(get_profile("default"), {"brand": "{support}", "support_contact": "x"})
    assert policy.render("{brand}") == "{support}"


# -- keywords -----------------------------------------------------------------------------------


def test_a_policy_needs_english_keywords_and_replies() -> None:
    with pytest.raises(ValueError, match="English"):
        Policy("x", keywords={"fr": KeywordSet.of(opt_out=("ARRET",))}, replies={"en": REPLIES})
    with pytest.raises(ValueError, match="English"):
        Policy("x", keywords={"en": KeywordSet.of(opt_out=("STOP",))}, replies={})


def test_a_word_in_two_intents_errs_on_the_side_of_opting_out() -> None:
    policy = Policy(
        "x",
        keywords={"en": KeywordSet.of(opt_out=("ENOUGH",), opt_in=("ENOUGH", "START"))},
        replies={"en": REPLIES},
    )
    assert classify("enough", policy).intent is Intent.OPT_OUT


def test_a_word_in_two_languages_is_reported_as_english() -> None:
    policy = Policy(
        "x",
        keywords={
            "es": KeywordSet.of(opt_out=("STOP", "BAJA")),
            "en": KeywordSet.of(opt_out=("STOP",)),
        },
        replies={"en": REPLIES},
    )
    assert classify("stop", policy).language == "en"
    assert classify("baja", policy).language == "es"


def test_keywords_are_stored_in_keyword_form() -> None:
    kw = KeywordSet.of(opt_out=("Opt-Out", " S T O P "), help=("HELP!",))
    assert kw.opt_out == {"opt out", "stop"}
    assert kw.help == {"help"}
    assert kw.all() == {"opt out", "stop", "help"}


def test_opt_out_words_include_stop_all_words_of_every_language() -> None:
    policy = Policy(
        "x",
        keywords={
            "en": KeywordSet.of(opt_out=("STOP",), opt_out_all=("STOPALL",)),
            "fr": KeywordSet.of(opt_out=("ARRET",)),
        },
        replies={"en": REPLIES},
    )
    assert policy.opt_out_words() == {"stop", "stopall", "arret"}


def test_reserved_keywords_are_the_carrier_wide_ones_and_the_per_se_revocations() -> None:
    carrier_wide = {"stop", "stopall", "start", "unstop"}
    per_se_revocations = {"stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe"}
    assert carrier_wide | per_se_revocations == RESERVED_KEYWORDS
    # The carriers' help words: a trigger may take them (the account's help reply).
    assert {"help", "info"} == HELP_KEYWORDS
    assert not HELP_KEYWORDS & RESERVED_KEYWORDS


def test_policies_are_immutable() -> None:
    policy = get_profile("default")
    with pytest.raises(AttributeError):
        policy.scope = Scope.SENDER  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.keywords["fr"] = KeywordSet()  # type: ignore[index]


def test_a_refused_override_quotes_at_most_40_characters_of_its_value() -> None:
    with pytest.raises(BadOverride) as refused:
        with_overrides(get_profile("default"), {"brand": ["x" * 5000]})
    assert len(str(refused.value)) < 100
    assert str(refused.value).startswith("brand must be a text, not ['xxx")
