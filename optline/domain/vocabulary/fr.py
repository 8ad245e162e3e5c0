"""French: keywords, fillers, phrase rules, short replies and the question words read
around a phrase. No French opt-out keyword is a weak one."""

from __future__ import annotations

from optline.domain.policy import Intent, KeywordSet
from optline.domain.vocabulary.phrase import Phrase, phrase

_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
_IN = Intent.OPT_IN

# -- keywords (whole message) -----------------------------------------------------------

#: AWS End User Messaging (ARRET), Sinch (NONARRET), and the French words people text
#: to carriers' short codes.
KEYWORDS = KeywordSet.of(
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
)

# -- fillers ----------------------------------------------------------------------------

#: "arrêt svp" ("s'il vous plaît", "stp": s'il te plaît).
FILLERS = frozenset({"svp", "stp", "merci", "s", "il", "vous", "plait", "te", "oui"})

# -- phrases ----------------------------------------------------------------------------

PHRASES: tuple[Phrase, ...] = (
    phrase(
        # "Je me suis désabonné par erreur": an earlier opt-out told as a slip.
        "raconte un stop envoye par erreur",
        Intent.NONE,
        r"\b(?:desabonne|desabonnee|desinscrit|desinscrite|(?:envoye|mis|ecrit|tape|repondu)"
        r" stop) (?:par erreur|par accident|sans faire expres|sans le vouloir)\b",
        "erreur accident expres vouloir",
        negatable=False,
    ),
    phrase(
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
    phrase(
        "demande le desabonnement",
        _OUT,
        r"\b(?:desabonner|desinscrire|desabonnez|desinscrivez|desabonnement"
        r"|desinscription)\b"
        # "me désabonner de la garantie": a product or paper bills, not the texts.
        r"(?! (?:de|du|des|de la|de l)(?: \w+){0,3} (?:garanties?|assurances?|papier"
        r"|factures?|releves?|abonnement papier|salle|mutuelle|enquete)\b)"
        r"|\b(?:retirez|enlevez|supprimez|rayez) (?:moi|mon numero)\b"
        r"|\b(?:(?:me|m) (?:retirer|enlever|supprimer|rayer|oter)|(?:retirer|enlever"
        r"|supprimer|rayer|oter) mon numero) (?:de|des) (?:votre|vos|la|cette|ta) listes?\b"
        r"|\b(?:laissez|laisse|laissez nous|laisse nous) ?(?:moi )?tranquilles?\b"
        r"|\b(?:foutez|fichez|fiche|fous) (?:moi|nous) la paix\b",
        "desabonner desinscrire desabonnez desinscrivez desabonnement desinscription "
        "retirez enlevez supprimez rayez retirer enlever supprimer rayer oter laissez laisse "
        "foutez fichez fiche fous",
    ),
    phrase(
        "ne veut pas recevoir",
        _OUT,
        r"\bne (?:veux pas|souhaite pas|souhaite plus) recevoir (?:de |d |les |vos |ces )?"
        r"(?:messages?|sms|textos?|notifications|rappels|promotions)\b",
        "veux souhaite",
        negatable=False,
        needs="recevoir",
    ),
    phrase(
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
    phrase(
        "refuse",
        _MAYBE,
        # "Non" as a clause of its own: "Non-stop", and Italian's "Non cancellate il mio
        # appuntamento", open with "non" and refuse nothing.
        r"\bpas interesse\b|\bmauvais numero\b|^non(?= \|)"
        r"|\btrop de (?:messages|sms|textos)\b"
        # "Comment avez-vous eu mon numéro ?": never signed up, may mean stop.
        r"|\b(?:comment|ou) (?:avez vous|vous avez|as tu|tu as)(?: eu| obtenu| trouve| pris)?"
        r" (?:mon|ce) numero\b",
        "interesse mauvais non trop comment ou",
    ),
    phrase(
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
    phrase(
        "demande ce qu est le service",
        Intent.HELP,
        r"\b(?:c est quoi|qu est ce que c est que|quel est) (?:ce|ces|cette) (?:service"
        r"|programme|sms|messages|textos|liste|club)(?= \||$)",
        "quoi quel",
        negatable=False,
        needs="service programme sms messages textos liste club",
    ),
)

# -- short replies ----------------------------------------------------------------------

#: "FIN" is French for END (64.1200(a)(10): what a reasonable person would read).
SHORT_REPLIES: dict[str, Intent] = {
    "fin": _OUT,
    **dict.fromkeys(
        ("qui est ce", "c est qui", "c est quoi", "plus d infos", "plus d informations"),
        Intent.HELP,
    ),
    **dict.fromkeys(
        (
            "me reabonner", "je veux me reabonner", "me reinscrire", "inscrivez moi",
            "reinscrivez moi", "je veux m inscrire",
        ),
        _IN,
    ),
}  # fmt: skip

POSSIBLE_REPLIES = frozenset({"non"})

# -- context words ----------------------------------------------------------------------

QUESTION_WORDS = frozenset({"comment"})
