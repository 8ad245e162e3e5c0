"""A text's body redacted on a deletion request.

Belongs here: :meth:`Redaction.redact_message`. The body is emptied in the messages
table; the ledger keeps the SHA-256 that the events caused by the text committed, and
a ``message_redacted`` event records who redacted it, why, and the SHA-256 of the body
it erased, so the chain and every proof still verify (docs/ledger.md).
"""

from __future__ import annotations

from types import MappingProxyType

from optline.domain.actors import Actor, attributed
from optline.domain.consent import Event
from optline.domain.consent_codes import EventType, Source
from optline.domain.messages import operator_reason
from optline.engine.context import AccountRef, checked_actor
from optline.engine.directory import Directory
from optline.errors import AlreadyRedacted, BadInput, UnknownMessage
from optline.store import MessageRow
from optline.store.ledger import body_sha256


class Redaction(Directory):
    """A text's body redacted, on the record."""

    def redact_message(
        self, account: AccountRef, message_id: int, reason: str, actor: Actor | None = None
    ) -> MessageRow:
        """Erase the body of message ``message_id`` (in or out), recorded on its
        contact's ledger with ``actor`` and ``reason`` (required: the request it
        answers). A body redacted already raises :class:`AlreadyRedacted`."""
        try:
            why = operator_reason(reason)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        actor = checked_actor(actor)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            message = tx.messages.get(row.id, message_id, for_update=True)
            if message is None:
                raise UnknownMessage(f"no message {message_id} in account {row.name!r}")
            if not tx.messages.redact(row.id, message.id, now):
                raise AlreadyRedacted(f"message {message_id} was redacted already")
            data = {
                "source": Source.MANUAL.value,
                "message_id": message.id,
                "message_sha256": body_sha256(message.body),
                "reason": why,
            }
            event = Event(EventType.MESSAGE_REDACTED, message.phone, MappingProxyType(data))
            self._append(tx, row.id, attributed([event], actor), now)
            redacted = tx.messages.get(row.id, message.id)
        assert redacted is not None
        return redacted
