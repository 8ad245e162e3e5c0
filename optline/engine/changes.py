"""Consent changed by hand or in bulk: opt-out, opt-in, block, unblock, list membership,
an opt-out reported by a provider, and a contacts import.

Belongs here: every change of a contact's consent that is not an inbound text (that is
``inbound``) or a policy change (``directory``), applied as an all-or-nothing
transaction over one or many contacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from optline.domain import consent, inputs
from optline.domain.actors import Actor
from optline.domain.consent import ContactState, Outcome, Refused
from optline.domain.policy import Policy
from optline.engine.context import AccountRef, checked_actor, phone, sender_number
from optline.engine.directory import Directory
from optline.engine.results import ImportRow
from optline.errors import BadInput, NotAllowed


class Changes(Directory):
    """Consent changed by hand, in bulk, by a provider, or by an import."""

    def opt_out(
        self,
        account: AccountRef,
        number: str,
        sender: str | None = None,
        note: str | None = None,
        actor: Actor | None = None,
    ) -> ContactState:
        """Opt ``number`` out (from ``sender`` alone, where the policy keeps consent per
        sender: it must be one of the account's). ``actor``, here and in every manual
        change: who made it, recorded on its events."""
        from_number = self._opt(sender)
        note = inputs.note(note)
        return self._change(
            account,
            number,
            lambda s, p: consent.opt_out(s, p, from_number, note),
            sender=from_number,
            actor=actor,
        )

    def opt_in(
        self,
        account: AccountRef,
        number: str,
        evidence: str | None,
        sender: str | None = None,
        actor: Actor | None = None,
    ) -> ContactState:
        from_number = self._opt(sender)
        evidence = inputs.evidence(evidence)
        return self._change(
            account,
            number,
            lambda s, p: consent.opt_in(s, p, evidence, from_number),
            sender=from_number,
            actor=actor,
        )

    def block(
        self,
        account: AccountRef,
        number: str,
        note: str | None = None,
        actor: Actor | None = None,
    ) -> ContactState:
        note = inputs.note(note)
        return self._change(account, number, lambda s, p: consent.block(s, note), actor=actor)

    def unblock(
        self,
        account: AccountRef,
        number: str,
        note: str | None = None,
        actor: Actor | None = None,
    ) -> ContactState:
        note = inputs.note(note)
        return self._change(account, number, lambda s, p: consent.unblock(s, note), actor=actor)

    def subscribe(
        self, account: AccountRef, list_name: str, number: str, actor: Actor | None = None
    ) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.subscribe(s, list_name), list_name, actor=actor
        )

    def unsubscribe(
        self, account: AccountRef, list_name: str, number: str, actor: Actor | None = None
    ) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.unsubscribe(s, list_name), list_name, actor=actor
        )

    def provider_opt_out(
        self,
        account: AccountRef,
        sender: str,
        number: str,
        provider: str,
        code: str,
        account_ref: str | None = None,
        message_id: int | None = None,
    ) -> ContactState:
        """A provider refused a send because the recipient opted out there (21610...);
        ``account_ref`` as for :meth:`delivery_report`; ``message_id``: the refused
        send, named on the event."""
        from_number = sender_number(sender)
        return self._change(
            account,
            number,
            lambda s, p: self._provider_outcome(s, p, from_number, provider, code, account_ref),
            message=message_id,
        )

    def bulk_opt_out(
        self, account: AccountRef, numbers: Sequence[str], actor: Actor | None = None
    ) -> int:
        """Opt out every number in one transaction: all of them or, on a bad one, none."""
        return len(
            self._change_each(account, numbers, lambda s, p: consent.opt_out(s, p), actor=actor)
        )

    def add_to_list(
        self,
        account: AccountRef,
        list_name: str,
        numbers: Sequence[str],
        actor: Actor | None = None,
    ) -> int:
        changed = self._change_each(
            account, numbers, lambda s, p: consent.subscribe(s, list_name), list_name, actor=actor
        )
        return len(changed)

    def import_contacts(
        self,
        account: AccountRef,
        rows: Iterable[ImportRow],
        progress: Callable[[], None] = lambda: None,
        actor: Actor | None = None,
    ) -> int:
        """Apply validated rows in one transaction: all of them, or none on any refusal."""
        actor = checked_actor(actor)
        now = self._clock()
        count = 0
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            policy = self._policy_of(row)
            known_lists = {lst.name for lst in tx.senders.lists(row.id)}
            for item in rows:
                missing = [name for name in item.lists if name not in known_lists]
                if missing:
                    raise BadInput(f"line {item.line}: unknown list {missing[0]!r}")
                try:
                    inputs.evidence(item.evidence)
                except BadInput as exc:
                    raise BadInput(f"line {item.line}: {exc}") from None
                state = tx.contacts.get(row.id, item.phone, for_update=True)
                try:
                    outcome = consent.imported(
                        state or ContactState(item.phone),
                        policy,
                        item.status,
                        item.lists,
                        item.evidence,
                        new=state is None,
                    )
                except Refused as exc:
                    raise NotAllowed(f"line {item.line}: {exc}") from None
                self._apply(tx, row.id, state, outcome, now, actor)
                count += 1
                progress()
        return count

    @staticmethod
    def _opt(sender: str | None) -> str | None:
        return sender_number(sender) if sender else None

    def _change(
        self,
        account: AccountRef,
        number: str,
        change: Callable[[ContactState, Policy], Outcome],
        list_name: str | None = None,
        sender: str | None = None,
        actor: Actor | None = None,
        message: int | None = None,
    ) -> ContactState:
        (state,) = self._change_each(account, [number], change, list_name, sender, actor, message)
        return state

    def _change_each(
        self,
        account: AccountRef,
        numbers: Sequence[str],
        change: Callable[[ContactState, Policy], Outcome],
        list_name: str | None = None,
        sender: str | None = None,
        actor: Actor | None = None,
        message: int | None = None,
    ) -> list[ContactState]:
        """Apply ``change`` to each contact in one transaction: all of them, or (on a
        bad number or a refusal) none. ``list_name`` and ``sender``, when given, must
        be the account's; ``actor`` or ``message`` caused the change."""
        phones = list(dict.fromkeys(phone(n) for n in numbers))
        actor = checked_actor(actor)
        now = self._clock()
        changed: list[ContactState] = []
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            if sender is not None:
                self._sender(tx, row, sender)
            policy = self._policy_of(row)
            states = self._lock_contacts(tx, row.id, phones)
            for contact_phone in phones:
                state = states[contact_phone]
                try:
                    outcome = change(state or ContactState(contact_phone), policy)
                except Refused as exc:
                    raise NotAllowed(str(exc)) from None
                self._apply(tx, row.id, state, outcome, now, actor, message)
                changed.append(outcome.state)
        return changed
