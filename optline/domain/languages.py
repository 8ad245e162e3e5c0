"""Vocabulary per language for the free-text classifier: keywords, phrases, fillers.

Everything here is data in folded form (:func:`optline.domain.text.fold`: casefolded,
accents removed, so "ARRÊT" is written ``arret`` and "NO MÁS" ``no mas``). Apostrophes
split words, so "don't" is ``don t`` and "m'envoyez" is ``m envoyez``. Phrase patterns
are matched against the message's words joined by single spaces, with ``|`` standing
for punctuation that ends a clause (``.``, ``,``, ``!``, ``?``, ...), so no phrase can
run across two clauses. :mod:`optline.domain.detect` compiles them.

Keyword sources: FCC 47 CFR 64.1200(a)(10) (stop, quit, end, revoke, opt out, cancel,
unsubscribe), Twilio's defaults, AWS End User Messaging (ARRET, REMOVE), Plivo (UNSUB),
Sinch (NONARRET); the words named in TCPA suits ("exit", "remove"); the Spanish,
French, Portuguese and German words people text to carriers' short codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from optline.domain.policy import Intent, KeywordSet

# -- keywords (whole message) -----------------------------------------------------------

ENGLISH_EXTRA_OPT_OUT = ("UNSUB", "REMOVE", "EXIT")
ENGLISH_EXTRA_OPT_IN = ("RESUBSCRIBE", "SUBSCRIBE", "OPT IN", "OPTIN")

KEYWORDS: dict[str, KeywordSet] = {
    "es": KeywordSet.of(
        opt_out=("BAJA", "ALTO", "PARAR", "PARE", "CANCELAR", "DETENER", "NO MÁS"),
        opt_in=("ALTA", "COMENZAR", "SUSCRIBIR"),
        help=("AYUDA",),
    ),
    "fr": KeywordSet.of(
        opt_out=(
            "ARRÊT",
            "ARRÊTER",
            "DÉSABONNER",
            "DÉSINSCRIRE",
            "DÉSABONNEMENT",
            "DÉSINSCRIPTION",
        ),
        opt_in=("NONARRET", "ABONNER"),
        help=("AIDE",),
    ),
    "pt": KeywordSet.of(
        opt_out=("SAIR", "PARAR", "PARE", "CANCELAR", "DESCADASTRAR", "REMOVER"),
        opt_in=("ATIVAR", "VOLTAR"),
        help=("AJUDA",),
    ),
    "de": KeywordSet.of(
        opt_out=("STOPP", "ABMELDEN", "ABBESTELLEN", "AUSTRAGEN", "BEENDEN"),
        opt_in=("ANMELDEN",),
        help=("HILFE",),
    ),
}

#: Opt-out keywords that are common words in another sense ("cancel my order", "the
#: end", "vou sair agora"). Alone they opt out (64.1200(a)(10) names cancel, end and
#: quit as valid per se); inside a longer message they are only a possible opt-out.
WEAK_OPT_OUT = frozenset(
    {
        "cancel", "end", "quit", "exit", "remove",
        "alto", "parar", "pare", "cancelar", "detener",
        "sair", "remover",
        "beenden",
    }
)  # fmt: skip

#: Spellings of an opt-out keyword that are neither a slip of the finger nor emphasis:
#: "stop" as it is drawn out in speech, or run together with "it". Read as the keyword
#: where a word alone makes a clause, by profiles that read free text (never by the
#: vendors' single-keyword ones).
SPELLINGS: dict[str, str] = {
    "stahp": "stop", "stawp": "stop", "stohp": "stop", "stopit": "stop", "stoppit": "stop",
}  # fmt: skip

# -- fillers ----------------------------------------------------------------------------

#: Words that add nothing to a bare keyword: "Stop. Thank you", "STOP PLEASE", "ok stop",
#: "baja por favor", "arrêt svp". CTIA 5.1.3 asks to ignore such de minimis variances.
FILLERS = frozenset(
    {
        # en
        "please", "pls", "plz", "pleas", "kindly", "thanks", "thank", "you", "u", "thx",
        "ty", "tyvm", "ok", "okay", "k", "now", "asap", "immediately", "already", "just",
        "sir", "maam", "yes", "yeah", "it", "and", "again", "anymore", "right", "away",
        "seriously", "omg", "everything",
        # es, pt ("sí", "sim": yes)
        "por", "favor", "porfa", "gracias", "ya", "obrigado", "obrigada", "si", "sim",
        # fr ("s'il vous plaît", "stp": s'il te plaît)
        "svp", "stp", "merci", "s", "il", "vous", "plait", "te", "oui",
        # de
        "bitte", "danke", "sofort", "jetzt", "ja",
    }
)  # fmt: skip

# -- phrases ----------------------------------------------------------------------------

# Building blocks, English. "text" nouns are the things a texting program sends;
# _TEXTS adds calls and emails, which "stop the ..." also ends (the protective reading).
_TEXT_NOUNS = (
    r"texts?|txts?|text messages?|messages?|msgs?|sms|reminders?|notifications?|"
    r"alerts?|promos?|promotions?|offers|ads|marketing|spam"
)
_TEXTS_SENT = rf"(?:{_TEXT_NOUNS})"
_TEXTS = rf"(?:{_TEXT_NOUNS}|calls|emails)"
# Texts as something switched on and off: plurals only, so "turn off the reminder for
# Friday" (one reminder) is not a revocation.
_TEXT_FEEDS = r"(?:texts|text messages|txts|messages|msgs|sms|notifications|alerts|reminders)"
# Another channel than texts: leaving it alone is no text opt-out.
_OTHER_CHANNEL = (
    r"(?:emails?|e mails?|newsletters?|mailing list|mailers|mail|calls|phone calls|voicemails?)"
)
# Profanity between a verb and its object ("stop f***ing texting me"); asterisks split
# a word, so "f***ing" reads ``f ing``.
_CURSE_WORDS = (
    r"fucking|fuckin|fking|fkn|fcking|fckin|effing|effin|freaking|freakin|frigging|"
    r"friggin|fricking|frickin|goddamn|damn|bloody|f ing|f in|f king|f cking|f ckin|"
    r"fu ing|fu king|fu kin"
)
_CURSE = rf"(?:{_CURSE_WORDS})"
_SENDING = (
    r"(?:sending|texting|txting|messaging|msging|contacting|calling|emailing|spamming|"
    r"bothering|harassing|pestering|bugging)"
)
_DETERMINERS = (
    r"(?:all|the|these|those|this|your|ur|any|my|more|of|with|sending|me|us|receiving|"
    rf"getting|text|sms|marketing|promotional|daily|stupid|annoying|{_CURSE_WORDS})"
)
_ME = r"(?:me|us|my (?:number|phone|cell|name|info|contact)|this (?:number|phone))"
_NOT = r"(?:don t|dont|do not|never|no longer|pls don t)"
# "Alerts on the thermostat", "notifications in the app": something else's, not the
# texts; "... for my account", "... on this number" are the texts.
_NOT_ON_SOMETHING_ELSE = (
    r"(?! (?:on|in|for|from) (?:the|my|our|your) (?!account\b|number\b|cell\b)\w)"
)
# "Unsubscribe me from the email newsletter", "stop calling": leaving another channel.
_LEAVES_OTHER_CHANNEL = (
    r"\b(?:(?:unsubscribe|unsub|stop|cancel|quit|no more|opt (?:me |us )?out"
    r"|remove (?:me|us)|take (?:me|us) off)(?: (?:me|us))?(?: (?:from|of|off|with|sending))?"
    rf"(?: {_DETERMINERS}){{0,3}} {_OTHER_CHANNEL}|stop (?:calling|emailing|mailing))\b"
)
# "... but keep the texts", "texting is fine", "text me instead".
_KEEPS_TEXTS = (
    r"\b(?:(?:keep|continue)(?: (?:sending|getting|texting))?(?: me| us)?(?: the| my| your)?"
    r" (?:texts|text messages|texting|sms|text alerts|text reminders)"
    r"|(?:keep|continue) texting(?: me| us)?"
    r"|(?:texts?|texting|sms) (?:is|are) (?:fine|ok|okay|good)"
    r"|(?:still|just) text (?:me|us)|text (?:me|us) instead)\b"
)


def _last_words(group: str) -> str:
    """Every word that can end a match of ``group``, a ``(?:...)`` of plain words where
    a final ``s?`` makes a plural optional: "(?:texts?|text messages?)" -> "text texts
    message messages". For :class:`Phrase` ``needs``."""
    words: list[str] = []
    for alternative in group.removeprefix("(?:").removesuffix(")").split("|"):
        last = alternative.split()[-1]
        words += [last[:-2], last[:-1]] if last.endswith("s?") else [last]
    if not all(word.isalpha() for word in words):
        raise ValueError(f"not a group of plain words: {group}")
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Phrase:
    """One phrase rule: a regular expression and what a match means.

    ``anchors`` are words the message must contain for the rule to be tried at all,
    so most texts are dismissed with one set intersection; where ``needs`` is given, the
    message must also contain one of its words (every match of the pattern holds one
    of them as a whole word), which spares the regular expression on most messages
    that merely use an anchor word ("stop by", "the end"). ``negatable`` rules do not
    count when the word right before them is a negation ("don't stop the reminders")
    and count only as possible when the clause asks how ("how do I unsubscribe?");
    where a rule is ``after_object``, its match follows a verb and its object, and a
    negation before those counts too ("don't remove me from the list").

    A rule's intent may also be help (a question about the program) or none: a none
    rule states what the message keeps ("... but keep the texts"), is listed first,
    and when it matches no rule after it is tried.

    A rule whose two parts may stand anywhere in the message, words or clauses apart,
    gives the second as ``then``: a match of ``pattern`` with a match of ``then`` after
    it (with ``either_order``, or before it). The detector finds each part once, so a
    long message costs a pass over it; one expression with ``.*`` between the parts
    would be tried again from every match of the first, and a long text full of them
    would cost the square of its length. The match runs from the first part to the
    first match of the second after it, or with ``to_last`` to the last one.
    """

    name: str
    intent: Intent
    pattern: str
    anchors: frozenset[str]
    negatable: bool = True
    needs: frozenset[str] = frozenset()
    after_object: bool = False
    then: str = ""
    either_order: bool = False
    to_last: bool = False


