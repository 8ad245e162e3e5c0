"""Policy: every behaviour that differs between products, as data.

A :class:`Policy` is a profile (``default``, ``twilio`` or one per documented product)
plus the account's field overrides. Nothing in optline branches on a profile's name:
each behaviour reads a field here. ``docs/profiles.md`` lists every field of every
profile with the source of each vendor value.

Here: the policy's fields and the small types they hold (keywords, replies, scope and
the other choices), and the facts read off a policy. The profiles themselves are in
:mod:`optline.domain.profiles`; an account's overrides and their checks in
:mod:`optline.domain.policy_overrides`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from optline.domain.revoke_all import ON as REVOKE_ALL_ON
from optline.domain.revoke_all import RevokeAll
from optline.domain.text import normalise_keyword
from optline.domain.window_rules import SendWindow


class Scope(StrEnum):
    """Which consent an opt-out or opt-in changes."""

    ACCOUNT = "account"  # one consent for every sender of the account
    SENDER = "sender"  # one consent per sending number


class Resubscribe(StrEnum):
    """Whether the business may opt a contact back in by hand."""

    NEVER = "never"  # only the contact can, by texting an opt-in keyword
    WITH_EVIDENCE = "with_evidence"  # allowed with who/when/how consent was given


class DisclosureForm(StrEnum):
    """How the first-text disclosure reaches a contact."""

    APPENDED = "appended"  # at the end of the first text
    SEPARATE = "separate"  # a text of its own, sent just before the first one (seed 004)


class NoConsent(StrEnum):
    """What a contact with no consent on record (``Status.NO_CONSENT``) may be sent."""

    # Texted as a contact that opted in: the vendors' behaviour, whose products text
    # anyone who has not opted out (seed 000: "you can continue messaging them").
    ALLOW = "allow"
    # 1:1 texts only, and only to a contact who texted first; no campaign texts:
    # marketing needs prior express written consent (64.1200(a)(2), (f)(9)).
    CONVERSATION = "conversation"

    def allows(self, campaign: bool, contact_texted_first: bool) -> bool:
        return self is NoConsent.ALLOW or (not campaign and contact_texted_first)


class WrongNumber(StrEnum):
    """What a reply saying the number is not the intended person's does
    (:mod:`optline.domain.wrong_number`)."""

    # The consent on record was given by someone else: it ends, everywhere.
    END_CONSENT = "end_consent"
    # Recorded as a possible opt-out for review (``revocation_flagged``); nothing ends.
    FLAG = "flag"


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    TRIGGER = "trigger"
    # A reply that may mean "stop texting me" but is not clear enough to act on.
    POSSIBLE_OPT_OUT = "possible_opt_out"
    NONE = "none"


class SenderKind(StrEnum):
    LONG_CODE = "long_code"
    TOLL_FREE = "toll_free"
    SHORT_CODE = "short_code"


def _keywords(*items: str) -> frozenset[str]:
    return frozenset(normalise_keyword(item) for item in items)


@dataclass(frozen=True, slots=True)
class KeywordSet:
    """Keywords of one language, stored in :func:`optline.domain.text.keyword_form`."""

    opt_out: frozenset[str] = frozenset()
    # Opt-out keywords that end consent for every sender of the account (STOPALL).
    opt_out_all: frozenset[str] = frozenset()
    opt_in: frozenset[str] = frozenset()
    help: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        opt_out: tuple[str, ...] = (),
        opt_out_all: tuple[str, ...] = (),
        opt_in: tuple[str, ...] = (),
        help: tuple[str, ...] = (),
    ) -> KeywordSet:
        return cls(
            _keywords(*opt_out), _keywords(*opt_out_all), _keywords(*opt_in), _keywords(*help)
        )

    def all(self) -> frozenset[str]:
        return self.opt_out | self.opt_out_all | self.opt_in | self.help


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    """What one keyword means under a policy."""

    intent: Intent
    keyword: str
    language: str
    all_senders: bool = False


@dataclass(frozen=True, slots=True)
class Replies:
    """Reply texts of one language. ``{brand}``, ``{support}`` and ``{list}`` are filled in."""

    opt_out: str
    opt_in: str
    help: str
    list_opt_out: str
    # Sent once for a possible opt-out (64.1200(a)(12): a clarification, no marketing).
    clarify: str = "Reply STOP to stop all texts from {brand}."
    # 64.1200(a)(12): the one confirmation of a revocation that ended several purposes
    # (``revoke_all`` off), asking which ones were meant; ``{purposes}`` is filled in.
    opt_out_choice: str = (
        "You will get no more texts from {brand}. To stop only some of them, reply with "
        "their names: {purposes}. Reply ALL to stop all texts."
    )


_PLACEHOLDER = re.compile(r"\{(brand|support|list)\}")


def _frozen_map(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    # Keyword sets by language code; "en" is always present.
    keywords: Mapping[str, KeywordSet]
    # Reply texts by language code; "en" is always present.
    replies: Mapping[str, Replies]
    # Account-defined reply texts; used only on the sender kinds listed in
    # ``custom_replies_on`` (seed 002: custom texts on dedicated short codes only).
    custom_replies: Replies | None = None
    custom_replies_on: frozenset[SenderKind] = frozenset(SenderKind)
    # Vendors match only a message that is exactly one keyword (seeds 000, 003, 004).
    single_keyword_only: bool = True
    # A text outside a single-keyword policy's keywords that reads as a request to stop
    # ("please stop texting me") is flagged for review: 47 CFR 64.1200(a)(10) binds
    # every business since 2025-04-11, whatever keywords its vendor matches.
    flag_plain_language: bool = True
    # A one-slip misspelling of an opt-out keyword ("STPO", "SOTP") opts out (seed 002).
    typo_tolerance: bool = False
    scope: Scope = Scope.ACCOUNT
    # An opt_out_all keyword (STOPALL) ends consent for every sender, even under SENDER scope.
    opt_out_all_widens: bool = True
    # An opt-in keyword re-enables every sender of the account (seed 003: KrispCall START).
    opt_in_all_senders: bool = False
    # Any inbound text from an opted-out contact opts them back in (seed 001).
    implicit_opt_in: bool = False
    resubscribe: Resubscribe = Resubscribe.WITH_EVIDENCE
    # What a contact with no consent on record may be sent.
    no_consent: NoConsent = NoConsent.ALLOW
    # CTIA 5.1.3: one final opt-out confirmation; a repeated STOP gets no second one.
    one_confirmation_per_opt_out: bool = True
    # Answer a possible opt-out once with the ``clarify`` reply.
    clarify_possible_opt_out: bool = True
    # A possible opt-out waiting for review holds campaign texts to its contact (reason
    # ``revocation_pending_review``); 1:1 texts go on.
    hold_campaigns_on_review: bool = False
    # Carriers let toll-free numbers opt back in with START and UNSTOP only (not YES).
    toll_free_opt_in: frozenset[str] = field(default_factory=lambda: _keywords("START", "UNSTOP"))
    # The opt-out keywords a toll-free number's carrier network acts on itself.
    toll_free_opt_out: frozenset[str] = field(
        default_factory=lambda: _keywords("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
    )
    # On a toll-free number the carrier network answers its STOP and START keywords
    # itself, with a fixed text, and lets no text through to a contact opted out there:
    # optline records the change and sends no reply of its own (carrier facts).
    toll_free_network_replies: bool = True
    # Told to a contact with the first text they ever receive (seed 004).
    first_text_disclosure: str | None = None
    # At the end of that text, or as a text of its own just before it (seed 004).
    first_text_disclosure_form: DisclosureForm = DisclosureForm.APPENDED
    # Campaign texts must name an opt-out keyword (seed 000).
    campaign_opt_out_language_required: bool = False
    brand: str = ""
    support_contact: str = ""
    # Send windows and caps (optline.domain.windows): the rule table, empty for none.
    send_windows: tuple[SendWindow, ...] = ()
    # The rules also hold back texts that are not campaign texts (informational).
    send_windows_informational: bool = False
    # The rules also hold back a 1:1 text to a contact who wrote in the last 24 hours.
    send_windows_on_replies: bool = False
    # Campaign (marketing) texts need prior express written consent on record (47 CFR
    # 64.1200(a)(2), (f)(9): the burden of proof is on the sender); else refused with
    # reason ``no_written_consent`` (optline.domain.written_consent).
    written_consent_required: bool = False
    # How long a join keyword's opt-in confirmation waits for the contact's YES.
    double_opt_in_hours: int = 24
    # The message frequency the opt-in confirmation states (CTIA 5.1.2.1).
    message_frequency: str = "Msg frequency varies"
    # A reply saying the number is not the intended person's ("wrong number").
    wrong_number: WrongNumber = WrongNumber.FLAG
    # Days without a text either way after which the next text to a contact first asks
    # the configured reassigned-numbers check (optline.domain.reassigned); None: never.
    reassigned_check_after_days: int | None = None
    # Does one revocation end every purpose (marketing, informational, the account's
    # own), or only the purpose of the text it answered? (optline.domain.revoke_all)
    revoke_all: RevokeAll = REVOKE_ALL_ON
    # 64.1200(a)(12): minutes in which a contact may answer the confirmation's question
    # of which purposes to stop; no answer leaves every purpose stopped.
    purpose_choice_minutes: int = 60
    # Derived: keyword form -> meaning, built once so classification is one dict lookup.
    keyword_index: Mapping[str, KeywordMatch] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if "en" not in self.keywords or "en" not in self.replies:
            raise ValueError("a policy needs English keywords and replies")
        object.__setattr__(self, "keywords", _frozen_map(self.keywords))
        object.__setattr__(self, "replies", _frozen_map(self.replies))
        object.__setattr__(self, "keyword_index", _frozen_map(_index(self.keywords)))

    def opt_out_words(self) -> frozenset[str]:
        """Every opt-out keyword in every language, for the opt-out language check."""
        found: frozenset[str] = frozenset()
        for keyword_set in self.keywords.values():
            found |= keyword_set.opt_out | keyword_set.opt_out_all
        return found

    def replies_for(self, sender_kind: SenderKind, language: str | None) -> Replies:
        if self.custom_replies is not None and sender_kind in self.custom_replies_on:
            return self.custom_replies
        return self.replies.get(language or "en") or self.replies["en"]

    def render(self, template: str, list_name: str = "") -> str:
        # Only the three placeholders are filled: account texts (trigger replies, custom
        # replies) may hold other braces, such as "use code {SAVE20}", kept as written.
        values = {"brand": self.brand, "support": self.support_contact, "list": list_name}
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _index(keywords: Mapping[str, KeywordSet]) -> dict[str, KeywordMatch]:
    index: dict[str, KeywordMatch] = {}
    # English first, so a word shared by two languages reports English; opt-out first,
    # so a word that is both (never in the shipped profiles) errs on the safe side.
    languages = sorted(keywords, key=lambda lang: (lang != "en", lang))
    for language in languages:
        kw = keywords[language]
        groups = (
            (kw.opt_out_all, Intent.OPT_OUT, True),
            (kw.opt_out, Intent.OPT_OUT, False),
            (kw.help, Intent.HELP, False),
            (kw.opt_in, Intent.OPT_IN, False),
        )
        for words, intent, all_senders in groups:
            for word in words:
                index.setdefault(word, KeywordMatch(intent, word, language, all_senders))
    return index


#: The carrier-wide help words. A trigger may take one: its reply is then the account's
#: help reply (seed 001's "Trigger / Intelligent Response" table sets up HELP), still
#: sent whatever the contact's consent (CTIA 5.1.2.1); a list keyword may not.
HELP_KEYWORDS = _keywords("HELP", "INFO")

#: Keywords no account trigger or list keyword may take: the carrier-wide opt-out and
#: opt-in words that every US carrier and CTIA expect to work everywhere, and the words
#: FCC 64.1200(a)(10) makes a valid revocation per se. A list keyword may take no
#: :data:`HELP_KEYWORDS` either.
RESERVED_KEYWORDS = _keywords(
    "STOP",
    "STOPALL",
    "START",
    "UNSTOP",
    "QUIT",
    "END",
    "REVOKE",
    "OPT OUT",
    "CANCEL",
    "UNSUBSCRIBE",
)


def missing_help_fields(policy: Policy) -> list[str]:
    """The fields a HELP answer of ``policy`` fills in that it leaves empty.

    CTIA 5.1.2.1: HELP is answered with the brand and a support contact; a HELP text
    that names ``{support}`` with no support contact set would answer "Help at .".
    The brand is never empty (the account's name stands in), so only the support
    contact can be missing.
    """
    helps = [replies.help for replies in policy.replies.values()]
    if policy.custom_replies is not None:
        helps.append(policy.custom_replies.help)
    named = {m.group(1) for text in helps for m in _PLACEHOLDER.finditer(text)}
    return ["support_contact"] if "support" in named and not policy.support_contact.strip() else []


def widens_scope(old: Policy, new: Policy) -> bool:
    """Whether moving from ``old`` to ``new`` makes one opt-out cover more senders
    (SENDER to ACCOUNT scope); the existing opt-outs must then be widened too
    (``bulk.widen_scope``). Narrowing keeps account-wide opt-outs as they are."""
    return old.scope is Scope.SENDER and new.scope is Scope.ACCOUNT
