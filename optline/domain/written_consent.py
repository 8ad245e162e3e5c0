"""Prior express written consent, and the double opt-in that gathers it by text. Pure.

47 CFR 64.1200(a)(2) lets a seller send marketing texts only with the called party's
prior express written consent, and (f)(9) defines it: a written agreement, signed (an
electronic signature counts), that clearly authorises such texts to one number, after a
clear disclosure; the burden of proof is on the seller. optline can only prove what it
holds, so consent counts as written where a ``consent_recorded`` event names the exact
language agreed to (kept once per version, by its SHA-256), where and when it was given
and who collected it: recorded by the business (``POST /v1/consents``), or by the
contact's YES to the CTIA opt-in confirmation that a join keyword asked for (the text
they agreed to is that confirmation). A revocation ends it (64.1200(a)(10)): an opt-out
for the whole account, or a block, clears the purposes on record.

Belongs here: the purpose check, the consent record and its event, the confirmation
text and the words that confirm it, and whether a contact's written consent covers a
purpose. The store keeps the texts and the events; the engine joins them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from optline.domain import consent
from optline.domain.consent import ContactState, Outcome
from optline.domain.consent_codes import EventType, Method, Source, Status
from optline.domain.policy import Policy
from optline.domain.text import keyword_form
from optline.errors import BadInput

#: The purpose of a campaign text, and of a consent recorded without one.
MARKETING = "marketing"

_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def purpose(raw: str | None) -> str:
    """The one check of a purpose's name, for every way in: a lower-case slug
    (``marketing``, ``appointment_reminders``); None is ``marketing``. Else
    :class:`BadInput`."""
    if raw is None:
        return MARKETING
    if not _PURPOSE.fullmatch(raw):
        raise BadInput(
            f"purpose {raw[:40]!r} must be a lower-case slug: a letter, then letters, digits"
            " or _ (at most 40)"
        )
    return raw


def language_hash(text: str) -> str:
    """How an event refers to the consent language: its SHA-256, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def covers(state: ContactState | None, wanted: str) -> bool:
    """Does the contact's written consent on record cover ``wanted``?"""
    return state is not None and wanted in state.written


@dataclass(frozen=True, slots=True)
class WrittenConsent:
    """One prior express written consent, as the business or a confirmation gives it."""

    purpose: str
    language: str  # the exact text the person agreed to
    given_at: datetime
    url: str | None = None
    form_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None


def record(
    state: ContactState,
    policy: Policy,
    given: WrittenConsent,
    method: Method = Method.WRITTEN_CONSENT,
    source: Source = Source.MANUAL,
    sender: str | None = None,
) -> Outcome:
    """Record written consent for ``given.purpose``: a ``consent_recorded`` event, and
    an opt-in for the account where the contact is not opted in everywhere yet.

    Recorded by the business (``source`` MANUAL), it is an opt-in with evidence and
    follows :func:`consent.opt_in` (refused for a blocked contact, or where the policy
    lets only the contact lift an opt-out); confirmed by the contact's own YES (KEYWORD),
    only a block refuses it."""
    if state.blocked:
        raise consent.Refused("contact is blocked: unblock before recording consent")
    digest = language_hash(given.language)
    recorded = consent.new_event(
        EventType.CONSENT_RECORDED,
        state,
        source,
        sender,
        purpose=given.purpose,
        language_sha256=digest,
        given_at=given.given_at.isoformat(),
        url=given.url,
        form_id=given.form_id,
        ip=given.ip,
        user_agent=given.user_agent,
        method=method.value,
    )
    events = [recorded]
    opted_in_everywhere = state.account_status is Status.OPTED_IN and all(
        s is Status.OPTED_IN for s in state.sender_status.values()
    )
    new = state
    if not opted_in_everywhere:
        evidence = f"written consent {digest}"
        if source is Source.MANUAL:
            opted = consent.opt_in(state, policy, evidence, None, method, source)
            new, events = opted.state, [recorded, *opted.events]
        else:
            # The contact's own YES: an opt-in for the account, as consent to the seller.
            new, event = consent.opted_in(new, policy, source, method, evidence=evidence)
            events.append(event)
    new = replace(new, written=new.written | {given.purpose})
    return Outcome(new, tuple(events), consent_texts=(given.language,))


# -- double opt-in ---------------------------------------------------------------------

