"""Spanish: keywords, weak opt-out words, fillers, phrase rules, short replies and the
negations and question words read around a phrase."""

from __future__ import annotations

from optline.domain.policy import Intent, KeywordSet
from optline.domain.vocabulary.phrase import Phrase, phrase

_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
_IN = Intent.OPT_IN

# -- keywords (whole message) -----------------------------------------------------------

#: The Spanish words people text to carriers' short codes.
KEYWORDS = KeywordSet.of(
    opt_out=("BAJA", "ALTO", "PARAR", "PARE", "CANCELAR", "DETENER", "NO MÁS"),
    opt_in=("ALTA", "COMENZAR", "SUSCRIBIR"),
    help=("AYUDA", "INFORMACIÓN"),
)

#: Opt-out keywords that are also common words ("alto": tall, "cancelar mi pedido").
WEAK_OPT_OUT = frozenset({"alto", "parar", "pare", "cancelar", "detener"})

# -- fillers ----------------------------------------------------------------------------

#: "baja por favor" ("sí": yes).
FILLERS = frozenset({"por", "favor", "porfa", "gracias", "ya", "si"})

# -- phrases ----------------------------------------------------------------------------

PHRASES: tuple[Phrase, ...] = (
    phrase(
        # "Me di de baja por error": an earlier opt-out told as a slip.
        "cuenta una baja por error",
        Intent.NONE,
        r"\b(?:me di de baja|me desuscribi|me sali|cancele|(?:mande|envie|puse|escribi"
        r"|respondi|di) (?:stop|baja|alto)) (?:por error|sin querer|por accidente"
        r"|por equivocacion)\b",
        "error querer accidente equivocacion",
        negatable=False,
    ),
    phrase(
        "pide que no le escriban",
        _OUT,
        r"\bno me (?:envien|manden|mande|envie|mandes|envies) (?:mas|mensajes|textos|sms)\b"
        r"|\bno me (?:escriban|escribas|escriba|contacten|contactes|molesten)\b"
        # Mixed Spanish-English: "texting" as a Spanish verb ("ya no me textees").
        r"|\bno me (?:textees|texteen|textee|texteas|textean|textes|texten|textien)\b"
        # "no dejen de mandarme los recordatorios" asks for more texts, not fewer.
        r"|\bdej(?<!\bno dej)(?<!\bnunca dej)(?:en|a|e) de (?:enviar|mandar|escribir|contactar"
        r"|molestar|textear)"
        r"|\bno (?:quiero|deseo) (?:volver a )?(?:recibir )?(?:mas )?(?:(?:los|las|sus|tus"
        r"|estos|estas|esos|esas) )?(?:mensajes|msjs|mjs|textos|texts|sms|ofertas|promociones"
        r"|recordatorios|alertas)\b"
        r"|\bno mas (?:mensajes|msjs|textos|texts|sms)\b"
        r"|\bbasta (?:ya )?(?:de|con) (?:(?:los|las|tus|sus|estos|esos|tantos|tantas|tanto) )?"
        r"(?:mensajes|textos|sms|spam|promociones|molestar|escribir\w*|enviar\w*|mandar\w*)\b"
        r"|\bdej(?:enme|ame|eme|adme|ennos) en paz\b",
        "no dejen deja deje basta dejenme dejame dejeme dejadme dejennos",
        negatable=False,
    ),
    phrase(
        "pide que no le vuelvan a escribir",
        _OUT,
        r"\bno (?:me )?(?:vuelvan|vuelva|vuelvas) a (?:escribir|mandar|enviar|contactar"
        r"|molestar|llamar)",
        "vuelvan vuelva vuelvas",
        negatable=False,
    ),
    phrase(
        # "PARA YA", "paren por favor": stop, as a clause of its own. "Para" alone is
        # also "for", so it needs "ya" beside it.
        "pide parar ya",
        _OUT,
        r"(?:^|\| )(?:ya (?:para|paren)|(?:para|paren) ya|paren)"
        r"(?: (?:ya|por favor|porfa|de una vez|ahora|gracias))*(?= \||$)",
        "para paren",
        negatable=False,
    ),
    phrase(
        "pide la baja",
        _OUT,
        # Not "no me quiero dar de baja".
        r"\b(?<!\bno quiero )(?<!\bno me quiero )(?<!\bno deseo )"
        r"(?:darme|dar|dame|denme|deme|doy) de baja\b"
        # "darme de baja del seguro": leaving a product or paper statements, not the texts.
        r"(?! (?:del|de la|de los|de las|de mi|de el)(?: \w+){0,3} (?:seguros?|garantias?"
        r"|papel|estados? de cuenta|facturas?|gimnasio|membresia|plan|poliza|encuesta)\b)"
        # "me quiero desuscribir": the verb of "unsubscribe" after a wish.
        r"|\b(?<!\bno )(?:quiero|quisiera|deseo|necesito|me quiero) (?:desuscribir|desinscribir)"
        r"(?:me|nos)?\b"
        r"|\b(?:saquenme|quitenme|sacame|quitame|borrenme|eliminenme|borrame) de "
        r"(?:la|su|tu|esta|sus) listas?\b"
        r"|\b(?:borren|borrar|eliminar|eliminen|quiten|quitar) mi numero\b"
        r"|\b(?:cancelar|cancelen|cancela|cancele|anular) (?:mi |la |esta )?"
        r"(?:suscripcion|subscripcion)(?! (?:a|al|del|de la|de mi)\b)",
        "baja quiero quisiera deseo necesito saquenme quitenme sacame quitame borrenme "
        "eliminenme borrame borren borrar eliminar eliminen quiten quitar suscripcion subscripcion",
    ),
    phrase(
        "rechaza",
        _MAYBE,
        r"\bno me interesa\b|\bnumero equivocado\b"
        r"|\bdemasiados (?:mensajes|textos|sms|texts|msjs)\b"
        # "¿Cómo consiguieron mi número?": never signed up, may mean stop.
        r"|\b(?:como|de donde|donde) (?:consiguieron|obtuvieron|sacaron|tienen|consiguio|obtuvo"
        r"|saco|tiene|consiguen|sacan) (?:mi|este) (?:numero|telefono|celular)\b",
        "interesa equivocado demasiados como donde",
    ),
    phrase(
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
    phrase(
        "pregunta por el servicio",
        Intent.HELP,
        r"\bque (?:es|son) (?:este|esta|estos|estas|ese|esa|esos|esas) (?:servicio|programa"
        r"|mensajes|textos|sms|lista|club)(?= \||$)"
        r"|\bpara que son (?:estos|esos|los|sus|tus) (?:mensajes|textos|sms)\b"
        # "¿Cómo contacto a soporte sobre estos mensajes?", "¿cada cuánto mandan mensajes?".
        r"|\bcomo (?:contacto|hablo|me comunico) (?:a|con) (?:el |la )?(?:soporte|servicio al"
        r" cliente|atencion al cliente|alguien|una persona) (?:sobre|de) (?:estos|esos|los|sus)"
        r" (?:mensajes|textos|sms)\b"
        r"|\bcada cuanto (?:me )?(?:mandan|envian|llegan|escriben|mandaran|enviaran)"
        r" (?:los )?(?:mensajes|textos|sms)\b",
        "que como cuanto",
        negatable=False,
        needs="servicio programa mensajes textos sms lista club",
    ),
)

# -- short replies ----------------------------------------------------------------------

#: "Basta" is Spanish for "enough" (64.1200(a)(10): what a reasonable person would read).
SHORT_REPLIES: dict[str, Intent] = {
    **dict.fromkeys(("basta", "basta ya"), _OUT),
    # The verb of "unsubscribe" in its infinitive and imperative forms, as one word.
    **dict.fromkeys(
        (
            "desuscribir",
            "desuscribirme",
            "desuscribirse",
            "desuscribeme",
            "desuscribanme",
            "desuscribame",
            "desinscribir",
            "desinscribirme",
            "desinscribeme",
            "desinscribanme",
            "desuscribirnos",
            "desuscripcion",
        ),
        _OUT,
    ),
    **dict.fromkeys(
        ("quien es", "quien eres", "que es esto", "de que se trata", "mas informacion"),
        Intent.HELP,
    ),
    **dict.fromkeys(
        ("suscribirme de nuevo", "quiero volver a suscribirme", "quiero suscribirme"), _IN
    ),
}

POSSIBLE_REPLIES = frozenset({"no"})

# -- context words ----------------------------------------------------------------------

NEGATORS = frozenset({"nunca"})
#: "cómo".
QUESTION_WORDS = frozenset({"como"})