def _phrase(
    name: str,
    intent: Intent,
    pattern: str,
    anchors: str,
    negatable: bool = True,
    needs: str = "",
    after_object: bool = False,
    then: str = "",
    either_order: bool = False,
    to_last: bool = False,
) -> Phrase:
    return Phrase(
        name,
        intent,
        pattern,
        frozenset(anchors.split()),
        negatable,
        frozenset(needs.split()),
        after_object,
        then,
        either_order,
        to_last,
    )


_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
_IN = Intent.OPT_IN

PHRASES: dict[str, tuple[Phrase, ...]] = {
    "en": (
        _phrase(
            # "Unsubscribe me from the emails but keep the texts": another channel is
            # left, the texts are kept, so the consent to text stands.
            "leaves another channel and keeps the texts",
            Intent.NONE,
            _LEAVES_OTHER_CHANNEL,
            "keep continue instead fine ok okay good still just",
            negatable=False,
            needs="email emails mail mails newsletter newsletters mailing mailers calls calling "
            "emailing voicemail voicemails",
            # Everything from the first channel left to the last mention of the texts
            # kept is the message keeping them.
            then=_KEEPS_TEXTS,
            either_order=True,
            to_last=True,
        ),
        _phrase(
            "asks to stop sending",
            _OUT,
            rf"\b(?:stop|quit|cease)(?: {_CURSE})? {_SENDING}\b",
            "stop quit cease",
            needs=_last_words(_SENDING),
        ),
        _phrase(
            # "Please stop following up": a salesperson's follow-ups are the texts. "I'll
            # stop following up" is the writer stopping; "... on the claim" is the claim.
            "asks to stop following up",
            _OUT,
            rf"\b(?:stop|quit|cease)(?<!\bi ll stop)(?<!\bi will stop)(?<!\bwe ll stop)"
            rf"(?: {_CURSE})? "
            r"(?:following up|reaching out|hitting (?:me|us) up)(?: (?:with|to) (?:me|us))?"
            r"(?! (?:on|with|to|for)\b)",
            "stop quit cease",
            needs="following reaching hitting",
        ),
        _phrase(
            "asks to stop the texts",
            _OUT,
            rf"\b(?:stop|quit|cease|end|cancel|discontinue|halt|no more|no further)"
            rf"(?: {_DETERMINERS}){{0,4}} {_TEXTS}\b",
            "stop quit cease end cancel discontinue halt more further",
            needs=_last_words(_TEXTS),
        ),
        _phrase(
            "uses an opt-out word",
            _OUT,
            r"\b(?:unsubscribe|unsub|optout|opt out|opt me out|revoke|withdraw (?:my )?consent"
            r"|cease and desist)\b",
            "unsubscribe unsub optout opt revoke withdraw cease",
        ),
        _phrase(
            "asks to be removed",
            _OUT,
            rf"\b(?:remove|delete|erase|unsubscribe|unsub|drop) {_ME}\b",
            "remove delete erase unsubscribe unsub drop",
        ),
        _phrase(
            "asks to be taken off the list",
            _OUT,
            r"\b(?:off|out of|from) (?:your|the|this|ur|that|all|my|these) "
            r"(?:(?:texting|text|sms|mailing|contact|marketing|call) )?lists?\b",
            "list lists",
            # "please don't remove me | from the list": the negation is before the verb.
            after_object=True,
        ),
        _phrase(
            # "please take me off. thx": the whole request, at the end of its clause;
            # "take me off the waitlist" asks something else.
            "asks to be taken off",
            _OUT,
            r"\b(?:take|get) (?:me|us|this number) off(?: (?:please|pls|plz|now|asap|already"
            r"|thanks|thank you|thx|ty))*(?= \||$)",
            "off",
            needs="take get",
        ),
        _phrase(
            "asks to be left alone",
            _OUT,
            r"\b(?:leave (?:me|us) alone|lose (?:my|this) number)\b",
            "leave lose",
        ),
        _phrase(
            "says not to text",
            _OUT,
            rf"\b{_NOT} (?:ever |{_CURSE} )?"
            r"(?:text|txt|message|msg|sms|contact|send|email|bother|spam)"
            r" (?:me|us|this (?:number|phone)|again|anymore|any)\b"
            r"(?! (?:on|at|via|through|before|after|until|during|while|about)\b)",
            "don dont not never longer",
            negatable=False,
            needs="text txt message msg sms contact send email bother spam",
        ),
        _phrase(
            "does not want texts",
            _OUT,
            rf"\b{_NOT} (?:want|wish|need|like)\b(?: \w+){{0,4}}? "
            rf"(?:{_TEXTS}|contacted|texted|messaged)\b",
            "don dont not never longer",
            negatable=False,
            needs="want wish need like",
        ),
        _phrase(
            "says it has already asked to stop",
            _OUT,
            r"\b(?:i|we|i ve|i have|already) (?:already )?(?:said|told you|texted|replied|sent"
            r"|asked you to|asked to) (?:to )?stop\b(?! (?:by|at|in|on|over|for)\b)",
            "said told texted replied sent asked",
            needs="stop",
        ),
        _phrase(
            # "Stop for now": stop, maybe come back later; it is still a stop today.
            "asks to stop for now",
            _OUT,
            r"(?:^|\| )(?:please |pls |ok |just )?(?:stop|unsubscribe|pause) (?:it |them )?"
            r"for now(?: (?:thanks|thank you|thx|please|pls))?(?= \||$)",
            "now",
            needs="stop unsubscribe pause",
        ),
        _phrase(
            "has had enough of the texts",
            _OUT,
            rf"(?:^|\| )(?:ok |okay |omg |seriously |that s |thats )?enough (?:already )?"
            rf"(?:with |of )?(?:the |these |those |your |ur |all |this )?{_TEXTS}\b",
            "enough",
            needs=_last_words(_TEXTS),
        ),
        _phrase(
            "is blocking the sender",
            _OUT,
            r"\b(?:i m|im|i am|i ll|ill|i will|i have|i ve|gonna|going to|about to) "
            r"(?:just |now |officially |definitely )?block(?:ing|ed)? "
            r"(?:(?:this|your|ur|the) (?:number|sender|contact)\b|(?:you|u|this)(?: now)?(?= \||$))"
            r"|(?:^|\| )block(?:ing|ed) (?:this|your|ur) (?:number|sender|contact)\b",
            "block blocking blocked",
        ),
        _phrase(
            # A curt "go away" or "f*** off" as a whole clause is aimed at whoever sent
            # the text; profanity on its own ("f***ing finally") is not a refusal.
            "tells the sender to go away",
            _OUT,
            r"(?:^|\| )(?:(?:just|now|please|pls|plz|ok|so|oh|seriously|omg|and|yo|dude|bro) )?"
            r"(?:go away|get lost|fuckoff|(?:fuck|fucking|fuckin|fck|fk|fuk|fuq|f|f k|f ck|eff"
            r"|effing|piss|bugger|sod|buzz|shove) off)"
            r"(?: (?:already|now|please|pls|forever|then|dude|bro|lol|with (?:the|these|this"
            r"|your|ur) \w+))?(?= \||$)",
            "away lost off fuckoff",
        ),
        _phrase(
            # Idioms for "stop" said of the texts: "knock it off with the texts".
            "tells the sender to knock off the texts",
            _OUT,
            r"\b(?:knock it off|cut it out|give it a rest|cool it|lay off|knock off|cut out)"
            rf"(?: already)?(?: with)?(?: {_DETERMINERS}){{0,3}} {_TEXTS}\b",
            "knock cut rest cool lay",
            needs=_last_words(_TEXTS),
        ),
        _phrase(
            # "I'd rather not get texts": a polite no. "... before 9" or "on weekends"
            # only moves them.
            "would rather not get texts",
            _OUT,
            r"\b(?:rather|prefer|preferred)(?: to)? (?:not (?:to )?(?:be (?:texted|contacted"
            rf"|messaged)|(?:get|getting|receive|receiving|have)(?: {_DETERMINERS}){{0,3}}"
            rf" {_TEXTS_SENT})|no (?:more )?{_TEXTS_SENT}|(?:you|u) (?:didn t|did not|not|stopped"
            r"|quit|stop) (?:text|texting|txt|txting|message|messaging|contact|contacting|send"
            r"|sending))\b(?! (?:before|after|until|during|while|on|in the)\b| at (?!all\b))",
            "rather prefer preferred",
            needs=f"{_last_words(_TEXTS_SENT)} texted contacted messaged texting txting messaging "
            "contacting send sending",
        ),
        _phrase(
            # Texts as notifications someone switches off; not "the notifications on my
            # phone" or "the alerts in the app".
            "asks to turn off the texts",
            _OUT,
            rf"\b(?:(?:turn|switch|shut) off(?: {_DETERMINERS}){{0,3}} {_TEXT_FEEDS}"
            rf"|(?:turn|switch|shut)(?: {_DETERMINERS}){{0,3}} {_TEXT_FEEDS} off"
            rf"|disable(?: {_DETERMINERS}){{0,3}} {_TEXT_FEEDS})\b{_NOT_ON_SOMETHING_ELSE}",
            "turn switch shut disable",
            needs=_last_words(_TEXT_FEEDS),
        ),
        _phrase(
            # FCC 2024 order: asking how to leave the texts or the list, named as such,
            # is itself a request to leave. "How do I unsubscribe?" with nothing named
            # stays a question ("uses an opt-out word" reads it as a possible one).
            "asks how to leave the texts",
            _OUT,
            r"\b(?:how (?:(?:do|can|could|would|should|will) (?:i|we)|to|do i go about)"
            r"|(?:a|any|the) way to|what do i (?:do|reply|text|send|type) to)(?: just| even)?"
            r" (?:unsubscribe|unsub|opt (?:me |us )?out|get off|get out|be removed|get removed"
            r"|leave|remove (?:me|us|myself|my number))(?: (?:from|of|off))?"
            rf"(?: {_DETERMINERS}){{0,3}} (?:{_TEXT_NOUNS}"
            r"|(?:(?:texting|text|sms|mailing|contact|marketing) )?lists?)\b",
            "how way what",
            negatable=False,
            needs="unsubscribe unsub out off removed leave remove",
        ),
        _phrase(
            # "Who gave you my number? Remove it now.": "it" is the number named before.
            "asks to remove the number it named",
            _OUT,
            r"\b(?:my|this) (?:phone |cell )?number\b",
            "remove delete erase lose",
            negatable=False,
            needs="number",
            # "So" opens the request, and is no filler inside it: a long run of "so so
            # so ..." is then tried once from each word, not read to its end from each.
            then=r"(?:\| |\b(?:so|and|then) )(?:(?:please|pls|plz|just|now|ok) )*"
            r"(?:remove|delete|erase|lose) it"
            r"(?: (?:now|please|pls|plz|immediately|asap|right now|already|thanks|thank you"
            r"|from your (?:list|lists|system|records|database|contacts)))*(?= \||$)",
        ),
        _phrase(
            # Not "not interested in the red one": a product declined, not the texts.
            "refuses",
            _MAYBE,
            r"\b(?:not|no longer) interested\b(?! in (?:the|that|this|a|an|those|these) "
            r"(?!texts?\b|messages?\b|offers?\b|deals?\b|promos?\b|promotions?\b|ads\b))"
            r"|\bwrong (?:number|person|guy|girl)\b",
            "interested wrong",
            needs="not longer number person guy girl",
        ),
        _phrase(
            "did not sign up",
            _MAYBE,
            r"\b(?:never|didn t|did not|don t remember) sign(?:ed|ing)? up\b"
            r"|\b(?:how did you get|who gave you) my number\b"
            r"|\bwhy (?:do|are|am|does) (?:you|i|u)(?: \w+){0,2} (?:texting|getting|text)\b"
            r"|(?:^|\| )(?:this is )?spam\b|\btoo many (?:texts|messages)\b"
            r"|\btext(?:ing)? (?:me|us) too much\b",
            "sign signed signing number why spam too",
            needs="up my why spam many much",
        ),
        _phrase(
            "asks how to stop",
            _MAYBE,
            r"\bway to (?:stop|unsubscribe|opt out)\b|\bcancel (?:my |the )?subscription\b"
            r"|\bpause (?:the |these |my |all )?(?:texts|messages|reminders)\b",
            "way subscription pause",
        ),
        _phrase(
            "asks to subscribe again",
            _IN,
            r"\bopt (?:me )?(?:back )?in\b|\b(?:re)?subscribe me\b"
            r"|\b(?:start|resume) (?:texting|messaging|sending) me\b",
            "opt subscribe resubscribe start resume",
            needs="in me",
        ),
        _phrase(
            # Explicit requests for the texts themselves; "send me the reminder again"
            # (one text resent) is not one.
            "asks for the texts back",
            _IN,
            r"\b(?:want|like|love|wish) to (?:(?:start|keep) )?(?:get|getting|receive|receiving)"
            rf"(?: {_DETERMINERS}| appointment| weekly){{0,3}} {_TEXT_FEEDS} again\b"
            rf"|\bresume(?: {_DETERMINERS}| appointment| weekly){{0,3}} {_TEXT_FEEDS}\b"
            rf"|\bturn (?:my |the |your )?{_TEXT_FEEDS} back on\b"
            rf"|\bturn (?:back on|on again) (?:my |the |your )?{_TEXT_FEEDS}\b"
            r"|\b(?:add|put) (?:me|us|my number) back (?:on|to|in|into) (?:the|your|ur|this) "
            r"(?:(?:text|texting|sms|mailing|contact) )?list\b"
            r"|\bsign (?:me|us) (?:back )?up (?:for|to) (?:(?:the|your|these|weekly|daily|text"
            r"|sms) )*(?:texts|text messages|messages|deals|offers|specials|alerts|reminders"
            r"|list|promos|text club)\b",
            "want like love wish resume turn add put sign",
            needs=f"{_last_words(_TEXT_FEEDS)} list deals offers specials promos club",
        ),
        _phrase(
            # CTIA 5.1.2.1: the HELP reply names the program, its frequency and costs,
            # so questions about those are answered with it.
            "asks about the program",
            Intent.HELP,
            r"\bwhat (?:is|s|are|does) (?:this|these|those) (?:(?:text|txt|sms|texting|message) )?"
            r"(?:service|program|club|texts|messages|msgs|alerts|list|subscription)"
            r"(?= \||$| (?:for|about|do|exactly|anyway|mean)\b)"
            r"|\bwhat (?:kinds?|types?|sorts?) of (?:texts|messages|msgs|alerts|sms)\b"
            r"|\bhow (?:often|frequently|many times)(?: (?:will|would|do|does|are|can))? "
            r"(?:you|u) (?:text|txt|message|msg)\b"
            r"|\bhow (?:often|frequently|many times)(?: (?:will|would|do|does|are|can))? (?:i|we) "
            rf"(?:get|receive|getting|receiving)(?: {_DETERMINERS}){{0,2}} {_TEXT_FEEDS}\b"
            r"|\bhow many (?:texts|messages|msgs|alerts)\b"
            r"|\b(?:msg|message|messaging|text|sms|data) (?:and )?(?:data )?rates\b"
            r"|\b(?:cost|charge|fee)s? (?:for|of|to)(?: (?:these|the|your|this|receiving|getting))"
            r"{1,2} (?:texts|messages|text messages|sms|alerts|service)\b"
            r"|\b(?:texts|messages|text messages) cost\b"
            r"|\bwho (?:runs|operates|owns|sends) (?:this|these|the|your) "
            r"(?:(?:text|sms|texting) )?(?:program|service|club|texts|messages|list)\b"
            r"|\bwhat (?:did )?i (?:signed|sign) up for\b",
            "what how who rates cost costs charge charges fee fees",
            negatable=False,
            needs=f"{_last_words(_TEXT_FEEDS)} service program club list subscription text txt "
            "message msg rates signed sign",
        ),
        _phrase(
            # "DO NOT CONTACT", "do not text": the whole request, at the end of its clause
            # ("do not text while driving" says something else).
            "says not to text at all",
            _OUT,
            rf"(?:^|\| )(?:please |pls )?{_NOT} (?:ever )?(?:text|txt|message|msg|sms|contact)"
            r"(?: (?:please|pls|plz|thanks|thank you|thx))*(?= \||$)",
            "don dont not never longer",
            negatable=False,
            needs="text txt message msg sms contact",
        ),
        _phrase(
            # "I want to stop", "yes i want to stop receiving these": "stop" ends the
            # clause or takes the texts ("I want to stop by at 5" does not).
            "wants to stop",
            _OUT,
            r"\b(?:i|we) (?:really |just )?(?:want|wanna|wish|would like|d like|need) to "
            r"(?:stop|unsubscribe|opt out)(?: (?:receiving|getting)(?: (?:these|them|this"
            r"|your|the|any))?(?: (?:texts?|messages?|sms))?)?(?: (?:please|pls|now|thanks"
            r"|thank you|thx))*(?= \||$)",
            "want wanna wish like need",
            needs="stop unsubscribe opt",
        ),
    ),
    "es": (
        _phrase(
            "pide que no le escriban",
            _OUT,
            r"\bno me (?:envien|manden|mande|envie|mandes|envies) (?:mas|mensajes|textos|sms)\b"
            r"|\bno me (?:escriban|escribas|escriba|contacten|contactes|molesten)\b"
            # "no dejen de mandarme los recordatorios" asks for more texts, not fewer.
            r"|\bdej(?<!\bno dej)(?<!\bnunca dej)(?:en|a|e) de (?:enviar|mandar|escribir|contactar"
            r"|molestar)"
            r"|\bno (?:quiero|deseo) (?:volver a )?(?:recibir )?(?:mas )?(?:(?:los|las|sus|tus"
            r"|estos|estas|esos|esas) )?(?:mensajes|textos|sms|ofertas|promociones|recordatorios"
            r"|alertas)\b"
            r"|\bno mas (?:mensajes|textos|sms)\b"
            r"|\bbasta (?:ya )?(?:de|con) (?:(?:los|las|tus|sus|estos|esos|tantos|tantas|tanto) )?"
            r"(?:mensajes|textos|sms|spam|promociones|molestar|escribir\w*|enviar\w*|mandar\w*)\b"
            r"|\bdej(?:enme|ame|eme|adme|ennos) en paz\b",
            "no dejen deja deje basta dejenme dejame dejeme dejadme dejennos",
            negatable=False,
        ),
        _phrase(
            "pide que no le vuelvan a escribir",
            _OUT,
            r"\bno (?:me )?(?:vuelvan|vuelva|vuelvas) a (?:escribir|mandar|enviar|contactar"
            r"|molestar|llamar)",
            "vuelvan vuelva vuelvas",
            negatable=False,
        ),
        _phrase(
            "pide la baja",
            _OUT,
            r"\b(?:darme|dar|dame|denme|deme|doy) de baja\b"
            r"|\b(?:saquenme|quitenme|sacame|quitame|borrenme|eliminenme|borrame) de "
            r"(?:la|su|tu|esta|sus) listas?\b"
            r"|\b(?:borren|borrar|eliminar|eliminen|quiten|quitar) mi numero\b"
            r"|\b(?:cancelar|cancelen|cancela|cancele|anular) (?:mi |la |esta )?"
            r"(?:suscripcion|subscripcion)(?! (?:a|al|del|de la|de mi)\b)",
            "baja saquenme quitenme sacame quitame borrenme eliminenme borrame borren borrar "
            "eliminar eliminen quiten quitar suscripcion subscripcion",
        ),
        _phrase(
            "rechaza",
            _MAYBE,
            r"\bno me interesa\b|\bnumero equivocado\b",
            "interesa equivocado",
        ),
        _phrase(
            "pide volver a recibir mensajes",
            _IN,
            r"\b(?:quiero|quisiera|deseo|me gustaria)(?<!\bno quiero)(?<!\bnunca quiero)"
            r"(?<!\bno deseo) (?:volver a )?recibir (?:de nuevo |otra vez )?"
            r"(?:(?:los|las|sus|tus) )?(?:mensajes|textos|sms|ofertas|recordatorios|promociones"
            r"|alertas)\b",
            "quiero quisiera deseo gustaria",
            negatable=False,
            needs="recibir",
        ),
        _phrase(
            "pregunta por el servicio",
            Intent.HELP,
            r"\bque (?:es|son) (?:este|esta|estos|estas|ese|esa|esos|esas) (?:servicio|programa"
            r"|mensajes|textos|sms|lista|club)(?= \||$)"
            r"|\bpara que son (?:estos|esos|los|sus|tus) (?:mensajes|textos|sms)\b",
            "que",
            negatable=False,
            needs="servicio programa mensajes textos sms lista club",
        ),
    ),
    "fr": (
        _phrase(
            "demande l arret des messages",
            _OUT,
            r"\bne (?:m|me|nous) (?:envoyez|envoie|ecrivez|contactez|ecris|textez) plus\b"
            r"|\bne plus (?:me|m|nous) (?:contacter|ecrire|envoyer)\b"
            r"|\bne veux plus (?:recevoir )?(?:de |d |les |vos |ces )?"
            r"(?:messages?|sms|textos?|notifications|rappels|promotions)\b"
            r"|\barret(?:ez|er|e)? (?:de (?:m |me |nous )?(?:envoyer|ecrire|contacter|texter"
            r"|harceler|deranger|spammer|relancer|solliciter|appeler|embeter)"
            r"|(?:les|vos|ces) (?:messages|sms|textos))\b"
            r"|(?:^|\| )plus de (?:messages|sms|textos)\b",
            "plus arret arretez arreter arrete",
            negatable=False,
        ),
        _phrase(
            "demande le desabonnement",
            _OUT,
            r"\b(?:desabonner|desinscrire|desabonnez|desinscrivez|desabonnement"
            r"|desinscription)\b|\b(?:retirez|enlevez|supprimez|rayez) (?:moi|mon numero)\b"
            r"|\b(?:(?:me|m) (?:retirer|enlever|supprimer|rayer|oter)|(?:retirer|enlever"
            r"|supprimer|rayer|oter) mon numero) (?:de|des) (?:votre|vos|la|cette|ta) listes?\b"
            r"|\b(?:laissez|laisse|laissez nous|laisse nous) ?(?:moi )?tranquilles?\b"
            r"|\b(?:foutez|fichez|fiche|fous) (?:moi|nous) la paix\b",
            "desabonner desinscrire desabonnez desinscrivez desabonnement desinscription "
            "retirez enlevez supprimez rayez retirer enlever supprimer rayer oter laissez laisse "
            "foutez fichez fiche fous",
        ),
        _phrase(
            "ne veut pas recevoir",
            _OUT,
            r"\bne (?:veux pas|souhaite pas|souhaite plus) recevoir (?:de |d |les |vos |ces )?"
            r"(?:messages?|sms|textos?|notifications|rappels|promotions)\b",
            "veux souhaite",
            negatable=False,
            needs="recevoir",
        ),
        _phrase(
            # "Arrêtez svp": the polite imperative alone makes a clause. The familiar
            # "arrête" is left out: "arrête, tu me fais rire" is said to friends.
            "demande d arreter",
            _OUT,
            r"(?:^|\| )(?:(?:svp|merci|bon|mais|alors|donc) )?(?:arretez|cessez|stoppez)"
            r"(?: (?:svp|stp|s il vous plait|merci|maintenant|tout de suite|immediatement|ca"
            r"|tout|donc|enfin))*(?= \||$)",
            "arretez cessez stoppez",
            negatable=False,
        ),
        _phrase(
            "refuse",
            _MAYBE,
            r"\bpas interesse\b|\bmauvais numero\b|^non\b",
            "interesse mauvais non",
        ),
        _phrase(
            "demande a recevoir de nouveau",
            _IN,
            r"\b(?:veux|voudrais|souhaite|aimerais)(?<!\bne veux)(?<!\bne souhaite)"
            r" (?:a nouveau |de nouveau )?recevoir "
            r"(?:a nouveau |de nouveau )?(?:(?:les|vos|des|mes|ces) )?(?:sms|messages|textos"
            r"|rappels|offres|notifications)\b",
            "veux voudrais souhaite aimerais",
            negatable=False,
            needs="recevoir",
        ),
        _phrase(
            "demande ce qu est le service",
            Intent.HELP,
            r"\b(?:c est quoi|qu est ce que c est que|quel est) (?:ce|ces|cette) (?:service"
            r"|programme|sms|messages|textos|liste|club)(?= \||$)",
            "quoi quel",
            negatable=False,
            needs="service programme sms messages textos liste club",
        ),
    ),
    "pt": (
        _phrase(
            "pede para parar",
            _OUT,
            r"\bnao (?:quero|desejo) (?:mais )?(?:voltar a )?(?:receber )?(?:mais )?"
            r"(?:mensagens|sms|textos)\b"
            r"|\bchega de (?:mensagens?|sms|textos|spam|promocoes|me (?:mandar|enviar|incomodar)"
            r"|mandar|enviar)\b"
            r"|\bnao me (?:mandem|mande|enviem|envie) mais\b"
            r"|\b(?:cancelar|parar|pare) (?:as |os |de )?(?:mensagens|sms|textos)\b",
            "nao pare cancelar parar chega",
            negatable=False,
        ),
        _phrase(
            # "Para" is also "for": tried only with a verb of sending. "Não parem de
            # mandar os lembretes" asks for more texts, not fewer.
            "pede para parar de mandar",
            _OUT,
            r"\bpar(?<!\bnao par)(?<!\bnunca par)(?:a|e|em) de (?:me )?"
            r"(?:enviar|mandar|escrever|incomodar)\b",
            "para pare parem",
            negatable=False,
            needs="enviar mandar escrever incomodar",
        ),
        _phrase(
            "pede para sair da lista",
            _OUT,
            r"\bme (?:tira|tire|tirem|remova|removam|retire|retirem|exclua|excluam) "
            r"(?:da|dessa|desta|das|dessas|destas) (?:(?:sua|vossa) )?listas?\b"
            r"|\b(?:remova|removam|remover|apague|apaguem|apagar|exclua|excluam|excluir|delete"
            r"|deletem|tire|tirem|tira) (?:o )?meu (?:numero|contato|telefone|cadastro)\b"
            r"|\bdescadastrar\b|\b(?:me )?deix(?:em|e|a)(?: me)? em paz\b",
            "tira tire tirem remova removam retire retirem exclua excluam remover apague apaguem "
            "apagar excluir delete deletem descadastrar deixem deixe deixa",
        ),
        _phrase(
            "recusa",
            _MAYBE,
            r"\bnao tenho interesse\b|\bnumero errado\b|^nao\b",
            "interesse errado nao",
        ),
        _phrase(
            "pede para voltar a receber",
            _IN,
            r"\b(?:quero|gostaria de|desejo)(?<!\bnao quero)(?<!\bnao desejo) (?:voltar a )?"
            r"receber (?:de novo |novamente )?(?:(?:as|os|suas|seus) )?(?:mensagens|sms|textos"
            r"|ofertas|lembretes|promocoes)\b",
            "quero gostaria desejo",
            negatable=False,
            needs="receber",
        ),
        _phrase(
            "pergunta pelo servico",
            Intent.HELP,
            r"\bque (?:servico|programa|mensagens?|sms|lista|clube) (?:e|sao) (?:esse|essa|esses"
            r"|essas|este|esta|estes|estas)(?= \||$)"
            r"|\bo que (?:e|sao) (?:esse|essa|esses|essas|este|esta|estes|estas) (?:servico"
            r"|programa|mensagens|sms|lista|clube)(?= \||$)",
            "que",
            negatable=False,
            needs="servico programa mensagem mensagens sms lista clube",
        ),
    ),
    "de": (
        _phrase(
            "bittet um keine nachrichten",
            _OUT,
            r"\bkeine (?:weiteren )?(?:nachrichten|sms|werbung)(?: \w+)? mehr\b"
            r"|\bkeine weiteren (?:nachrichten|sms)\b"
            r"|\bnicht mehr (?:kontaktieren|schreiben|anschreiben|kontaktiert|angeschrieben)\b"
            r"|\b(?:loschen|entfernen|streichen) sie (?:bitte )?meine (?:handy|telefon|mobil)?"
            r"nummer\b(?! nicht\b)"
            r"|\bmeine (?:handy|telefon|mobil)?nummer (?:bitte )?(?:loschen|entfernen|streichen)\b"
            r"|\bauf (?:\| )?(?:mir|mich) zu (?:schreiben|kontaktieren)\b"
            r"|\bmelden sie mich ab\b|\bmich abmelden\b"
            r"|\blass(?:en sie|t|)? (?:mich|uns)(?: \w+)? in ruhe\b"
            r"|\b(?:nehmen sie|nimm|streichen sie|entfernen sie|loschen sie) (?:mich|meine nummer)"
            r"(?: \w+){0,2} (?:aus|von) (?:der|ihrer|dieser|eurer|deiner) "
            r"(?:liste|verteilerliste)\b",
            "keine nicht auf melden abmelden lassen lass lasst nehmen nimm streichen entfernen "
            "loschen",
            negatable=False,
        ),
        _phrase(
            "will die nachrichten nicht mehr",
            _OUT,
            r"\b(?:will|mochte|brauche|wollen|mochten) (?:diese|ihre|eure|deine|die|solche) "
            r"(?:nachrichten|sms|werbung|textnachrichten|benachrichtigungen) nicht mehr\b",
            "will mochte brauche wollen mochten",
            negatable=False,
            needs="mehr",
        ),
        _phrase(
            "lehnt ab",
            _MAYBE,
            r"\bkein interesse\b|\bfalsche nummer\b|^nein\b",
            "interesse falsche nein",
        ),
        _phrase(
            "mochte die nachrichten wieder",
            _IN,
            r"\b(?:mochte|will|wurde gerne|mochten|wollen) (?:wieder |erneut )?(?:(?:die|ihre"
            r"|eure|deine) )?(?:sms|nachrichten|erinnerungen|angebote|benachrichtigungen) "
            r"(?:wieder |erneut )?(?:bekommen|erhalten|empfangen)\b",
            "mochte will wurde mochten wollen",
            negatable=False,
            needs="bekommen erhalten empfangen",
        ),
        _phrase(
            "fragt nach dem dienst",
            Intent.HELP,
            r"\bwas (?:ist|sind) (?:das|dies|diese|dieser|dieses) fur (?:(?:ein|eine|einen) )?"
            r"(?:dienst|service|programm|nachrichten|sms|liste)\b"
            r"|\bwas fur (?:(?:ein|eine) )?(?:dienst|service|programm|nachrichten|sms) "
            r"(?:ist das|sind das)\b",
            "fur",
            negatable=False,
            needs="dienst service programm nachrichten sms liste",
        ),
    ),
}

