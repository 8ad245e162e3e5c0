"""The account's purposes: listed, and added to the ones every account has.

Belongs here: the use cases of the purposes themselves. A consent of one purpose is
``changes``'s, a send's purpose ``outbound``'s, a revocation's ``inbound``'s.
"""

from __future__ import annotations

from optline.domain import inputs
from optline.engine.context import AccountRef
from optline.engine.directory import Directory
from optline.errors import AlreadyExists
from optline.store import Conflict


class Purposes(Directory):
    """The account's purposes."""

    def purposes(self, account: AccountRef) -> tuple[str, ...]:
        """Every purpose of the account: ``marketing`` and ``informational``, then its
        own in name order."""
        with self.store.read() as tx:
            return tx.purposes.names(self._account(tx, account).id)

    def add_purpose(self, account: AccountRef, name: str) -> str:
        """Add a purpose of the account's own (``appointment_reminders``); returns its
        name as stored."""
        name = inputs.purpose(name)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            if name in tx.purposes.names(row.id):
                raise AlreadyExists(f"purpose {name!r} already exists")
            try:
                tx.purposes.add(row.id, name, self._clock())
            except Conflict:
                raise AlreadyExists(f"purpose {name!r} already exists") from None
            return name
