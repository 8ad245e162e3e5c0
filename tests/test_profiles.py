"""The shipped profiles hold what their sources say, and docs/profiles.md matches them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from optline import profiles_doc, profiles_sources
from optline.domain.policy import Resubscribe, Scope, SenderKind
from optline.domain.profiles import PROFILE_SOURCES, PROFILES, UnknownProfile, get_profile
from optline.domain.text import normalise_keyword

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
VENDORS = ["business_text", "callrail", "command", "krispcall", "salesmsg"]


def forms(*words: str) -> frozenset[str]:
    return frozenset(normalise_keyword(word) for word in words)


# -- the generated page ----------------------------------------------------------------------


def test_committed_profiles_doc_is_the_generators_output() -> None:
    committed = (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    assert committed == profiles_doc.render(), (
        "docs/profiles.md is out of date: run `python -m optline.profiles_doc > docs/profiles.md`"
    )


def test_every_vendor_value_that_differs_from_twilio_cites_its_seed() -> None:
    assert profiles_doc.uncited() == []


def test_citations_name_only_real_fields_and_vendor_profiles() -> None:
    fields = set(profiles_doc.fields())
    for profile, cited in profiles_sources.CITATIONS.items():
        assert profile in VENDORS
        assert set(cited) <= fields, (profile, set(cited) - fields)


def test_profiles_doc_shows_every_field_for_every_profile() -> None:
    page = profiles_doc.render()
    for field_name in profiles_doc.fields():
        section = page.split(f"### `{field_name}`", 1)[1].split("\n### ", 1)[0]
        for profile in PROFILES:
            assert f"| `{profile}` |" in section, (field_name, profile)


def test_profiles_doc_cites_the_toll_free_carrier_fact() -> None:
    page = profiles_doc.render()
    assert "## Toll-free numbers" in page and "NETWORK MSG" in page
    for field_name in ("toll_free_network_replies", "toll_free_opt_out"):
        section = page.split(f"### `{field_name}`", 1)[1].split("\n### ", 1)[0]
        for profile in ("default", "twilio"):
            assert profiles_doc.source(profile, field_name) == profiles_sources.TOLL_FREE_FACT
        assert section.count(profiles_sources.TOLL_FREE_FACT) == 2
        assert section.count(profiles_doc.INHERITED) == len(VENDORS)


def test_profiles_doc_cites_each_vendor_seed_file() -> None:
    page = profiles_doc.render()
    for profile in VENDORS:
        assert re.fullmatch(r"seeds/00\d_[0-9a-f]{16}\.txt", PROFILE_SOURCES[profile])
        assert f"`{PROFILE_SOURCES[profile]}`:" in page


def seed_text(profile: str) -> str:
    """The seed document ``profile`` cites, as :func:`_plain` text. The seeds sit beside
    the checkout (``../shared/seeds``): without them these tests are skipped on a
    developer's machine, and fail in CI (``CI=true``), where they must run."""
    if not SEEDS.is_dir():
        missing = f"seed documents not found at {SEEDS}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: CI must check them out beside the repository")
        pytest.skip(f"{missing} (not checked out next to the repo)")
    return _plain((SEEDS.parent / PROFILE_SOURCES[profile]).read_text(encoding="utf-8"))


def _plain(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split()).casefold()


@pytest.mark.parametrize("profile", VENDORS)
def test_quoted_words_in_citations_appear_in_the_seed(profile: str) -> None:
    seed = seed_text(profile)
    for note in profiles_sources.CITATIONS[profile].values():
        for quote in re.findall(r"\u201c([^\u201d]+)\u201d", note):
            assert _plain(quote) in seed, (profile, quote)


@pytest.mark.parametrize(
    ("profile", "field_name"),
    [
        ("callrail", "opt_in"),
        ("krispcall", "opt_in"),
        ("krispcall", "opt_out"),
        ("callrail", "opt_out"),
    ],
)
def test_vendor_reply_texts_are_quoted_from_the_seed(profile: str, field_name: str) -> None:
    seed = seed_text(profile)
    reply = getattr(get_profile(profile).replies["en"], field_name)
    assert _plain(reply) in seed


# -- profile values ---------------------------------------------------------------------------

TWILIO_OPT_OUT = forms("STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")


def test_twilio_keywords_are_its_current_defaults() -> None:
    kw = get_profile("twilio").keywords["en"]
    assert kw.opt_out == TWILIO_OPT_OUT
    assert kw.opt_out_all == forms("STOPALL")
    assert kw.opt_in == forms("START", "YES", "UNSTOP")
    assert kw.help == forms("HELP", "INFO")
    assert "opt out" not in get_profile("twilio").keyword_index


