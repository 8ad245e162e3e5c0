"""A contact's number change: consent, lists and block moved to the new number, with
evidence, and the old number left with nothing on record (:mod:`optline.domain.moves`).

Belongs here: :meth:`Moves.move_contact`, one transaction over both numbers.
"""

from __future__ import annotations

from optline.domain import inputs, moves, projection
from optline.domain.actors import Actor
from optline.domain.consent import ContactState
from optline.engine.changes import Changes
from optline.engine.context import AccountRef, checked_actor, phone
from optline.errors import BadInput, NumberHasHistory, UnknownContact
from optline.store import Tx


class Moves(Changes):
    """A contact's number change."""

    def move_contact(
        self,
        account: AccountRef,
        number: str,
        to: str,
        evidence: str | None,
        replace_history: bool = False,
        actor: Actor | None = None,
    ) -> tuple[ContactState, ContactState]:
        """Move ``number``'s consent and lists to ``to``, with ``evidence`` of the change
        (required: who said the number changed, when and how); returns both numbers'
        states after it. A number with consent history of its own is refused
        (:class:`NumberHasHistory`) unless ``replace_history``: the move then replaces
        it, as both ledgers show."""
        old_phone, new_phone = phone(number), phone(to)
        if old_phone == new_phone:
            raise BadInput("to: the new number is the contact's own number")
        proof = inputs.evidence(evidence)
        if proof is None or not proof.strip():
            raise BadInput("evidence: moving a contact needs evidence of the number change")
        actor = checked_actor(actor)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            states = self._lock_contacts(tx, row.id, [old_phone, new_phone])
            old = states[old_phone]
            if old is None or not self._has_history(tx, row.id, old_phone):
                raise UnknownContact(f"no consent or list on record for {old_phone} to move")
            if self._has_history(tx, row.id, new_phone) and not replace_history:
                raise NumberHasHistory(
                    f"{new_phone} has consent history of its own: moving onto it replaces "
                    "that history (confirm with replace_history)"
                )
            (record,) = tx.projections.read(row.id, [old_phone])
            new = states[new_phone] or ContactState(new_phone)
            moved = moves.move(old, record, new, proof)
            self._apply(tx, row.id, old, moved.old, now, actor)
            self._apply(tx, row.id, states[new_phone], moved.new, now, actor)
            # Each number's consent rows as its ledger now says: the move sets every
            # scope, and clears the ones a number no longer has.
            for changed in (old_phone, new_phone):
                replayed = projection.replay(tx.ledger.events(row.id, changed))
                tx.projections.restore(row.id, replayed[changed], now)
            return moved.old.state, moved.new.state

    @staticmethod
    def _has_history(tx: Tx, account_id: int, number: str) -> bool:
        return moves.has_history(e.type for e in tx.ledger.events(account_id, number))
