"""German: keywords, weak opt-out words, fillers, phrase rules, short replies and the
question words read around a phrase."""

from __future__ import annotations

from optline.domain.policy import Intent, KeywordSet
from optline.domain.vocabulary.phrase import Phrase, phrase

_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
_IN = Intent.OPT_IN

# -- keywords (whole message) -----------------------------------------------------------

#: The German words people text to carriers' short codes.
KEYWORDS = KeywordSet.of(
    opt_out=("STOPP", "ABMELDEN", "ABBESTELLEN", "AUSTRAGEN", "BEENDEN"),
    opt_in=("ANMELDEN",),
    help=("HILFE",),
)

#: Opt-out keywords that are also common words ("das Spiel beenden").
WEAK_OPT_OUT = frozenset({"beenden"})

# -- fillers ----------------------------------------------------------------------------

FILLERS = frozenset({"bitte", "danke", "sofort", "jetzt", "ja"})

# -- phrases ----------------------------------------------------------------------------

PHRASES: tuple[Phrase, ...] = (
    phrase(
        # "Aus Versehen STOPP geschickt": an earlier opt-out told as a slip.
        "erzaehlt ein stopp aus versehen",
        Intent.NONE,
        r"\baus versehen (?:(?:stop|stopp) )?(?:abgemeldet|ausgetragen|geschickt|gesendet"
        r"|geschrieben)\b|\b(?:stop|stopp) war (?:ein )?(?:versehen|fehler)\b",
        "versehen fehler",
        negatable=False,
    ),
    phrase(
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
        r"|\b(?:nehmen sie|nimm|nehmt|streichen sie|entfernen sie|loschen sie)"
        r" (?:mich|meine nummer)"
        r"(?: \w+){0,2} (?:aus|von) (?:(?:der|ihrer|dieser|eurer|deiner) "
        r"(?:liste|verteilerliste|sms liste)"
        # "Bitte nehmen Sie mich aus dem Verteiler", deep in a polite message.
        r"|(?:dem|ihrem|diesem|eurem|deinem) (?:sms )?verteiler)\b",
        "keine nicht auf melden abmelden lassen lass lasst nehmen nimm nehmt streichen entfernen "
        "loschen",
        negatable=False,
    ),
    phrase(
        # "Schluss mit den Nachrichten!", "Es reicht mit der Werbung": enough of them.
        "hat genug von den nachrichten",
        _OUT,
        r"\b(?:schluss|genug|es reicht|jetzt reicht s|mir reicht s) (?:jetzt )?(?:mit|von) "
        r"(?:(?:den|diesen|euren|ihren|deinen|der|dieser|eurer|ihrer|dem|diesem|all den"
        r"|all diesen) )?(?:nachrichten|sms|werbung|textnachrichten|werbenachrichten|spam"
        r"|benachrichtigungen|werbe sms)\b",
        "schluss genug reicht",
        negatable=False,
    ),
    phrase(
        "will die nachrichten nicht mehr",
        _OUT,
        r"\b(?:will|mochte|brauche|wollen|mochten) (?:diese|ihre|eure|deine|die|solche) "
        r"(?:nachrichten|sms|werbung|textnachrichten|benachrichtigungen) nicht mehr\b",
        "will mochte brauche wollen mochten",
        negatable=False,
        needs="mehr",
    ),
    phrase(
        "lehnt ab",
        _MAYBE,
        r"\bkein interesse\b|\bfalsche nummer\b|^nein\b"
        r"|\bzu viele (?:nachrichten|sms|werbung|mitteilungen)\b"
        # "Woher haben Sie meine Nummer?": never signed up, may mean stop.
        r"|\bwoher (?:haben sie|habt ihr|hast du) (?:meine|diese) (?:handy|telefon|mobil)?"
        r"nummer\b",
        "interesse falsche nein viele woher",
    ),
    phrase(
        "mochte die nachrichten wieder",
        _IN,
        r"\b(?:mochte|will|wurde gerne|mochten|wollen) (?:wieder |erneut )?(?:(?:die|ihre"
        r"|eure|deine) )?(?:sms|nachrichten|erinnerungen|angebote|benachrichtigungen) "
        r"(?:wieder |erneut )?(?:bekommen|erhalten|empfangen)\b",
        "mochte will wurde mochten wollen",
        negatable=False,
        needs="bekommen erhalten empfangen",
    ),
    phrase(
        "fragt nach dem dienst",
        Intent.HELP,
        r"\bwas (?:ist|sind) (?:das|dies|diese|dieser|dieses) fur (?:(?:ein|eine|einen) )?"
        r"(?:dienst|service|programm|nachrichten|sms|liste)\b"
        r"|\bwas fur (?:(?:ein|eine) )?(?:dienst|service|programm|nachrichten|sms) "
        r"(?:ist das|sind das)\b"
        # "Wen kann ich wegen dieser SMS anrufen?": whom to reach about the texts.
        r"|\b(?:wen|wo) kann ich (?:wegen|zu) (?:dieser|diesen|der|den|ihrer|ihren) "
        r"(?:sms|nachrichten|mitteilungen) (?:anrufen|erreichen|kontaktieren|fragen|melden)\b",
        "fur wen wo",
        negatable=False,
        needs="dienst service programm nachrichten sms liste mitteilungen",
    ),
)

# -- short replies ----------------------------------------------------------------------

SHORT_REPLIES: dict[str, Intent] = {
    **dict.fromkeys(
        ("wer ist da", "wer ist das", "wer sind sie", "was ist das", "mehr infos"), Intent.HELP
    ),
    "wieder anmelden": _IN,
}

POSSIBLE_REPLIES = frozenset({"nein"})

# -- context words ----------------------------------------------------------------------

QUESTION_WORDS = frozenset({"wie"})