def test_default_keywords_cover_fcc_per_se_words_twilio_and_two_word_forms() -> None:
    kw = get_profile("default").keywords["en"]
    fcc = forms("stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe")
    assert fcc <= kw.opt_out
    assert kw.opt_out >= TWILIO_OPT_OUT
    assert kw.opt_out_all == forms("STOPALL", "STOP ALL")


@pytest.mark.parametrize("profile", ["callrail", "salesmsg", "command", "business_text"])
def test_seed_keywords_are_in_the_profile(profile: str) -> None:
    listed = {
        "callrail": (("STOP", "END"), ("YES", "START")),  # seed 000
        "salesmsg": (("CANCEL", "STOP", "STOPALL", "END", "UNSUBSCRIBE", "QUIT"), ("START",)),
        "command": (
            ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
            ("START", "YES", "UNSTOP"),
        ),
        "business_text": (("STOP",), ()),
    }[profile]
    kw = get_profile(profile).keywords["en"]
    assert forms(*listed[0]) <= kw.opt_out | kw.opt_out_all
    if listed[1]:
        assert forms(*listed[1]) <= kw.opt_in


@pytest.mark.parametrize(
    ("profile", "scope"),
    [
        ("default", Scope.ACCOUNT),
        ("twilio", Scope.SENDER),
        ("callrail", Scope.SENDER),
        ("business_text", Scope.ACCOUNT),
        ("salesmsg", Scope.ACCOUNT),
        ("krispcall", Scope.SENDER),
        ("command", Scope.ACCOUNT),
    ],
)
def test_profile_scope(profile: str, scope: Scope) -> None:
    assert get_profile(profile).scope is scope


@pytest.mark.parametrize(
    ("profile", "resubscribe"),
    [
        ("default", Resubscribe.WITH_EVIDENCE),
        ("twilio", Resubscribe.NEVER),
        ("callrail", Resubscribe.NEVER),
        ("business_text", Resubscribe.WITH_EVIDENCE),
        ("salesmsg", Resubscribe.NEVER),
        ("krispcall", Resubscribe.NEVER),
        ("command", Resubscribe.NEVER),
    ],
)
def test_profile_resubscribe_rule(profile: str, resubscribe: Resubscribe) -> None:
    assert get_profile(profile).resubscribe is resubscribe


def test_only_business_text_re_opts_in_on_any_text() -> None:
    assert {n for n, p in PROFILES.items() if p.implicit_opt_in} == {"business_text"}


def test_only_krispcall_start_re_enables_every_number() -> None:
    assert {n for n, p in PROFILES.items() if p.opt_in_all_senders} == {"krispcall"}


def test_campaign_opt_out_language_is_required_by_callrail_and_default() -> None:
    required = {n for n, p in PROFILES.items() if p.campaign_opt_out_language_required}
    assert required == {"callrail", "default"}


def test_first_text_disclosures() -> None:
    assert get_profile("command").first_text_disclosure == (
        "Prefer a phone call or email? Reply STOP to unsubscribe."
    )
    assert get_profile("default").first_text_disclosure is not None
    others = {"twilio", *VENDORS} - {"command"}
    assert all(get_profile(name).first_text_disclosure is None for name in others)


def test_salesmsg_allows_custom_replies_on_short_codes_only() -> None:
    assert get_profile("salesmsg").custom_replies_on == {SenderKind.SHORT_CODE}
    for name in set(PROFILES) - {"salesmsg"}:
        assert get_profile(name).custom_replies_on == set(SenderKind)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_is_safe_by_default(profile: str) -> None:
    policy = get_profile(profile)
    # Vendors match one keyword; the default profile also reads free text (FCC (a)(10)).
    assert policy.single_keyword_only is (profile != "default")
    assert policy.opt_out_all_widens
    assert policy.one_confirmation_per_opt_out
    assert policy.toll_free_opt_in == forms("START", "UNSTOP")
    # Carrier fact: the toll-free network answers these itself; optline does not twice.
    assert policy.toll_free_network_replies
    assert policy.toll_free_opt_out == forms(
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"
    )
    assert policy.custom_replies is None
    assert policy.name == profile


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_no_word_means_two_things_in_a_profile(profile: str) -> None:
    for kw in get_profile(profile).keywords.values():
        groups = [kw.opt_out | kw.opt_out_all, kw.opt_in, kw.help]
        for i, first in enumerate(groups):
            for second in groups[i + 1 :]:
                assert not first & second


def test_unknown_profile_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownProfile, match=r"unknown profile 'plivo'.*callrail.*twilio"):
        get_profile("plivo")


def test_no_code_branches_on_a_profile_name() -> None:
    names = "|".join(PROFILES)
    pattern = re.compile(rf"""(==|!=|\bin\b)\s*[\(\[{{]?\s*["']({names})["']""")
    offenders = []
    for path in (ROOT / "optline").rglob("*.py"):
        if path.name in {"profiles.py", "profiles_doc.py"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and ".name" in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
