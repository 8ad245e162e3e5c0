"""Italian: keywords and fillers ("basta" alone is Spanish's short reply already). No
phrase rules: Italian phrasing is the learned stage's (optline.domain.learned), trained
on the Italian replies under ``tests/data/replies/``."""

from __future__ import annotations

from optline.domain.policy import KeywordSet

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
