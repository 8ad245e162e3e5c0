"""Wrong numbers: a reply saying this number is not the person the texts are for.

"Wrong number", "you have the wrong person", "I'm not Mike", "new number, not Janet's",
"Número equivocado", "mauvais numéro", "falsche Nummer", "numero sbagliato", "número
errado": whoever gave the consent on record does not have this number (a typo in a
form, a number reassigned to someone new). Under a policy whose ``wrong_number`` is
``end_consent`` (the default profile) the consent ends for every scope, with method
``wrong_number``, and the contact gets one confirmation that carries no marketing
(64.1200(a)(12)); under ``flag`` (the vendor profiles) the reply is a possible opt-out
for review (``revocation_flagged``), as the classifier reads it already.

Belongs here: reading a reply as a wrong number (:func:`detect`, in en, es, fr, de, pt
and it), the confirmation texts, and :func:`receive`, the inbound step that applies
it before :func:`optline.domain.inbound_text.receive`. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from optline.domain import consent, inbound_text
from optline.domain.classify import Classification, Stage
from optline.domain.consent import ContactState, Outcome, Sender, Trigger
from optline.domain.consent_codes import Method, Source, Status
from optline.domain.policy import Intent, Policy, WrongNumber
from optline.domain.text import clause_form, fold

# -- phrases, matched against clause_form(fold(text)): lower case, no accents,
# apostrophes split words ("n'est" -> "n est"), "|" where punctuation ends a clause.

_EN = (
    r"\bwrong (?:(?:phone |cell |mobile )?(?:number|numbr|numb|num)|person|persn|guy|girl"
    r"|lady|man|dude|contact|people|family)\b"
    r"|\b(?:you|u) (?:must |probably |might |may )?(?:mean|want|re looking for|are looking "
    r"for|re after|re thinking of) (?:someone|somebody) else\b"
    r"|\b(?:texting|messaging|contacting) (?:the wrong|someone else)\b"
    r"|\b(?:confused|mixed up|mistaken|mistook) (?:me |this number )?(?:with|for) "
    r"(?:someone|somebody)\b|\bme (?:confused|mixed up) with (?:someone|somebody)\b"
    r"|\bnot (?:who|whoever|the person|the one) (?:you re|you are|youre|u r|ur|you want|you need"
    r"|you think)\b"
    r"|\bisn t who you think\b"
    r"|\bmean to (?:text|message|reach|contact) (?:someone|somebody) else\b"
    r"|\b(?:you|u) (?:must have |probably |might have )?(?:typed|entered|dialed|dialled|put in"
    r"|wrote) (?:the|this|a) number (?:in )?wrong\b"
    r"|\b(?:sure|think) (?:you have|you ve got|u have|you got) the right (?:number|person)\b"
    r"|\bwho (?:you re|you are|youre|are you|r u|are u) (?:trying to (?:reach|text|contact)"
    r"|looking for)\b"
    r"|\b(?:no one|nobody|noone) (?:named|called|by that name|by the name)"
    r"|\bthis number (?:was|has been|got|is) (?:reassigned|recycled)\b"
    r"|\b(?:previous|old|former|prior) owner of (?:this|the|my) (?:phone )?number\b"
    r"|\bnot the (?:previous|old|former|prior) owner\b"
    r"|\bthis (?:phone )?number (?:belongs to|is) (?:me|mine) now\b"
    r"|\bi (?:just |recently )?got this (?:phone )?number\b"
)
_ES = (
    r"\bnumero (?:equivocado|incorrecto|erroneo)\b"
    r"|\b(?:se|te|os) (?:equivoco|equivocaron|equivocaste|equivocan|equivocas) de "
    r"(?:numero|persona)\b"
    r"|\bpersona (?:equivocada|incorrecta)\b"
    r"|\b(?:esta|este) (?:numero|telefono) (?:ya )?no es de\b"
    r"|\bnadie (?:se llama|con ese nombre|llamad[oa])\b"
)
_FR = (
    r"\b(?:mauvais|faux) (?:numero|num|destinataire)\b"
    r"|\berreur de (?:numero|personne|destinataire)\b"
    r"|\bmauvaise personne\b"
    r"|\b(?:trompe|trompes|trompee|trompez) de (?:numero|personne)\b"
    r"|\bce numero n (?:est|appartient) plus\b"
    r"|\bpersonne (?:ne s appelle|de ce nom)\b"
)
_DE = (
    r"\bfalsche (?:nummer|handynummer|telefonnummer|person)\b"
    r"|\bfalsch verbunden\b|\bverwahlt\b|\bverwaehlt\b"
    r"|\b(?:diese|die) nummer (?:gehort|gehoert) (?:nicht|jetzt mir)\b"
    r"|\bniemand (?:namens|mit diesem namen|mit dem namen)\b"
)
_PT = (
    r"\bnumero (?:errado|incorreto|trocado)\b"
    r"|\bpessoa errada\b"
    r"|\b(?:e|foi|deve ser) engano\b|^engano\b"
    r"|\b(?:esse|este) numero (?:nao e|ja nao e|nao pertence)\b"
    r"|\bninguem (?:com esse nome|chamad[oa])\b"
)
_IT = (
    r"\bnumero (?:sbagliato|errato)\b"
    r"|\b(?:sbagliato|sbagliata|sbagliate|sbagliati) (?:numero|persona)\b"
    r"|\bpersona sbagliata\b"
    r"|\b(?:questo|il) numero non e (?:piu )?(?:di|del|della)\b"
    r"|\bnessuno (?:si chiama|con questo nome|di nome)\b"
)

# "I'm not Mike", "this isn't Mike", "not Janet's": a name, written with a capital in
# the text itself, after the words that deny being that person or that number.
_NOT_NAME = {
    "en": r"(?:^|\| )(?:no |sorry |nope |nah |um |uh |hi |hey |well )*"
    r"(?:(?:i m|im|i am|this is|it s|its|it is|that s|thats|this aint) not"
    r"|this isn t|this isnt|it isn t|it isnt|that isn t) "
    r"(?P<name>[a-z]+)(?: s)?(?: (?:here|sorry|lol|number|phone|anymore|any more))*"
    r"(?= \||$)"
    r"|^(?:(?:no|sorry|nope|nah|um|hi|hey) (?:\| )?)*not (?P<bare>[a-z]+)(?: s)?(?= \||$)"
    r"|\bnot (?P<poss>[a-z]+) s (?:number|phone|cell)\b"
    r"|(?:^|\| )not (?P<whose>[a-z]+) s(?= \||$)"
    r"|\b(?:i don t|i dont|dont|don t) know (?:any|a|an|anyone named|anybody named) "
    r"(?P<known>[a-z]+)\b"
    r"|\b(?:there s|theres|there is) no (?P<here>[a-z]+) (?:here|at this number)\b",
    "es": r"(?:^|\| )(?:no|yo no) soy (?:el |la )?(?P<name>[a-z]+)(?= \||$)"
    r"|\bno (?:conozco|conocemos) a (?:ningun |ninguna )?(?P<known>[a-z]+)\b"
    r"|\b(?:aqui|aca) no (?:hay|vive) (?:ningun |ninguna )?(?P<here>[a-z]+)\b",
    "fr": r"(?:^|\| )(?:je ne suis pas|ce n est pas|c est pas|je suis pas) (?P<name>[a-z]+)"
    r"(?= \||$)|\bje ne connais (?:pas de |aucun |aucune )?(?P<known>[a-z]+)\b"
    r"|\bil n y a (?:pas de |aucun |aucune )(?P<here>[a-z]+) ici\b",
    "de": r"(?:^|\| )(?:ich bin nicht|ich bin kein|hier ist nicht|das ist nicht) "
    r"(?P<name>[a-z]+)(?= \||$)|\bich kenne (?:keine|keinen|kein) (?P<known>[a-z]+)\b"
    r"|\bhier (?:gibt es|wohnt) (?:keine |keinen |kein )(?P<here>[a-z]+)\b",
    "pt": r"(?:^|\| )(?:nao sou|eu nao sou) (?:o |a )?(?P<name>[a-z]+)(?= \||$)"
    r"|\bnao (?:conheco|conhecemos) (?:nenhum |nenhuma )?(?P<known>[a-z]+)\b"
    r"|\baqui nao (?:tem|mora) (?:nenhum |nenhuma )?(?P<here>[a-z]+)\b",
    "it": r"(?:^|\| )(?:non sono|io non sono) (?P<name>[a-z]+)(?= \||$)"
    r"|\bnon conosco (?:nessun |nessuna |nessuno )?(?P<known>[a-z]+)\b"
    r"|\bqui non c e (?:nessun |nessuna |nessuno )(?P<here>[a-z]+)\b",
}

# Words that follow "not" or "I'm not" capitalised at the start of a clause without
# being a name ("Not Now", "I'm not Sure", "Who's THIS?").
_COMMON_WORDS = """
a an the it this that these those me you him her us them my your his our their here
there now today tonight tomorrow yet really sure interested available home ready
able going coming done free busy late sick well good fine ok okay sorry happy mad
angry working right correct true what who why how when where anymore again either
always never much many more so too very yes no all any one two calling texting
asking paying buying using driving moving staying leaving allowed bad monday tuesday
wednesday thursday friday saturday sunday january february march april may june july
august september october november december en el la los las un una yo eso esto ese
esta aqui hoy ahora bien seguro interesado interesada nada nadie pas plus rien le
les une ce ici maintenant moi toi interesse nicht kein keine mehr hier jetzt da das
der die ein eine ich du sie wir heute gut sicher o os um uma isso isto aqui agora
hoje bem nao sim il lo gli un una qui ora oggi bene sicuro sicura interessato
interessata nessuno
"""
_NOT_NAMES = frozenset(_COMMON_WORDS.split())

# A reply about a number the contact got wrong themselves, or a negated wrong number.
_NOT_WRONG_NUMBER = re.compile(
    r"^(?:oops|oopsie|whoops|my bad|my mistake)\b"
    r"|\b(?:sent|texted|meant) (?:this|that|it) (?:to|for) (?:the )?wrong\b"
    r"|\b(?:i|we|i ve|ive|i have|did i|i might have|i may have|must have) (?:gave|give|given"
    r"|sent|send|typed|type|entered|enter|put|wrote|written|dialed|dialled|dial|called|used"
    r"|texted|had|got|have) (?:you |u |y all |in )?(?:the |a |an )?wrong\b"
    r"|\bnot (?:a |the )?wrong (?:number|person)\b"
    r"|\bwrong (?:number|no) of\b"
    r"|\b(?:le|les) di (?:el|un) numero equivocado\b"
    r"|\bdi el numero (?:equivocado|incorrecto)\b"
    r"|\b(?:j ai|on a) (?:donne|mis|tape|ecrit) (?:le |un )?(?:mauvais|faux) numero\b"
    r"|\b(?:ich habe|hab) (?:die |eine )?falsche nummer (?:angegeben|eingegeben|genannt)\b"
    r"|\b(?:eu )?(?:dei|passei|coloquei) (?:o |um )?numero errado\b"
    r"|\b(?:ho dato|ho messo|ho scritto) (?:il |un )?numero sbagliato\b"
    # "Ho sbagliato numero io": I got the number wrong ("ha sbagliato", you did).
    r"|\b(?:ho|avevo|abbiamo) sbagliato (?:il )?numero\b"
)

_PHRASES: Mapping[str, re.Pattern[str]] = {
    language: re.compile(pattern)
    for language, pattern in (
        ("en", _EN),
        ("es", _ES),
        ("fr", _FR),
        ("de", _DE),
        ("pt", _PT),
        ("it", _IT),
    )
}
_NAMES: Mapping[str, re.Pattern[str]] = {
    language: re.compile(pattern) for language, pattern in _NOT_NAME.items()
}


# A word each reading of a language needs (every one of its alternatives has one of
# them): most replies have none, and are passed over without a regular expression.
_PHRASE_WORDS: Mapping[str, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in (
        (
            "en",
            "wrong someone somebody not isn right who one nobody noone reassigned recycled"
            " owner now got",
        ),
        (
            "es",
            "numero persona telefono nadie equivoco equivocaron equivocaste equivocan equivocas",
        ),
        ("fr", "mauvais faux erreur mauvaise trompe trompes trompee trompez numero personne"),
        ("de", "falsche falsch verwahlt verwaehlt nummer niemand"),
        ("pt", "numero pessoa engano ninguem"),
        ("it", "numero sbagliato sbagliata sbagliate sbagliati persona nessuno"),
    )
}
_NAME_WORDS: Mapping[str, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in (
        ("en", "not isn isnt know there theres"),
        ("es", "soy conozco conocemos aqui aca"),
        ("fr", "suis est connais il"),
        ("de", "bin ist kenne hier"),
        ("pt", "sou conheco conhecemos aqui"),
        ("it", "sono conosco qui"),
    )
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A reply read as a wrong number: its language and the words that say so."""

    language: str
    words: str

    @property
    def reason(self) -> str:
        return f"{Stage.RULES.value} stage: wrong number ({self.language}: {self.words!r})"


