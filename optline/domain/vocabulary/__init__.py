"""Vocabulary per language for the free-text classifier: keywords, phrases, fillers.

One module per language (:mod:`.en`, :mod:`.es`, :mod:`.fr`, :mod:`.pt`, :mod:`.de`,
:mod:`.it`, :mod:`.zh`) holds that language's keywords, weak opt-out words, fillers,
phrase rules, short replies and context words; :mod:`.phrase` holds the rule type they
are written with. This package assembles them into the tables
:mod:`optline.domain.detect` reads (and :mod:`optline.domain.profiles` reads the
keywords from). A word in two languages'
sets ("por", "nunca", "no") is listed in both modules; the tables hold it once.

Everything except the keywords (``KeywordSet.of`` normalises those) is data in folded
form (:func:`optline.domain.text.fold`: casefolded, accents removed, so "ARRÊT" is
written ``arret`` and "NO MÁS" ``no mas``). Apostrophes split words, so "don't" is
``don t`` and "m'envoyez" is ``m envoyez``. Phrase patterns are matched against the
message's words joined by single spaces, with ``|`` standing for punctuation that ends
a clause (``.``, ``,``, ``!``, ``?``, ...), so no phrase can run across two clauses.
:mod:`optline.domain.phrase_rules` compiles them.

Keyword sources: FCC 47 CFR 64.1200(a)(10) (stop, quit, end, revoke, opt out, cancel,
unsubscribe), Twilio's defaults, AWS End User Messaging (ARRET, REMOVE), Plivo (UNSUB),
Sinch (NONARRET); the words named in TCPA suits ("exit", "remove"); the Spanish,
French, Portuguese and German words people text to carriers' short codes; the Italian
and Chinese words for leaving a list (退订 and its initials TD). Each
language module names its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from optline.domain.policy import Intent, KeywordSet
from optline.domain.vocabulary import de, en, es, fr, it, pt, zh
from optline.domain.vocabulary.phrase import Phrase

__all__ = [
    "AFTER_FIRST_KEYWORD",
    "BEFORE_FINAL_KEYWORD",
    "ENGLISH_EXTRA_OPT_IN",
    "ENGLISH_EXTRA_OPT_OUT",
    "EXCLAIMED",
    "EXCLAIMED_SIGNS",
    "FILLERS",
    "INTENDING",
    "KEYWORDS",
    "NEGATION_BREAKERS",
    "NEGATORS",
    "OBJECT_PRONOUNS",
    "PHRASES",
    "POSSIBLE_REPLIES",
    "QUESTION_WORDS",
    "SARCASM",
    "SHORT_REPLIES",
    "SPELLINGS",
    "UNDOERS",
    "WEAK_OPT_OUT",
    "Phrase",
]

# -- keywords (whole message) -----------------------------------------------------------

#: English keywords the default profile adds to its FCC and Twilio ones.
ENGLISH_EXTRA_OPT_OUT = en.EXTRA_OPT_OUT
ENGLISH_EXTRA_OPT_IN = en.EXTRA_OPT_IN

#: The keywords of the other languages, per language code (English's are each profile's).
KEYWORDS: dict[str, KeywordSet] = {
    "es": es.KEYWORDS,
    "fr": fr.KEYWORDS,
    "pt": pt.KEYWORDS,
    "de": de.KEYWORDS,
    "it": it.KEYWORDS,
    "zh": zh.KEYWORDS,
}

#: Opt-out keywords that are common words in another sense ("cancel my order", "the
#: end", "vou sair agora"). Alone they opt out (64.1200(a)(10) names cancel, end and
#: quit as valid per se); inside a longer message they are only a possible opt-out.
WEAK_OPT_OUT = en.WEAK_OPT_OUT | es.WEAK_OPT_OUT | pt.WEAK_OPT_OUT | de.WEAK_OPT_OUT

#: Spellings of an opt-out keyword that are neither a slip of the finger nor emphasis
#: (English only: "stahp").
SPELLINGS = en.SPELLINGS

# -- fillers ----------------------------------------------------------------------------

#: Words that add nothing to a bare keyword: "Stop. Thank you", "STOP PLEASE", "ok stop",
#: "baja por favor", "arrêt svp". CTIA 5.1.3 asks to ignore such de minimis variances.
FILLERS = en.FILLERS | es.FILLERS | fr.FILLERS | pt.FILLERS | de.FILLERS | it.FILLERS

# -- phrases ----------------------------------------------------------------------------

#: Phrase rules per language code, English first; within a language, rules are tried
#: in the order listed.
PHRASES: dict[str, tuple[Phrase, ...]] = {
    "en": en.PHRASES,
    "es": es.PHRASES,
    "fr": fr.PHRASES,
    "pt": pt.PHRASES,
    "de": de.PHRASES,
    "it": it.PHRASES,
    "zh": zh.PHRASES,
}

# -- context words ----------------------------------------------------------------------

#: A negation right before an opt-out phrase cancels it: "don't stop the reminders",
#: "never stop texting me these deals".
NEGATORS = en.NEGATORS | es.NEGATORS | pt.NEGATORS
#: Words that make the word before them no negation ("why won't you stop").
NEGATION_BREAKERS = en.NEGATION_BREAKERS
#: The object of a verb before a phrase: "remove me | from the list".
OBJECT_PRONOUNS = en.OBJECT_PRONOUNS
#: A question about how to opt out is a possible opt-out, not an opt-out: the
#: clarification reply tells the person how (64.1200(a)(12)).
QUESTION_WORDS = (
    en.QUESTION_WORDS
    | es.QUESTION_WORDS
    | fr.QUESTION_WORDS
    | pt.QUESTION_WORDS
    | de.QUESTION_WORDS
)

#: Whole replies (after fillers) that may mean "stop" but are not clear enough to act
#: on ("no", "S").
POSSIBLE_REPLIES = (
    en.POSSIBLE_REPLIES
    | es.POSSIBLE_REPLIES
    | fr.POSSIBLE_REPLIES
    | pt.POSSIBLE_REPLIES
    | de.POSSIBLE_REPLIES
)


def _tagged(code: str, replies: Mapping[str, Intent]) -> dict[str, tuple[Intent, str]]:
    return {reply: (intent, code) for reply, intent in replies.items()}


#: Whole replies (after fillers) that mean one thing, though no keyword, with the
#: language they are in. Refusals: what a reasonable person would read as "stop"
#: (64.1200(a)(10)). Questions about who is texting are answered with the HELP reply,
#: which names the brand and how to stop (CTIA 5.1.2.1). Opt-ins are explicit requests
#: to be sent texts again only.
SHORT_REPLIES: dict[str, tuple[Intent, str]] = {
    **_tagged("en", en.SHORT_REPLIES),
    **_tagged("es", es.SHORT_REPLIES),
    **_tagged("fr", fr.SHORT_REPLIES),
    **_tagged("pt", pt.SHORT_REPLIES),
    **_tagged("de", de.SHORT_REPLIES),
}

#: Words before a strong opt-out keyword ending a clause that make it count ("I said
#: stop"), and words after one opening a clause that do ("STOP who is this").
#: "But" in each language counts as "but" does: "Gracias, pero STOP", "Danke, aber STOPP"
#: (not Portuguese "mas", which is Spanish "más": "¿una oferta más baja?").
BEFORE_FINAL_KEYWORD = en.BEFORE_FINAL_KEYWORD | frozenset({"pero", "mais", "aber", "ma"})
AFTER_FIRST_KEYWORD = en.AFTER_FIRST_KEYWORD

#: Laughter or delight that makes a "Stop!" clause an exclamation, not a request.
EXCLAIMED = en.EXCLAIMED
EXCLAIMED_SIGNS = en.EXCLAIMED_SIGNS
SARCASM = en.SARCASM
#: Words that take back the opt-out named after them, and verbs a negation reaches
#: across ("not asking to unsubscribe").
UNDOERS = en.UNDOERS
INTENDING = en.INTENDING