# -- context words ----------------------------------------------------------------------

#: A negation right before an opt-out phrase cancels it: "don't stop the reminders",
#: "never stop texting me these deals". ("t" is what is left of "n't".)
NEGATORS = frozenset(
    {"not", "t", "dont", "never", "cant", "wont", "didnt", "doesnt", "cannot", "nunca"}
)
#: "why won't you stop texting me" is a request, not a negation.
NEGATION_BREAKERS = frozenset({"you", "u"})
#: The object of a verb before a phrase: "remove me | from the list".
OBJECT_PRONOUNS = frozenset({"me", "us", "myself", "it"})
#: A question about how to opt out is a possible opt-out, not an opt-out: the
#: clarification reply tells the person how (64.1200(a)(12)).
QUESTION_WORDS = frozenset({"how", "way", "if", "whether", "what", "como", "comment", "wie"})

#: Whole replies (after fillers) that may mean "stop" but are not clear enough to act
#: on: TCPA suits were filed over "no" and "S"; "no" also answers many other questions.
POSSIBLE_REPLIES = frozenset({"no", "nope", "nah", "s", "enough", "non", "nao", "nein"})

#: Whole replies (after fillers) that mean one thing, though no keyword. Refusals: "no
#: more" answering a text means no more of them; "FIN" is French for END and "basta"
#: Spanish for "enough" (64.1200(a)(10): what a reasonable person would read). Questions
#: about who is texting are answered with the HELP reply, which names the brand and how
#: to stop (CTIA 5.1.2.1). Opt-ins are explicit requests to be sent texts again only.
SHORT_REPLIES: dict[str, tuple[Intent, str]] = {
    **dict.fromkeys(("no more", "no more of these", "no more of this"), (_OUT, "en")),
    "fin": (_OUT, "fr"),
    **dict.fromkeys(("basta", "basta ya"), (_OUT, "es")),
    **dict.fromkeys(
        (
            "who is this", "who s this", "whos this", "who dis", "new phone who dis",
            "who is texting me", "what is this", "what s this", "whats this",
            "what is this about", "what s this about", "what company is this",
            "more info", "more information", "hlep",
        ),
        (Intent.HELP, "en"),
    ),
    **dict.fromkeys(
        ("quien es", "quien eres", "que es esto", "de que se trata", "mas informacion"),
        (Intent.HELP, "es"),
    ),
    **dict.fromkeys(
        ("qui est ce", "c est qui", "c est quoi", "plus d infos", "plus d informations"),
        (Intent.HELP, "fr"),
    ),
    **dict.fromkeys(
        ("quem e", "quem fala", "o que e isso", "mais informacoes"), (Intent.HELP, "pt")
    ),
    **dict.fromkeys(
        ("wer ist da", "wer ist das", "wer sind sie", "was ist das", "mehr infos"),
        (Intent.HELP, "de"),
    ),
    **dict.fromkeys(
        (
            "sign me back up", "sign me up", "resubscribe me", "add me back", "strat",
            # JOIN: the word short-code programs advertise for joining.
            "join", "rejoin", "join again",
        ),
        (_IN, "en"),
    ),
    **dict.fromkeys(
        ("suscribirme de nuevo", "quiero volver a suscribirme", "quiero suscribirme"),
        (_IN, "es"),
    ),
    **dict.fromkeys(
        (
            "me reabonner", "je veux me reabonner", "me reinscrire", "inscrivez moi",
            "reinscrivez moi", "je veux m inscrire",
        ),
        (_IN, "fr"),
    ),
    **dict.fromkeys(
        ("quero me cadastrar", "quero me inscrever", "me cadastre", "me inscreva"),
        (_IN, "pt"),
    ),
    "wieder anmelden": (_IN, "de"),
}  # fmt: skip

#: A strong opt-out keyword at the end of a clause counts after these words only:
#: "wrong number stop", "I said stop", "can you stop". Others ("the bus stop", "to
#: stop", "if I reply stop") are other senses or quotations.
BEFORE_FINAL_KEYWORD = frozenset(
    {
        "said", "say", "saying", "number", "please", "pls", "plz", "kindly", "just", "ok",
        "okay", "omg", "now", "you", "u", "so", "seriously", "again", "already", "yes",
        "yeah", "hey", "hi", "interested",
    }
)  # fmt: skip
#: A strong opt-out keyword opening a clause counts when a new sentence follows it
#: without punctuation: "STOP who is this", "Stop I'm not interested".
AFTER_FIRST_KEYWORD = frozenset(
    {"i", "im", "who", "wrong", "you", "u", "we", "not", "never", "dont", "do"}
)
