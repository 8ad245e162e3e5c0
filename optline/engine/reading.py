"""Reading what is on record: contacts, a contact's history and proof, messages, and
the verification of the ledger's chains (flagged replies are ``review``'s).

Belongs here: read-only questions about contacts and the ledger, each one read
transaction. Sends in doubt are listed in ``unsettled``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from optline.domain import inputs
from optline.domain.consent import ContactState
from optline.domain.consent_codes import Status
from optline.domain.contact_filter import ContactFilter
from optline.domain.projection import Projection
from optline.engine.consistency import first_mismatch
from optline.engine.context import AccountRef, phone, sender_number
from optline.engine.directory import Directory
from optline.errors import UnknownMessage
from optline.proof import LogProof, commitments, proof_document
from optline.store import MessageRow, StoredEvent, Tx, VerifyResult


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
        sender: str | None = None,
    ) -> list[ContactState]:
        """Contacts in phone order; ``status`` in any scope, or as seen from ``sender``
        (one of the account's)."""
        return self.find_contacts(account, ContactFilter(status, list_name, sender), after, limit)

    def find_contacts(
        self,
        account: AccountRef,
        query: ContactFilter,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ContactState]:
        """The contacts ``query`` keeps, in phone order, from just after ``after``."""
        with self.store.read() as tx:
            account_id, query = self._checked_filter(tx, account, query)
            return tx.contacts.find(account_id, query, after=after, limit=limit)

    def count_contacts(self, account: AccountRef, query: ContactFilter) -> int:
        """How many contacts ``query`` keeps, exactly."""
        with self.store.read() as tx:
            return tx.contacts.count(*self._checked_filter(tx, account, query))

    def _checked_filter(
        self, tx: Tx, account: AccountRef, query: ContactFilter
    ) -> tuple[int, ContactFilter]:
        """The account's id and ``query`` with its sender as stored, once its list,
        sender and purpose are found to be the account's own."""
        row = self._account(tx, account)
        self._known_list(tx, row, query.list_name)
        if query.purpose is not None:
            purpose = inputs.purpose(query.purpose)
            self._known_purpose(tx, row, purpose)
            query = replace(query, purpose=purpose)
        if query.sender is not None:
            query = replace(query, sender=self._sender(tx, row, sender_number(query.sender)).number)
        return row.id, query

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
        """A contact's events with their chain links and their inclusion proofs in the
        log, checkable offline (docs/ledger.md)."""
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            events = tx.ledger.events(row.id, contact_phone)
            head = tx.ledger.verify(row.id)
            texts = tx.messages.by_ids(row.id, commitments((e.seq, e.data) for e in events))
            # The consent language its events refer to (written consent, confirmations).
            hashes = (e.data["language_sha256"] for e in events if "language_sha256" in e.data)
            consent_texts = tx.consents.texts(row.id, hashes)
            log = self._log_proof(tx, events)
        return proof_document(row, contact_phone, events, head, texts, log, consent_texts)

    def _log_proof(self, tx: Tx, events: Sequence[StoredEvent]) -> LogProof | None:
        """The events' audit paths under the newest checkpoint (those sequenced)."""
        checkpoint = tx.log.checkpoint()
        if checkpoint is None:
            return None
        paths = {}
        for event in events:
            position = tx.log.position(event.account_id, event.seq)
            if position is not None and position < checkpoint.size:
                paths[event.seq] = (position, tx.log.inclusion(position, checkpoint.size))
        keys = tx.log.trusted_keys(self.store.log_keys)
        return LogProof(checkpoint.text, keys, paths)

    def records(self, account: AccountRef, phones: Sequence[str]) -> dict[str, Projection]:
        """The consent on record of these contacts, every scope with its method, time
        and event (contacts the account has never seen are left out)."""
        with self.store.read() as tx:
            row = self._account(tx, account)
            return {p.phone: p for p in tx.projections.read(row.id, phones)}

    def verify(self, account: AccountRef | None = None) -> list[VerifyResult]:
        """Check each account's chain, then replay its events and compare the consent
        they give every contact, and the review queue, with the stored state (the first
        contact that differs is named: ``contact``, as a broken link is), and the texts
        the events commit with their stored bodies (the first altered one: ``message``)."""
        with self.store.read() as tx:
            rows = [self._account(tx, account)] if account else tx.accounts.all()
            return [self._verified(tx, row.id) for row in rows]

    @staticmethod
    def _verified(tx: Tx, account_id: int) -> VerifyResult:
        chain = tx.ledger.verify(account_id)
        if not chain.ok:
            return chain
        mismatch = first_mismatch(tx, account_id, tx.ledger.events(account_id))
        if mismatch is None:
            return chain
        return replace(
            chain,
            ok=False,
            problem=mismatch.problem,
            contact=mismatch.contact,
            message=mismatch.message,
        )
