"""Written consent: recorded by the business (:meth:`Consents.record_consent`), read back
with its language (:meth:`Consents.consents`), and gathered by text with a double
opt-in (:func:`double_opt_in`, which :class:`~optline.engine.inbound.Inbound` asks
about every inbound text before the consent state machine reads it).

Belongs here: the use cases of :mod:`optline.domain.written_consent` and their checks of
input; the rules are the domain's, the texts and records the store's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from optline.domain import inputs, written_consent
from optline.domain.actors import Actor
from optline.domain.classify import Classification
from optline.domain.consent import ContactState, Outcome, Refused, Trigger
from optline.domain.policy import Intent, Policy
from optline.domain.written_consent import WrittenConsent
from optline.engine.changes import Changes
from optline.engine.context import AccountRef, checked_actor, phone
from optline.errors import BadInput, NotAllowed
from optline.store import SenderRow, StoredEvent, Tx

MAX_LANGUAGE_CHARS = 10_000
MAX_FORM_ID_CHARS = 200
MAX_USER_AGENT_CHARS = 1000
# A consent given "now" by a form whose clock runs a little ahead is still in the past.
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One ``consent_recorded`` event, with the language it refers to."""

    seq: int
    phone: str
    recorded_at: datetime
    data: Mapping[str, Any]
    language: str | None  # None only if the text was never kept (a damaged store)

    def as_dict(self) -> dict[str, Any]:
        data = self.data
        return {
            "seq": self.seq,
            "phone": self.phone,
            "purpose": data["purpose"],
            "language": self.language,
            "language_sha256": data["language_sha256"],
            "given_at": data.get("given_at"),
            "recorded_at": self.recorded_at.isoformat(),
            "method": data.get("method"),
            "url": data.get("url"),
            "form_id": data.get("form_id"),
            "ip": data.get("ip"),
            "user_agent": data.get("user_agent"),
            "by": data.get("by"),
            "via": data.get("via"),
            "sender": data.get("sender"),
            "message_id": data.get("message_id"),
        }


def given_at(text: str, zone: tzinfo | None = None) -> datetime:
    """A moment as ISO 8601 text (the CLI's option, the UI's field); ``zone``: the
    zone of a time written without one (else it is refused by :func:`checked_consent`)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"given_at {text[:40]!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None and zone else moment


def checked_consent(
    purpose: str | None,
    language: str,
    given_at: datetime,
    now: datetime,
    url: str | None = None,
    form_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> WrittenConsent:
    """A written consent from its parts, each checked (:class:`BadInput`)."""
    language = inputs.text(language, "consent language", MAX_LANGUAGE_CHARS)
    if not language.strip():
        raise BadInput("consent language is empty: record the exact text the person agreed to")
    if given_at.tzinfo is None:
        raise BadInput("given_at needs a time zone (e.g. 2026-12-07T15:04:05Z)")
    if given_at > now + _CLOCK_SKEW:
        raise BadInput("given_at is in the future: prior consent was given before now")
    if url is not None and not url.lower().startswith(("https://", "http://")):
        raise BadInput("url must be an http(s) address")
    if ip is not None:
        try:
            ip = str(ipaddress.ip_address(ip.strip()))
        except ValueError:
            raise BadInput(f"ip {ip[:60]!r} is not an IPv4 or IPv6 address") from None
    return WrittenConsent(
        purpose=written_consent.purpose(purpose),
        language=language,
        given_at=given_at,
        url=inputs.optional_text(url, "url", inputs.MAX_URL_CHARS),
        form_id=inputs.optional_text(form_id, "form_id", MAX_FORM_ID_CHARS),
        ip=ip,
        user_agent=inputs.optional_text(user_agent, "user_agent", MAX_USER_AGENT_CHARS),
    )


class Consents(Changes):
    """Written consent recorded and read back."""

    def record_consent(
        self,
        account: AccountRef,
        number: str,
        language: str,
        given_at: datetime,
        purpose: str | None = None,
        url: str | None = None,
        form_id: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        actor: Actor | None = None,
    ) -> ConsentRecord:
        """Record prior express written consent that ``number`` gave (``language``: the
        exact text agreed to) and opt it in where it is not yet; refused (nothing
        written) as a manual opt-in is: a blocked contact, or a profile that lets only
        the contact lift an opt-out."""
        contact_phone = phone(number)
        actor = checked_actor(actor)
        now = self._clock()
        given = checked_consent(purpose, language, given_at, now, url, form_id, ip, user_agent)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            policy = self._policy_of(row)
            state = tx.contacts.get(row.id, contact_phone, for_update=True)
            before = state or ContactState(contact_phone)
            try:
                outcome = written_consent.record(before, policy, given)
            except Refused as exc:
                raise NotAllowed(str(exc)) from None
            self._apply(tx, row.id, state, outcome, now, actor)
            recorded = tx.consents.records(row.id, contact_phone)[-1]
        return ConsentRecord(
            recorded.seq, contact_phone, recorded.occurred_at, recorded.data, given.language
        )

    def consents(self, account: AccountRef, number: str) -> list[ConsentRecord]:
        """The contact's written consent records, oldest first, each with its language."""
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            records = tx.consents.records(row.id, contact_phone)
            texts = tx.consents.texts(row.id, (r.data["language_sha256"] for r in records))
        return [_record(r, texts) for r in records]


def _record(event: StoredEvent, texts: Mapping[str, str]) -> ConsentRecord:
    assert event.phone is not None
    language = texts.get(event.data["language_sha256"])
    return ConsentRecord(event.seq, event.phone, event.occurred_at, event.data, language)


def double_opt_in(
    tx: Tx,
    account_id: int,
    state: ContactState,
    body: str,
    classification: Classification,
    sender: SenderRow,
    policy: Policy,
    triggers: Mapping[str, Trigger],
    now: datetime,
) -> Outcome | None:
    """What an inbound text does as a double opt-in, or None for any other text: a join
    keyword that asks for confirmation is answered with it; a YES while a confirmation
    waits records the written consent and sends the keyword's reply. A blocked
    contact's texts are the state machine's (kept hidden, nothing consented)."""
    if state.blocked:
        return None
    keyword = classification.keyword
    if classification.intent is Intent.TRIGGER and keyword is not None:
        trigger = triggers.get(keyword.lower())
        if trigger is None or trigger.confirm_purpose is None:
            return None
        return written_consent.ask(
            state,
            policy,
            sender.number,
            trigger.keyword,
            trigger.confirm_purpose,
            trigger.subscribe_list,
            classification.language,
        )
    if not written_consent.confirms(body):
        return None
    pending = tx.consents.pending(account_id, state.phone)
    if pending is None:
        return None
    language = tx.consents.texts(account_id, [pending.language_sha256]).get(pending.language_sha256)
    if language is None:
        return None
    confirmed = written_consent.confirm(state, policy, pending, sender.number, language, now)
    if confirmed is None:
        return None
    joined = triggers.get(pending.keyword)
    reply = (
        joined.reply
        if joined is not None
        else policy.replies_for(sender.kind, classification.language).opt_in
    )
    return Outcome(confirmed.state, confirmed.events, policy.render(reply))
