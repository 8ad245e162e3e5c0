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

# -- fillers ----------------------------------------------------------------------------

#: Words that add nothing to a bare keyword: "Stop. Thank you", "STOP PLEASE", "ok stop",
#: "baja por favor", "arrêt svp". CTIA 5.1.3 asks to ignore such de minimis variances.
FILLERS = frozenset(
    {
        # en
        "please", "pls", "plz", "pleas", "kindly", "thanks", "thank", "you", "u", "thx",
        "ty", "tyvm", "ok", "okay", "k", "now", "asap", "immediately", "already", "just",
        "sir", "maam", "yes", "yeah", "it", "and", "again", "anymore", "right", "away",
        "seriously", "omg",
        # es, pt
        "por", "favor", "porfa", "gracias", "ya", "obrigado", "obrigada",
        # fr ("s'il vous plaît", "stp": s'il te plaît)
        "svp", "stp", "merci", "s", "il", "vous", "plait", "te", "oui",
        # de
        "bitte", "danke", "sofort", "jetzt",
    }
)  # fmt: skip

# -- phrases ----------------------------------------------------------------------------

# Building blocks, English. "text" nouns are the things a texting program sends.
_TEXTS = (
    r"(?:texts?|txts?|text messages?|messages?|msgs?|sms|reminders?|notifications?|"
    r"alerts?|promos?|promotions?|offers|ads|marketing|spam|calls|emails)"
)
_SENDING = (
    r"(?:sending|texting|txting|messaging|msging|contacting|calling|emailing|spamming|"
    r"bothering|harassing|pestering|bugging)"
)
_DETERMINERS = (
    r"(?:all|the|these|those|this|your|ur|any|my|more|of|with|sending|me|us|receiving|"
    r"getting|text|sms|marketing|promotional|daily|stupid|annoying|damn)"
)
_ME = r"(?:me|us|my (?:number|phone|cell|name|info|contact)|this (?:number|phone))"
_NOT = r"(?:don t|dont|do not|never|no longer|pls don t)"


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
    and count only as possible when the clause asks how ("how do I unsubscribe?").
    """

    name: str
    intent: Intent
    pattern: str
    anchors: frozenset[str]
    negatable: bool = True
    needs: frozenset[str] = frozenset()


def _phrase(
    name: str,
    intent: Intent,
    pattern: str,
    anchors: str,
    negatable: bool = True,
    needs: str = "",
) -> Phrase:
    return Phrase(
        name, intent, pattern, frozenset(anchors.split()), negatable, frozenset(needs.split())
    )


_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
_IN = Intent.OPT_IN

PHRASES: dict[str, tuple[Phrase, ...]] = {
    "en": (
        _phrase(
            "asks to stop sending",
            _OUT,
            rf"\b(?:stop|quit|cease) {_SENDING}\b",
            "stop quit cease",
            needs=_last_words(_SENDING),
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
            rf"\b{_NOT} (?:ever )?(?:text|txt|message|msg|sms|contact|send|email|bother|spam)"
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
            "refuses",
            _MAYBE,
            r"\b(?:not|no longer) interested\b|\bwrong (?:number|person|guy|girl)\b",
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
            r"|\b(?:start|resume) (?:texting|messaging|sending) me\b"
            r"|\b(?:want|like) to (?:get|receive) (?:your )?(?:texts|messages) again\b",
            "opt subscribe resubscribe start resume texts messages",
            needs="in me again",
        ),
    ),
    "es": (
        _phrase(
            "pide que no le escriban",
            _OUT,
            r"\bno me (?:envien|manden|mande|envie|mandes|envies) (?:mas|mensajes|textos|sms)\b"
            r"|\bno me (?:escriban|escribas|escriba|contacten|contactes|molesten)\b"
            r"|\bdej(?:en|a|e) de (?:enviar|mandar|escribir|contactar|molestar)"
            r"|\bno (?:quiero|deseo) (?:recibir )?(?:mas )?(?:mensajes|textos|sms)\b"
            r"|\bno mas (?:mensajes|textos|sms)\b"
            r"|\bbasta (?:ya )?de (?:mensajes|textos|sms|spam|molestar|escribir\w*|enviar\w*)\b"
            r"|\bdej(?:enme|ame|eme|adme|ennos) en paz\b",
            "no dejen deja deje basta dejenme dejame dejeme dejadme dejennos",
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
    ),
    "fr": (
        _phrase(
            "demande l arret des messages",
            _OUT,
            r"\bne (?:m|me|nous) (?:envoyez|envoie|ecrivez|contactez|ecris|textez) plus\b"
            r"|\bne plus (?:me|m|nous) (?:contacter|ecrire|envoyer)\b"
            r"|\bne veux plus (?:recevoir )?(?:de |d |les |vos |ces )?"
            r"(?:messages?|sms|textos?|notifications|rappels|promotions)\b"
            r"|\barret(?:ez|er|e)? (?:de (?:m |me |nous )?(?:envoyer|ecrire|contacter|texter)"
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
            "refuse",
            _MAYBE,
            r"\bpas interesse\b|\bmauvais numero\b|^non\b",
            "interesse mauvais non",
        ),
    ),
    "pt": (
        _phrase(
            "pede para parar",
            _OUT,
            r"\bnao (?:quero|desejo) (?:mais )?(?:receber )?(?:mais )?(?:mensagens|sms|textos)\b"
            r"|\bparem? de (?:me )?(?:enviar|mandar)\b"
            r"|\bnao me (?:mandem|mande|enviem|envie) mais\b"
            r"|\b(?:cancelar|parar|pare) (?:as |os |de )?(?:mensagens|sms|textos)\b",
            "nao pare parem cancelar parar",
            negatable=False,
        ),
        _phrase(
            "pede para sair da lista",
            _OUT,
            r"\bme (?:tire|tirem|remova|removam|retire|retirem) da (?:sua |vossa )?lista\b"
            r"|\bdescadastrar\b|\b(?:me )?deix(?:em|e|a)(?: me)? em paz\b",
            "tire tirem remova removam retire retirem descadastrar deixem deixe deixa",
        ),
        _phrase(
            "recusa",
            _MAYBE,
            r"\bnao tenho interesse\b|\bnumero errado\b|^nao\b",
            "interesse errado nao",
        ),
    ),
    "de": (
        _phrase(
            "bittet um keine nachrichten",
            _OUT,
            r"\bkeine (?:weiteren )?(?:nachrichten|sms|werbung)(?: \w+)? mehr\b"
            r"|\bkeine weiteren (?:nachrichten|sms)\b"
            r"|\bnicht mehr (?:kontaktieren|schreiben|anschreiben)\b"
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
            "lehnt ab",
            _MAYBE,
            r"\bkein interesse\b|\bfalsche nummer\b|^nein\b",
            "interesse falsche nein",
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
        ("sign me back up", "sign me up", "resubscribe me", "add me back", "strat"),
        (_IN, "en"),
    ),
    **dict.fromkeys(("suscribirme de nuevo", "quiero volver a suscribirme"), (_IN, "es")),
    **dict.fromkeys(("me reabonner", "je veux me reabonner", "me reinscrire"), (_IN, "fr")),
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
