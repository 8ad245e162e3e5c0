"""The built-in profiles.

``default`` follows the FCC 2024 revocation rule (47 CFR 64.1200(a)(10), (a)(12)) and
the CTIA Messaging Principles, choosing the protective option wherever a choice exists.
``twilio`` is Twilio's documented Advanced Opt-Out defaults. The others reproduce the
help pages of five products; each value that differs from ``twilio`` names its seed:

- ``callrail``      seed 000 (CallRail Lead Center)
- ``business_text`` seed 001 (Business Text Messaging)
- ``salesmsg``      seed 002 (Salesmsg)
- ``krispcall``     seed 003 (KrispCall)
- ``command``       seed 004 (Command)

Where a seed is silent the product is assumed to keep its carrier's (Twilio's) standard
behaviour; ``docs/profiles.md`` marks those values as inherited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from optline.domain import vocabulary
from optline.domain.policy import (
    DisclosureForm,
    KeywordSet,
    NoConsent,
    Policy,
    Replies,
    Resubscribe,
    Scope,
    SenderKind,
    WrongNumber,
)
from optline.domain.window_rules import US_SEND_WINDOWS

TWILIO_OPT_OUT_REPLY = (
    "You have successfully been unsubscribed. You will not receive any more messages "
    "from this number. Reply START to resubscribe."
)
TWILIO_OPT_IN_REPLY = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP "
    "for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
TWILIO_HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."

# Our own wording for the default profile: CTIA 5.1.2.1 asks HELP and opt-in answers to
# carry the brand, a support contact, frequency, "Msg & data rates may apply" and how
# to stop; the opt-out confirmation carries no marketing (64.1200(a)(12)).
DEFAULT_REPLIES_EN = Replies(
    opt_out=(
        "{brand}: You are unsubscribed and will get no more texts from us. "
        "Reply START to subscribe again."
    ),
    opt_in=(
        "{brand}: You are subscribed again. Message frequency varies. "
        "Msg & data rates may apply. Reply HELP for help, STOP to opt out."
    ),
    help=(
        "{brand}: Help at {support}. Message frequency varies. "
        "Msg & data rates may apply. Reply STOP to opt out."
    ),
    list_opt_out=(
        "{brand}: You will get no more {list} texts. Other messages from us continue. "
        "Reply STOP to stop all texts."
    ),
)

# The same, in the languages the default profile understands (our wording; each names
# keywords of its own language, which the default profile accepts).
DEFAULT_REPLIES_OTHER = {
    "es": Replies(
        opt_out=(
            "{brand}: Se ha dado de baja y no recibirá más mensajes nuestros. "
            "Responda ALTA para suscribirse de nuevo."
        ),
        opt_in=(
            "{brand}: Se ha suscrito de nuevo. La frecuencia de los mensajes varía. "
            "Pueden aplicarse tarifas de mensajes y datos. Responda AYUDA para obtener "
            "ayuda, BAJA para darse de baja."
        ),
        help=(
            "{brand}: Ayuda en {support}. La frecuencia de los mensajes varía. "
            "Pueden aplicarse tarifas de mensajes y datos. Responda BAJA para darse de baja."
        ),
        list_opt_out=(
            "{brand}: Ya no recibirá mensajes de {list}. Los demás mensajes continúan. "
            "Responda BAJA para dejar de recibirlos todos."
        ),
        clarify="Responda BAJA para dejar de recibir todos los mensajes de {brand}.",
    ),
    "fr": Replies(
        opt_out=(
            "{brand} : Vous êtes désabonné et ne recevrez plus de SMS de notre part. "
            "Répondez ABONNER pour vous réabonner."
        ),
        opt_in=(
            "{brand} : Vous êtes de nouveau abonné. Fréquence des messages variable. "
            "Des frais de SMS et de données peuvent s'appliquer. Répondez AIDE pour "
            "obtenir de l'aide, ARRET pour vous désabonner."
        ),
        help=(
            "{brand} : Aide : {support}. Fréquence des messages variable. Des frais de "
            "SMS et de données peuvent s'appliquer. Répondez ARRET pour vous désabonner."
        ),
        list_opt_out=(
            "{brand} : Vous ne recevrez plus les messages {list}. Nos autres messages "
            "continuent. Répondez ARRET pour tout arrêter."
        ),
        clarify="Répondez ARRET pour ne plus recevoir aucun SMS de {brand}.",
    ),
    "pt": Replies(
        opt_out=(
            "{brand}: Sua inscrição foi cancelada e você não receberá mais mensagens "
            "nossas. Responda VOLTAR para se inscrever de novo."
        ),
        opt_in=(
            "{brand}: Você está inscrito de novo. A frequência das mensagens varia. "
            "Podem ser cobradas tarifas de mensagens e dados. Responda AJUDA para obter "
            "ajuda, SAIR para cancelar."
        ),
        help=(
            "{brand}: Ajuda em {support}. A frequência das mensagens varia. Podem ser "
            "cobradas tarifas de mensagens e dados. Responda SAIR para cancelar."
        ),
        list_opt_out=(
            "{brand}: Você não receberá mais mensagens de {list}. As demais mensagens "
            "continuam. Responda SAIR para parar todas."
        ),
        clarify="Responda SAIR para não receber mais nenhuma mensagem de {brand}.",
    ),
    "de": Replies(
        opt_out=(
            "{brand}: Sie sind abgemeldet und erhalten keine SMS mehr von uns. "
            "Antworten Sie ANMELDEN, um sich wieder anzumelden."
        ),
        opt_in=(
            "{brand}: Sie sind wieder angemeldet. Die Häufigkeit der Nachrichten "
            "variiert. Es können Kosten für SMS und Daten anfallen. Antworten Sie HILFE "
            "für Hilfe, STOPP zum Abmelden."
        ),
        help=(
            "{brand}: Hilfe unter {support}. Die Häufigkeit der Nachrichten variiert. Es "
            "können Kosten für SMS und Daten anfallen. Antworten Sie STOPP zum Abmelden."
        ),
        list_opt_out=(
            "{brand}: Sie erhalten keine {list}-Nachrichten mehr. Andere Nachrichten von "
            "uns gehen weiter. Antworten Sie STOPP, um alle zu beenden."
        ),
        clarify="Antworten Sie STOPP, um keine SMS mehr von {brand} zu erhalten.",
    ),
    "it": Replies(
        opt_out=(
            "{brand}: Disiscrizione completata, non riceverai più SMS da noi. "
            "Rispondi ISCRIVIMI per iscriverti di nuovo."
        ),
        opt_in=(
            "{brand}: Iscrizione completata. La frequenza dei messaggi varia. Possono "
            "essere applicati costi per SMS e dati. Rispondi AIUTO per assistenza, "
            "DISISCRIVIMI per disiscriverti."
        ),
        help=(
            "{brand}: Assistenza: {support}. La frequenza dei messaggi varia. Possono "
            "essere applicati costi per SMS e dati. Rispondi DISISCRIVIMI per disiscriverti."
        ),
        list_opt_out=(
            "{brand}: Non riceverai più i messaggi {list}. Gli altri nostri messaggi "
            "continuano. Rispondi DISISCRIVIMI per non riceverne più nessuno."
        ),
        clarify="Rispondi DISISCRIVIMI per non ricevere più SMS da {brand}.",
    ),
    "zh": Replies(
        opt_out="{brand}：您已退订，将不再收到我们的短信。回复“订阅”可重新订阅。",
        opt_in=(
            "{brand}：您已订阅。短信频率不定，可能产生短信和流量费用。回复“帮助”获取帮助，"
            "回复“退订”取消订阅。"
        ),
        help=(
            "{brand}：客服 {support}。短信频率不定，可能产生短信和流量费用。回复“退订”取消订阅。"
        ),
        list_opt_out="{brand}：您将不再收到{list}短信，我们的其他短信照常发送。回复“退订”取消全部短信。",
        clarify="回复“退订”即不再收到{brand}的短信。",
    ),
}

_TWILIO_REPLIES = Replies(
    opt_out=TWILIO_OPT_OUT_REPLY,
    opt_in=TWILIO_OPT_IN_REPLY,
    help=TWILIO_HELP_REPLY,
    list_opt_out=DEFAULT_REPLIES_EN.list_opt_out,
)

# Twilio's defaults since 2025-05-14 (REVOKE and OPTOUT added for the FCC rule).
_TWILIO_KEYWORDS = KeywordSet.of(
    opt_out=("STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
    opt_out_all=("STOPALL",),
    opt_in=("START", "YES", "UNSTOP"),
    help=("HELP", "INFO"),
)
# The list Twilio used before 2025-05-14, which the seeds' products document.
_CLASSIC_KEYWORDS = KeywordSet.of(
    opt_out=("STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
    opt_out_all=("STOPALL",),
    opt_in=("START", "YES", "UNSTOP"),
    help=("HELP", "INFO"),
)

DEFAULT = Policy(
    name="default",
    keywords={
        "en": KeywordSet.of(
            # FCC 64.1200(a)(10) names stop, quit, end, revoke, opt out, cancel and
            # unsubscribe as valid per se; Twilio's current set; "OPT OUT" with a space.
            opt_out=(
                "STOP",
                "UNSUBSCRIBE",
                "CANCEL",
                "END",
                "QUIT",
                "REVOKE",
                "OPTOUT",
                "OPT OUT",
                *vocabulary.ENGLISH_EXTRA_OPT_OUT,
            ),
            opt_out_all=("STOPALL", "STOP ALL"),
            opt_in=("START", "YES", "UNSTOP", *vocabulary.ENGLISH_EXTRA_OPT_IN),
            help=("HELP", "INFO"),
        ),
        # Spanish, French, Portuguese, German, Italian and Chinese keywords, and replies
        # in the first four (the others are answered in English).
        **vocabulary.KEYWORDS,
    },
    replies={"en": DEFAULT_REPLIES_EN, **DEFAULT_REPLIES_OTHER},
    # 64.1200(a)(10): any reply a reasonable person reads as "stop" revokes consent,
    # so free text, fillers and typos are read too (optline.domain.detect).
    single_keyword_only=False,
    typo_tolerance=True,
    # Revoke-all: one STOP ends every text from the account (the protective scope).
    scope=Scope.ACCOUNT,
    resubscribe=Resubscribe.WITH_EVIDENCE,
    # Never "opted in" by default: a reply to a contact who texted first, nothing else.
    no_consent=NoConsent.CONVERSATION,
    first_text_disclosure="Reply STOP to opt out.",
    campaign_opt_out_language_required=True,
    # 64.1200(a)(10): no marketing to someone whose reply may have revoked consent
    # until a person has looked at it.
    hold_campaigns_on_review=True,
    # Campaign texts only in the hours federal and state law allow, 3 a day where a
    # state caps them (47 CFR 64.1200(c)(1); FL, OK, MD). The seeds say nothing of
    # hours: the vendor profiles have none.
    send_windows=US_SEND_WINDOWS,
    # Marketing needs prior express written consent, and the sender must prove it
    # (47 CFR 64.1200(a)(2), (f)(9)): a campaign text goes only to a contact with
    # written consent on record. The seeds' products ask for none.
    written_consent_required=True,
    # "Wrong number": the consent on record was given by someone else, so it ends
    # (64.1200(a)(10); a reassigned number's new holder never consented).
    wrong_number=WrongNumber.END_CONSENT,
    # Disconnected numbers age at least 45 days before they are reassigned (47 CFR
    # 52.15(f)(1)(ii)): after as long a silence the number may have a new holder.
    reassigned_check_after_days=45,
)

TWILIO = Policy(
    name="twilio",
    keywords={"en": _TWILIO_KEYWORDS},
    replies={"en": _TWILIO_REPLIES},
    # Twilio keeps opt-outs per sending number.
    scope=Scope.SENDER,
    # Only the recipient can lift a Twilio opt-out, by texting START.
    resubscribe=Resubscribe.NEVER,
    # Twilio answers no text that is not one of its keywords: a plain-language
    # revocation is flagged for review (flag_plain_language), not answered.
    clarify_possible_opt_out=False,
)

CALLRAIL = dataclasses.replace(
    TWILIO,
    name="callrail",
    # 000 gives STOP and END as examples and shows "PLEASE CANCEL" failing only for
    # being two words; its replies are the carrier-standard ones, so its list is too.
    keywords={"en": _CLASSIC_KEYWORDS},
    replies={
        "en": dataclasses.replace(
            _TWILIO_REPLIES,
            # 000 quotes its START reply with "resubscribed" (no hyphen).
            opt_in=(
                "You have successfully been resubscribed to messages from this number. "
                "Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
            ),
        )
    },
    # 000: "you'll need to use at least one approved keyword" in texts you send.
    campaign_opt_out_language_required=True,
)

BUSINESS_TEXT = dataclasses.replace(
    TWILIO,
    name="business_text",
    keywords={"en": _CLASSIC_KEYWORDS},
    # 001: opted out "from all future messages from this account".
    scope=Scope.ACCOUNT,
    # 001: "If they send a new message to the account later, they will be
    # automatically opted back in so you can reply."
    implicit_opt_in=True,
    # 001: staff may tick "Opted-in" again, but only with the contact's express consent.
    resubscribe=Resubscribe.WITH_EVIDENCE,
)

SALESMSG = dataclasses.replace(
    TWILIO,
    name="salesmsg",
    # 002: Cancel, Stop, Stopall, End, Unsubscribe, Quit.
    keywords={"en": _CLASSIC_KEYWORDS},
    # 002: contacts can opt out "even if they make typos". Its "alternative phrases"
    # are not listed, so a message must still be one (possibly misspelt) word.
    typo_tolerance=True,
    # 002: an opted-out contact receives nothing from the account until opted in again.
    scope=Scope.ACCOUNT,
    # 002: "you will not be able to re-subscribe them from Salesmsg".
    resubscribe=Resubscribe.NEVER,
    # 002: default messages cannot be changed on long codes; on a dedicated short
    # code they can.
    custom_replies_on=frozenset({SenderKind.SHORT_CODE}),
)

KRISPCALL = dataclasses.replace(
    TWILIO,
    name="krispcall",
    keywords={"en": _CLASSIC_KEYWORDS},
    replies={
        "en": dataclasses.replace(
            _TWILIO_REPLIES,
            # 003 quotes its START reply naming both HELP and INFO.
            opt_in=(
                "You have successfully been re-subscribed to messages from this number. "
                "Reply \u201cHELP\u201d or \u201cINFO\u201d for help. Reply STOP to "
                "unsubscribe. Msg&Data Rates May Apply."
            ),
        )
    },
    # 003: the opt-out is "from the specified phone number" ...
    scope=Scope.SENDER,
    # ... but "The START keyword enables all your phone numbers".
    opt_in_all_senders=True,
)

COMMAND = dataclasses.replace(
    TWILIO,
    name="command",
    # 004: Stop, Stopall, Unsubscribe, Cancel, End, Quit; Start, Yes, Unstop.
    keywords={"en": _CLASSIC_KEYWORDS},
    # 004: an opted-out number cannot be texted "using your Twilio account, even if
    # you add them to a separate SmartPlan".
    scope=Scope.ACCOUNT,
    # 004: "there is no way for you to do this for them".
    resubscribe=Resubscribe.NEVER,
    # 004: "The first time you send a text to someone in your database, Command sends
    # the following text": a text of its own, before the first one.
    first_text_disclosure="Prefer a phone call or email? Reply STOP to unsubscribe.",
    first_text_disclosure_form=DisclosureForm.SEPARATE,
)

PROFILES: Mapping[str, Policy] = {
    p.name: p for p in (DEFAULT, TWILIO, CALLRAIL, BUSINESS_TEXT, SALESMSG, KRISPCALL, COMMAND)
}

#: The seed file each vendor profile reproduces.
PROFILE_SOURCES: Mapping[str, str] = {
    "default": "FCC 47 CFR 64.1200(a)(10) and (a)(12); CTIA Messaging Principles 5.1",
    "twilio": "Twilio Advanced Opt-Out defaults",
    "callrail": "seeds/000_c0cecaefbb1755b4.txt",
    "business_text": "seeds/001_cecc5ad7b6eb3bb7.txt",
    "salesmsg": "seeds/002_95e5d02124ed1874.txt",
    "krispcall": "seeds/003_487aa3692c2a74c1.txt",
    "command": "seeds/004_300ec691ca0db197.txt",
}


class UnknownProfile(ValueError):
    """No built-in profile of that name."""


def get_profile(name: str) -> Policy:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise UnknownProfile(f"unknown profile {name!r} (known: {known})") from None
