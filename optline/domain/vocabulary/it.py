"""Italian: keywords, fillers and the fixed phrases of a reply that may refuse the texts
("numero sbagliato", as Spanish "número equivocado"). "basta" alone is Spanish's short
reply already. Other Italian phrasing is the learned stage's (optline.domain.learned),
trained on the Italian replies under ``tests/data/replies/``."""

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

PHRASES: tuple[Phrase, ...] = (
    phrase(
        "rifiuta",
        Intent.POSSIBLE_OPT_OUT,
        r"\b(?:numero sbagliato|sbagliato numero|persona sbagliata)\b"
        r"|\bnon mi interessa\b(?! (?:il|la|lo|l|i|gli|le|questo|quello|quella) "
        r"(?!messaggi\b|sms\b|offert\w*|promozion\w*))"
        r"|\btroppi (?:messaggi|sms)\b",
        "sbagliato sbagliata interessa troppi",
    ),
)
