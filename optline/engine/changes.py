"""Consent changed by hand or in bulk: opt-out, opt-in, block, unblock, list membership,
an opt-out reported by a provider, and a contacts import.

Belongs here: every change of a contact's consent that is not an inbound text (that is
``inbound``) or a policy change (``directory``), applied as an all-or-nothing
transaction over one or many contacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from optline.domain import bulk, consent, inputs, projection, purposes, review
from optline.domain.actors import Actor, MessageRef
from optline.domain.consent import ContactState, Outcome, Refused
from optline.domain.consent_codes import MANUAL_OPT_IN_METHODS, Method
from optline.domain.policy import Policy
from optline.domain.projection import Projection
from optline.engine.context import AccountRef, checked_actor, message_ref, phone, sender_number
from optline.engine.directory import Directory
from optline.engine.results import ImportRow
from optline.errors import BadInput, BadRows, NotAllowed


class Changes(Directory):
    """Consent changed by hand, in bulk, by a provider, or by an import."""

    def opt_out(
        self,
        account: AccountRef,
        number: str,
        sender: str | None = None,
        note: str | None = None,
        actor: Actor | None = None,
        purpose: str | None = None,
    ) -> ContactState:
        """Opt ``number`` out (from ``sender`` alone, where the policy keeps consent per
        sender: it must be one of the account's; of ``purpose`` alone, from every
        sender). ``actor``, here and in every manual change: who made it, recorded on
        its events."""
        from_number = self._opt(sender)
        note = inputs.note(note)
        if purpose is not None:
            chosen = _purpose_alone(purpose, from_number)
            return self._change(
                account,
                number,
                lambda s, p: purposes.opt_out(s, chosen, note),
                actor=actor,
                purpose=chosen,
            )
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
        method: Method | str = Method.MANUAL,
        actor: Actor | None = None,
        purpose: str | None = None,
    ) -> ContactState:
        """Opt ``number`` in with the evidence of its consent, given by hand or by a
        web form (``method``); to ``purpose`` alone, from every sender, when given."""
        from_number = self._opt(sender)
        evidence = inputs.evidence(evidence)
        how = _manual_opt_in_method(method)
        if purpose is not None:
            chosen = _purpose_alone(purpose, from_number)
            return self._change(
                account,
                number,
                lambda s, p: purposes.opt_in(s, p, chosen, evidence, how),
                actor=actor,
                purpose=chosen,
            )
        return self._change(
            account,
            number,
            lambda s, p: consent.opt_in(s, p, evidence, from_number, how),
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
        unread: Sequence[tuple[int, str]] = (),
        actor: Actor | None = None,
    ) -> int:
        """Apply validated rows in one transaction: all of them, or none when any row is
        refused (:class:`BadRows` naming every refused row by its line). ``unread``: the
        file's rows that could not be read, ``(line, why)``; the others are still
        checked, so that one answer lists every bad row, and nothing is written."""
        actor = checked_actor(actor)
        now = self._clock()
        count = 0
        problems = list(unread)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            policy = self._policy_of(row)
            known_lists = {lst.name for lst in tx.senders.lists(row.id)}
            for item in rows:
                progress()
                missing = [name for name in item.lists if name not in known_lists]
                if missing:
                    known = ", ".join(sorted(known_lists)) or "none yet"
                    problems.append(
                        (item.line, f"unknown list {missing[0]!r} (the account's lists: {known})")
                    )
                    continue
                try:
                    inputs.evidence(item.evidence)
                except BadInput as exc:
                    problems.append((item.line, str(exc)))
                    continue
                state = tx.contacts.get(row.id, item.phone, for_update=True)
                try:
                    outcome = bulk.imported(
                        state or ContactState(item.phone),
                        policy,
                        item.status,
                        item.lists,
                        item.evidence,
                    )
                except Refused as exc:
                    problems.append((item.line, str(exc)))
                    continue
                # Applied even after a bad row, so later rows of the same contact are
                # checked against it; the rollback below undoes them all.
                self._apply(tx, row.id, state, outcome, now, actor)
                count += 1
            if problems:  # the transaction is rolled back: nothing of the file stays
                raise BadRows(problems)
        return count

    def repair(self, account: AccountRef) -> list[str]:
        """Rewrite the account's consent tables and its review queue as its ledger's
        replay says; returns the contacts rewritten. Refused while the chain itself is
        broken: a replay of a tampered ledger is no truth to restore."""
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account, exclusive=True)
            chain = tx.ledger.verify(row.id)
            if not chain.ok:
                raise NotAllowed(f"the ledger of {row.name!r} is broken: {chain.problem}")
            events = tx.ledger.events(row.id)
            replayed = projection.replay(events)
            stored = {p.phone: p for p in tx.projections.read(row.id)}
            repaired = set()
            for contact_phone in sorted(set(stored) | set(replayed)):
                want = replayed.get(contact_phone) or Projection(contact_phone)
                if stored.get(contact_phone) != want:
                    tx.projections.restore(row.id, want, now)
                    repaired.add(contact_phone)
            # The review queue too: each flag as its events say (every flagged
            # contact has its row by now: it has events).
            flags = review.replay(events)
            kept = {f.seq: f for f in tx.flags.all(row.id)}
            for seq in sorted(set(kept) | set(flags)):
                if kept.get(seq) != flags.get(seq):
                    tx.flags.restore(row.id, seq, flags.get(seq))
                    repaired.add((flags.get(seq) or kept[seq]).phone)
            return sorted(repaired)

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
        purpose: str | None = None,
    ) -> ContactState:
        (state,) = self._change_each(
            account, [number], change, list_name, sender, actor, message, purpose
        )
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
        purpose: str | None = None,
    ) -> list[ContactState]:
        """Apply ``change`` to each contact in one transaction: all of them, or (on a
        bad number or a refusal) none. ``list_name``, ``sender`` and ``purpose``, when
        given, must be the account's; ``actor`` or ``message`` caused the change."""
        phones = list(dict.fromkeys(phone(n) for n in numbers))
        actor = checked_actor(actor)
        now = self._clock()
        changed: list[ContactState] = []
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            if sender is not None:
                self._sender(tx, row, sender)
            if purpose is not None:
                self._known_purpose(tx, row, purpose)
            policy = self._policy_of(row)
            cause = None
            if message is not None:
                found = tx.messages.get(row.id, message)
                cause = MessageRef(message) if found is None else message_ref(found)
            states = self._lock_contacts(tx, row.id, phones)
            for contact_phone in phones:
                state = states[contact_phone]
                try:
                    outcome = change(state or ContactState(contact_phone), policy)
                except Refused as exc:
                    raise NotAllowed(str(exc)) from None
                self._apply(tx, row.id, state, outcome, now, actor, cause)
                changed.append(outcome.state)
        return changed


def _purpose_alone(purpose: str, sender: str | None) -> str:
    """A change of one purpose's consent, which covers every sender."""
    if sender is not None:
        raise BadInput("a purpose's consent covers every sender: give a sender or a purpose")
    return inputs.purpose(purpose)


def _manual_opt_in_method(method: Method | str) -> Method:
    try:
        how = Method(method)
    except ValueError:
        how = None
    if how not in MANUAL_OPT_IN_METHODS:
        allowed = ", ".join(sorted(m.value for m in MANUAL_OPT_IN_METHODS))
        raise BadInput(f"an opt-in by the business is made by one of: {allowed}")
    return how