def detect(text: str) -> Finding | None:
    """Does ``text`` say the number is not the intended person's? None if not."""
    form = clause_form(fold(text))
    words = frozenset(form.split())
    found = _read(form, words, _PHRASES, _PHRASE_WORDS)
    # A name is written with a capital: without one, no name is denied.
    if found is None and not text.islower() and any(ch.isupper() for ch in text):
        found = _read(form, words, _NAMES, _NAME_WORDS, text)
    # The exclusions are tried last, on the few replies read as a wrong number.
    if found is None or _NOT_WRONG_NUMBER.search(form):
        return None
    return found


def _read(
    form: str,
    words: frozenset[str],
    patterns: Mapping[str, re.Pattern[str]],
    needed: Mapping[str, frozenset[str]],
    text: str | None = None,
) -> Finding | None:
    """The first language whose ``patterns`` read ``form`` as a wrong number; a
    language is tried only where ``form`` has one of the words it ``needed``. With
    ``text``, a pattern's name must be written with a capital there."""
    for language, pattern in patterns.items():
        if words.isdisjoint(needed[language]):
            continue
        for found in pattern.finditer(form):
            if text is not None:
                name = next(v for v in found.groupdict().values() if v is not None)
                if name in _NOT_NAMES or not _capitalised(text, name):
                    continue
            return Finding(language, found.group(0).strip(" |"))
    return None


