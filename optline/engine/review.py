"""The review queue of possible opt-outs: flagged replies listed (open ones, newest
first, in keyset pages) and counted, and each resolved by a person: as an opt-out (its
event names the flag) or as no revocation (a ``flag_dismissed`` event saying who and
why). See :mod:`optline.domain.review` for when a flag opens and closes.

Belongs here: reading and resolving flags. Flags open and close with the events that
make them, in :meth:`Context._append`.
"""

from __future__ import annotations

from collections.abc import Sequence

from optline.domain import consent, inputs, review
from optline.domain.actors import Actor
from optline.domain.consent import ContactState
from optline.domain.review import Flag, Resolution
from optline.engine.changes import Changes
from optline.engine.context import AccountRef, checked_actor
from optline.engine.results import FlagPage
from optline.errors import AlreadyResolved, BadInput, UnknownFlag

#: The most flags one page holds.
MAX_FLAG_PAGE = 1000
#: The largest event seq (the ledger's seq is a 32-bit integer column).
MAX_SEQ = 2**31 - 1


class Review(Changes):
    """Flagged replies: listed, counted, resolved."""

    def flagged(self, account: AccountRef, before: int | None = None, limit: int = 200) -> FlagPage:
        """Open flags, newest first, ``limit`` at most; ``before``: the page after the
        one that ended with that flag (its ``next``); ``open``: how many are open."""
        if not 0 < limit <= MAX_FLAG_PAGE:
            raise BadInput(f"limit must be from 1 to {MAX_FLAG_PAGE}")
        if before is not None and not 0 < before <= MAX_SEQ:
            raise BadInput(f"before must be a flag's seq, from 1 to {MAX_SEQ}")
        with self.store.read() as tx:
            row = self._account(tx, account)
            flags = tx.flags.page(row.id, before, limit + 1)
            count = tx.flags.count_open(row.id)
        more = len(flags) > limit
        flags = flags[:limit]
        return FlagPage(flags, flags[-1].seq if more else None, count)

    def flagged_texts(self, account: AccountRef, flags: Sequence[Flag]) -> dict[int, str]:
        """The reply each flag was raised on, by the flag's seq (a flag whose text is
        not on record is left out)."""
        with self.store.read() as tx:
            account_id = self._account(tx, account).id
            found = {
                f.seq: tx.messages.received_at(account_id, f.phone, f.flagged_at) for f in flags
            }
        return {seq: text for seq, text in found.items() if text is not None}

    def open_flags(self, account: AccountRef) -> int:
        """How many flags wait for review (the exact count)."""
        with self.store.read() as tx:
            return tx.flags.count_open(self._account(tx, account).id)

    def resolve_flag(
        self,
        account: AccountRef,
        seq: int,
        resolution: Resolution,
        actor: Actor,
        why: str | None = None,
    ) -> Flag:
        """Resolve the open flag ``seq`` as ``resolution``, by ``actor``: OPTED_OUT opts
        the contact out as the flagged reply would have, had it been a keyword (from
        its sender, in the policy's scope; the event names the flag); DISMISSED records
        ``why`` (required) on a ``flag_dismissed`` event, and consent stays as it was.
        A flag already resolved raises :class:`AlreadySettled`."""
        checked = checked_actor(actor)
        note = inputs.why(why) if resolution is Resolution.DISMISSED else inputs.note(why)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            flag = tx.flags.get(row.id, seq) if 0 < seq <= MAX_SEQ else None
            if flag is None:
                raise UnknownFlag(f"no flag {seq} in account {row.name!r}")
            state = tx.contacts.get(row.id, flag.phone, for_update=True)
            flag = tx.flags.get(row.id, seq)  # as it is now the contact is locked
            assert flag is not None
            if not flag.open:
                raise AlreadyResolved(
                    f"flag {seq} is already resolved ({flag.resolution}, event {flag.resolved_seq})"
                )
            before = state or ContactState(flag.phone)
            if resolution is Resolution.DISMISSED:
                outcome = review.dismiss(before, flag, note or "")
            else:
                policy = self._policy_of(row)
                outcome = consent.opt_out(before, policy, flag.sender, note, flag=flag.seq)
            self._apply(tx, row.id, state, outcome, now, checked)
            resolved = tx.flags.get(row.id, seq)
        assert resolved is not None
        return resolved
