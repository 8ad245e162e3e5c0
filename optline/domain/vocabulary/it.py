"""Italian: keywords, fillers and the fixed phrases of a reply about the texts: "basta
con i messaggi" (enough of the texts), and the replies that may refuse them ("numero
sbagliato", as Spanish "número equivocado"). "basta" alone is Spanish's short reply
already. Other Italian phrasing is the learned stage's (optline.domain.learned), trained
on the Italian replies under ``tests/data/replies/``."""

from __future__ import annotations

from optline.domain.policy import Intent, KeywordSet
from optline.domain.vocabulary.phrase import Phrase, phrase

# -- keywords (whole message) -----------------------------------------------------------

#: The Italian words for leaving, joining and asking for help with a texting list.
KEYWORDS = KeywordSet.of(
    opt_out=("DISISCRIVIMI", "DISISCRIVI", "DISISCRIZIONE", "CANCELLAMI", "DISATTIVA"),
    opt_in=("ISCRIVIMI", "ISCRIVI", "ISCRIZIONE", "RIATTIVA"),
    help=("AIUTO", "INFORMAZIONI"),
)

# -- fillers ----------------------------------------------------------------------------

#: "disiscrivimi per favore", "aiuto grazie" ("perfavore" and "pf" as typed).
FILLERS = frozenset({"per", "favore", "perfavore", "pf", "grazie"})

# -- phrases ----------------------------------------------------------------------------

# What a texting program sends, in Italian and as Italians text it in English.
_MESSAGES = r"(?:messaggi|messaggini|msg|sms|texts|notifiche|promozioni|offerte|pubblicita)"

# Verbs of sending with the reader as object: "non mandarmi più", "nn scrivetemi +".
_NO_MORE_VERBS = (
    r"(?:mandarmi|inviarmi|scrivermi|contattarmi|mandatemi|inviatemi|scrivetemi"
    r"|contattatemi|mandarci|inviarci|scriverci|contattarci|mandateci|scriveteci"
    r"|disturbarmi|disturbatemi|cercarmi|cercatemi)"
)

PHRASES: tuple[Phrase, ...] = (
    phrase(
        # "Mi sono disiscritto per sbaglio": an earlier opt-out told as a slip.
        "racconta uno stop per sbaglio",
        Intent.NONE,
        r"\b(?:disiscritto|disiscritta|(?:scritto|mandato|inviato|premuto|risposto) stop)"
        r" (?:per sbaglio|per errore)\b",
        "sbaglio errore",
        negatable=False,
    ),
    phrase(
        # "Smettetela", "smettete di scrivermi": stop it, as a clause of its own or with
        # a verb of sending; "smettila di farmi ridere" asks something else.
        "chiede di smettere",
        Intent.OPT_OUT,
        r"(?:^|\| )(?:(?:per favore|ora|adesso|ok|vi prego) )*(?:smettetela|smettila"
        r"|smettete|la smetta)(?: (?:per favore|subito|ora|adesso|grazie))*(?= \||$)"
        r"|\b(?<!\bnon )(?:smettete|smettetela|smettila|smetta|smettere) di (?:me )?"
        r"(?:scriver|mandar|inviar|contattar|disturbar|messaggiar|importunar)\w*",
        "smettetela smettila smettete smetta smettere",
        negatable=False,
    ),
    phrase(
        # "Vi chiedo di non mandarmi più messaggi": not to send any more, often inside a
        # polite message ("non scrivermi più tardi" only puts it off).
        "chiede di non scrivere piu",
        Intent.OPT_OUT,
        rf"\b(?:non|nn) {_NO_MORE_VERBS}(?: mai)? piu\b"
        # "Non mandarmi più di due foto": more than, not any more.
        r"(?! (?:tardi|presto|di|del|della|dei|delle|che)\b)"
        # "nn mandate + msg" (the "+" is dropped): the texts closing the clause.
        rf"|\b(?:non|nn) (?:{_NO_MORE_VERBS}|mandate|inviate|scrivete)(?: mai)?(?: piu)?"
        rf" (?:(?:i|altri|questi) )?{_MESSAGES}(?: (?:per favore|grazie))*(?= \||$)",
        "mandarmi inviarmi scrivermi contattarmi mandatemi inviatemi scrivetemi contattatemi "
        "mandarci inviarci scriverci contattarci mandateci scriveteci disturbarmi "
        "disturbatemi cercarmi cercatemi mandate inviate scrivete",
        negatable=False,
    ),
    phrase(
        "basta messaggi",
        Intent.OPT_OUT,
        r"\bbasta (?:(?:con|coi|di|a) )?(?:(?:i|questi|sti|tutti|tutti i|le|queste) )?"
        rf"{_MESSAGES}\b",
        "basta",
        negatable=False,
    ),
    phrase(
        # A wrong number, no interest, too many texts, never signed up: may mean stop.
        # "Non mi interessa il colore" declines something else.
        "rifiuta",
        Intent.POSSIBLE_OPT_OUT,
        # Not the contact's own slip: "ho sbagliato numero io", "ho dato il numero sbagliato".
        r"\b(?<!\bho dato il )(?<!\bho dato un )(?:numero sbagliato|(?<!\bho )sbagliato numero"
        r"|persona sbagliata)\b"
        r"|\bnon mi interessa\b(?! (?:il|la|lo|l|i|gli|le|questo|quello|quella) "
        rf"(?!{_MESSAGES}\b))"
        rf"|\btroppi {_MESSAGES}\b"
        r"|\bnon mi sono mai (?:iscritto|iscritta|registrato|registrata)\b"
        # "Come avete avuto il mio numero?": never signed up, may mean stop.
        r"|\bcome (?:avete|hai|ha) (?:avuto|preso|trovato|ottenuto) (?:il mio|questo) numero\b"
        r"|\bchi (?:vi|ti|le) ha dato (?:il mio|questo) numero\b",
        "sbagliato sbagliata interessa troppi mai come chi",
        negatable=False,
    ),
)