def _capitalised(text: str, name: str) -> bool:
    """Is ``name`` (folded) written in ``text`` with a capital, as a name is?"""
    return any(
        word[0].isupper() and fold(word) == name
        for word in re.findall(r"[^\W\d_]+", text)
        if len(word) > 1
    )


#: The one confirmation sent when a wrong number ends consent: no marketing
#: (64.1200(a)(12)), and it does not ask the new holder to do anything.
CONFIRMATIONS: Mapping[str, str] = {
    "en": "{brand}: Sorry for the mix-up. This number is removed and will get no more texts "
    "from us.",
    "es": "{brand}: Disculpe la confusión. Este número queda eliminado y no recibirá más "
    "mensajes nuestros.",
    "fr": "{brand} : Désolés pour l'erreur. Ce numéro est retiré et ne recevra plus de "
    "messages de notre part.",
    "de": "{brand}: Entschuldigung für das Versehen. Diese Nummer ist entfernt und erhält "
    "keine Nachrichten mehr von uns.",
    "pt": "{brand}: Desculpe o engano. Este número foi removido e não receberá mais "
    "mensagens nossas.",
    "it": "{brand}: Ci scusiamo per l'errore. Questo numero è stato rimosso e non riceverà "
    "più messaggi da noi.",
}

# Readings a wrong number takes the place of: not an opt-in, nor an account keyword.
_REPLACES = frozenset({Intent.OPT_OUT, Intent.POSSIBLE_OPT_OUT, Intent.HELP, Intent.NONE})


