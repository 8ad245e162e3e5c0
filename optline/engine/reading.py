"""Reading what is on record: contacts, a contact's history and proof, messages, and
the verification of the ledger's chains (flagged replies are ``review``'s).

Belongs here: read-only questions about contacts and the ledger, each one read
transaction. Sends in doubt are listed in ``unsettled``.
"""

from __future__ import annotations

from typing import Any

from optline.domain.consent import ContactState, Status
from optline.engine.context import AccountRef, phone
from optline.engine.directory import Directory
from optline.errors import UnknownMessage
from optline.proof import proof_document
from optline.store import MessageRow, StoredEvent, VerifyResult


class Reading(Directory):
    """Read-only questions about contacts, messages and the ledger."""

    def contact(self, account: AccountRef, number: str) -> ContactState | None:
        contact_phone = phone(number)
        with self.store.read() as tx:
            return tx.contacts.get(self._account(tx, account).id, contact_phone)

    def contacts(
        self,
        account: AccountRef,
        status: Status | None = None,
        list_name: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ContactState]:
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            return tx.contacts.find(
                row.id, status=status, list_name=list_name, after=after, limit=limit
            )

    def history(
        self, account: AccountRef, number: str
    ) -> tuple[list[StoredEvent], list[MessageRow]]:
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            return tx.ledger.events(row.id, contact_phone), tx.messages.of_contact(
                row.id, contact_phone
            )

    def message(self, account: AccountRef, message_id: int) -> MessageRow:
        """One of the account's messages, in or out, as it is now (its delivery status)."""
        with self.store.read() as tx:
            found = tx.messages.get(self._account(tx, account).id, message_id)
        if found is None:
            raise UnknownMessage(f"no message {message_id} in account {account!r}")
        return found

    def recent_messages(self, account: AccountRef, limit: int = 20) -> list[MessageRow]:
        """The account's last messages in and out, newest first."""
        with self.store.read() as tx:
            return tx.messages.recent(self._account(tx, account).id, limit)

    def proof(self, account: AccountRef, number: str) -> dict[str, Any]:
        """A contact's events with their chain links, checkable offline (docs/ledger.md)."""
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            events = tx.ledger.events(row.id, contact_phone)
            head = tx.ledger.verify(row.id)
        return proof_document(row, contact_phone, events, head)

    def verify(self, account: AccountRef | None = None) -> list[VerifyResult]:
        with self.store.read() as tx:
            rows = [self._account(tx, account)] if account else tx.accounts.all()
            return [tx.ledger.verify(row.id) for row in rows]
