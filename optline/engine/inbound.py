"""An inbound text received: classified, applied to the contact's consent, recorded with
its outcome, and its automatic reply decided and recorded (queued for the provider's
API, or answered in the webhook).

Belongs here: :meth:`Inbound.receive` and what only it needs (a repeated delivery
answered with the first one's outcome). The reply's hand-over is ``handover``'s.
"""

from __future__ import annotations

from typing import Any

from optline.domain import consent, decisions, inputs
from optline.domain.actors import MessageRef
from optline.domain.classify import classify, with_provider_keyword
from optline.domain.consent import ContactState, Sender
from optline.domain.messages import MessageStatus
from optline.engine.context import AccountRef, phone, sender_number
from optline.engine.directory import Directory
from optline.engine.results import InboundResult
from optline.errors import ProviderIdConflict
from optline.store import DuplicateDelivery
from optline.store.ledger import body_sha256


class Inbound(Directory):
    """An inbound text received."""

    def receive(
        self,
        account: AccountRef,
        from_: str,
        to: str,
        body: str,
        provider_id: str | None = None,
        provider_replied: bool = False,
        reply_by_api: bool = False,
        provider_keyword: str | None = None,
    ) -> InboundResult:
        """Apply one inbound text: classify, change consent, record, decide the reply.

        The same ``provider_id`` delivered twice gets the first delivery's outcome back,
        with no second event and no second reply. When the provider has answered the
        keyword itself (``provider_replied``, or a sender set to provider replies), the
        change is recorded and no second reply is sent. ``reply_by_api``: the reply goes
        out through the provider's API, not in the webhook's answer (Telnyx); it is
        recorded queued, in the same transaction, and :meth:`dispatch_recorded` or
        :meth:`send_queued_replies` sends it. ``provider_keyword``: the keyword the
        provider acted on itself (Twilio's ``OptOutType``, Telnyx's
        ``autoresponse_type``); its opt-out is recorded whatever the policy reads.
        """
        try:
            return self._receive(
                account,
                from_,
                to,
                body,
                provider_id,
                provider_replied,
                reply_by_api,
                provider_keyword,
            )
        except _Replay as replay:
            return InboundResult.from_dict(replay.outcome, duplicate=True)

    def _receive(
        self,
        account: AccountRef,
        from_: str,
        to: str,
        body: str,
        provider_id: str | None,
        provider_replied: bool,
        reply_by_api: bool,
        provider_keyword: str | None,
    ) -> InboundResult:
        contact_phone = phone(from_)
        to_number = sender_number(to)
        body = inputs.inbound_text(body)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            sender = self._sender(tx, row, to_number)
            policy = self._policy_of(row)
            triggers, list_keywords = self._account_keywords(tx, row)
            classification = with_provider_keyword(
                classify(body, policy, triggers.keys() | list_keywords.keys()), provider_keyword
            )
            state = tx.contacts.get(row.id, contact_phone, for_update=True)
            before = decisions.received(state or ContactState(contact_phone))
            outcome = consent.receive(
                before,
                classification,
                Sender(sender.number, sender.kind),
                policy,
                triggers,
                list_keywords,
            )
            reply = None if provider_replied or sender.provider_replies else outcome.reply
            # The reply's number is taken first: a repeat of this delivery answers with
            # the same reply, id included, from the outcome stored with the text. The
            # text's own number is taken first too when its events name it.
            inbound_id, reply_id = (
                tx.messages.new_ids(row.id, 2) if reply is not None else (None, None)
            )
            if inbound_id is None and outcome.events:
                (inbound_id,) = tx.messages.new_ids(row.id, 1)
            # The events commit the text and the reply to the chain by their SHA-256.
            cause = None
            if inbound_id is not None:
                reply_sha256 = None if reply is None else body_sha256(reply)
                cause = MessageRef(inbound_id, body_sha256(body), reply_id, reply_sha256)
            self._apply(tx, row.id, state, outcome, now, message=cause)
            result = InboundResult(
                intent=classification.intent.value,
                keyword=classification.keyword,
                reason=classification.reason,
                reply=reply,
                status=outcome.state.status_from(sender.number).value,
                events=tuple(e.type.value for e in outcome.events),
                reply_message_id=reply_id,
            )
            try:
                tx.messages.record_inbound(
                    row.id,
                    provider_id=provider_id,
                    phone=contact_phone,
                    sender=sender.number,
                    body=body,
                    hidden=outcome.hidden,
                    at=now,
                    outcome=result.as_dict(),
                    message_id=inbound_id,
                )
            except DuplicateDelivery:
                # A repeated delivery (retries are rare, so it is not looked for first):
                # its transaction rolls back, so nothing is applied twice, and it gets
                # the first delivery's outcome.
                assert provider_id is not None
                earlier = tx.messages.inbound_outcome(
                    row.id, provider_id, contact_phone, sender.number
                )
                if earlier is None:  # the id is another message's: refused, nothing kept
                    raise ProviderIdConflict(
                        f"message id {provider_id!r} is already another message's"
                    ) from None
                raise _Replay(earlier) from None
            if reply is not None:
                tx.messages.record_outbound(
                    row.id,
                    phone=contact_phone,
                    sender=sender.number,
                    body=reply,
                    status=MessageStatus.QUEUED
                    if reply_by_api and self._sends_through(sender)
                    else MessageStatus.SENT,
                    reason=None,
                    list_name=None,
                    campaign=False,
                    at=now,
                    reply=True,
                    message_id=reply_id,
                )
            return result


class _Replay(Exception):
    """Internal: a repeated delivery, raised to roll its transaction back; the caller
    answers with the first delivery's stored ``outcome``."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__("repeated delivery")
        self.outcome = outcome