#: The CTIA opt-in confirmation of a recurring program (Messaging Principles 5.1.2.1:
#: program, frequency, "Msg & data rates may apply", HELP and STOP), which also gives
#: 64.1200(f)(9)'s disclosure: what is agreed to, and that it is no condition of purchase.
CONFIRMATIONS = MappingProxyType(
    {
        "en": "{brand}: reply YES to get {purpose} texts from {brand} to this number, sent by"
        " automated means. {frequency}. Msg & data rates may apply. Consent is not a condition"
        " of purchase. Reply HELP for help, STOP to cancel.",
        "es": "{brand}: responda SI para recibir textos de {purpose} de {brand} en este"
        " número, enviados por medios automáticos. {frequency}. Pueden aplicarse tarifas de"
        " mensajes y datos. El consentimiento no es condición de compra. Responda AYUDA para"
        " ayuda, STOP para cancelar.",
        "fr": "{brand} : répondez OUI pour recevoir des textos {purpose} de {brand} à ce"
        " numéro, envoyés automatiquement. {frequency}. Des frais de messages et de données"
        " peuvent s'appliquer. Le consentement n'est pas une condition d'achat. Répondez AIDE"
        " pour de l'aide, ARRET pour annuler.",
        "pt": "{brand}: responda SIM para receber textos de {purpose} de {brand} neste"
        " número, enviados por meios automáticos. {frequency}. Podem ser cobradas tarifas de"
        " mensagens e dados. O consentimento não é condição de compra. Responda AJUDA para"
        " ajuda, PARAR para cancelar.",
        "de": "{brand}: Antworten Sie JA, um {purpose}-SMS von {brand} an diese Nummer zu"
        " erhalten, automatisch versandt. {frequency}. Es können Gebühren für Nachrichten und"
        " Daten anfallen. Die Zustimmung ist keine Kaufbedingung. HILFE für Hilfe, STOP zum"
        " Beenden.",
    }
)

#: The replies that confirm, in the languages optline reads (accents and case aside):
#: YES, SÍ, OUI, JA, SIM, SÌ. Nothing else does: no consent is presumed.
CONFIRM_WORDS = frozenset({"yes", "si", "oui", "ja", "sim"})
_LONGEST_YES = 16  # "  Yes!!  ", "S I": room for spaces and punctuation


def confirmation_text(policy: Policy, wanted: str, language: str | None) -> str:
    """The opt-in confirmation for ``wanted``, in ``language`` where optline has one."""
    template = CONFIRMATIONS.get(language or "en", CONFIRMATIONS["en"])
    frequency = policy.message_frequency.strip().rstrip(".") or "Msg frequency varies"
    return template.format(
        brand=policy.brand, purpose=wanted.replace("_", " "), frequency=frequency
    )


def confirms(body: str) -> bool:
    """Is ``body`` a YES, in one of the languages optline reads? (Every inbound text
    asks: a long one is none, and costs no normalising.)"""
    return len(body) <= _LONGEST_YES and keyword_form(body) in CONFIRM_WORDS


@dataclass(frozen=True, slots=True)
class Pending:
    """A confirmation asked for and not yet answered (a ``confirmation_requested``)."""

    purpose: str
    language_sha256: str
    keyword: str
    list_name: str | None
    requested_at: datetime


def ask(
    state: ContactState,
    policy: Policy,
    sender: str,
    keyword: str,
    wanted: str,
    list_name: str | None,
    language: str | None,
) -> Outcome:
    """A join keyword that needs confirmation: answer with the confirmation and record
    that it was asked (``confirmation_requested``); nothing is consented yet."""
    text = confirmation_text(policy, wanted, language)
    asked = consent.new_event(
        EventType.CONFIRMATION_REQUESTED,
        state,
        Source.KEYWORD,
        sender,
        keyword=keyword,
        purpose=wanted,
        list=list_name,
        language_sha256=language_hash(text),
    )
    return Outcome(state, (asked,), text, consent_texts=(text,))


def confirm(
    state: ContactState,
    policy: Policy,
    pending: Pending,
    sender: str,
    confirmation: str,
    now: datetime,
) -> Outcome | None:
    """The contact's YES to ``pending``: written consent with the ``confirmation`` they
    were sent as its language (given now), and the join keyword's list; None when the window
    (``double_opt_in_hours``) has passed or the contact is blocked, and the reply is
    then read as any other text."""
    window = timedelta(hours=policy.double_opt_in_hours)
    if state.blocked or now - pending.requested_at > window:
        return None
    given = WrittenConsent(pending.purpose, confirmation, now)
    recorded = record(state, policy, given, Method.DOUBLE_OPT_IN, Source.KEYWORD, sender)
    if pending.list_name is None:
        return recorded
    joined = consent.subscribe(recorded.state, pending.list_name, Source.KEYWORD)
    return replace(recorded, state=joined.state, events=(*recorded.events, *joined.events))