def receive(
    state: ContactState,
    text: str,
    classification: Classification,
    sender: Sender,
    policy: Policy,
    triggers: Mapping[str, Trigger],
    list_keywords: Mapping[str, str],
    rest: Callable[[Classification], Outcome] | None = None,
) -> tuple[Classification, Outcome]:
    """Apply one inbound text, reading it as a wrong number first; anything else (and a
    blocked contact's text) goes to ``rest`` (the text's reading, as a possible opt-out
    where a flagged wrong number made it one), by default
    :func:`optline.domain.inbound_text.receive`. Returns the classification the text was
    applied as, and the outcome."""
    found = None if classification.intent not in _REPLACES else detect(text)
    if found is not None and policy.wrong_number is WrongNumber.FLAG:
        # Flagged as a wrong number, by that reason, whatever weaker reading it had
        # ("I'm not Mike" the rules may read as a possible opt-out too); an opt-out stands.
        if classification.intent is not Intent.OPT_OUT:
            classification = Classification(
                Intent.POSSIBLE_OPT_OUT, None, found.language, found.reason
            )
    elif found is not None and not state.blocked:
        classification = Classification(
            Intent.OPT_OUT,
            classification.keyword,
            found.language,
            found.reason,
            all_senders=True,
        )
        return classification, _end(state, classification, found, sender, policy)
    if rest is not None:
        return classification, rest(classification)
    outcome = inbound_text.receive(state, classification, sender, policy, triggers, list_keywords)
    return classification, outcome


def _end(
    state: ContactState,
    classification: Classification,
    found: Finding,
    sender: Sender,
    policy: Policy,
) -> Outcome:
    already = state.account_status is Status.OPTED_OUT and all(
        s is Status.OPTED_OUT for s in state.sender_status.values()
    )
    ended = consent.end_consent(
        state,
        policy,
        Source.KEYWORD,
        Method.WRONG_NUMBER,
        sender.number,
        keyword=classification.keyword,
        reason=found.reason,
    )
    if already and policy.one_confirmation_per_opt_out:
        return ended  # its opted_out event says ``repeat``: confirmed once already
    template = CONFIRMATIONS.get(found.language, CONFIRMATIONS["en"])
    return replace(ended, reply=policy.render(template))
