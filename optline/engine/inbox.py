"""The inbox and the dashboard: the account's conversations with their unread counts,
a conversation marked read, and the ledger's tallies over the last days.

Belongs here: reading across contacts for people at a screen. A reply from the inbox
is an ordinary send (``outbound``), so it meets the same gate as the API's.
"""

from __future__ import annotations

from optline.domain import activity
from optline.domain.activity import Activity
from optline.engine.context import AccountRef, phone
from optline.engine.directory import Directory
from optline.errors import BadInput
from optline.store.repo.inbox import Conversation

#: The most conversations one page of the inbox holds.
MAX_CONVERSATIONS = 200


class Inboxes(Directory):
    """Conversations, read markers and the dashboard's tallies."""

    def conversations(
        self,
        account: AccountRef,
        limit: int = 50,
        before: int | None = None,
        blocked: bool = False,
    ) -> list[Conversation]:
        """Conversations, the newest message's first; ``before``: those whose newest
        message is older than that message id (the next page); ``blocked``: those of
        blocked contacts too (hidden otherwise)."""
        if not 0 < limit <= MAX_CONVERSATIONS:
            raise BadInput(f"limit must be from 1 to {MAX_CONVERSATIONS}")
        with self.store.read() as tx:
            row = self._account(tx, account)
            return tx.inbox.conversations(row.id, limit, before, blocked)

    def unread(self, account: AccountRef) -> tuple[int, int]:
        """How many texts wait unread, and the account's newest message id (which
        moves with every text in or out: a page that shows it knows when to renew)."""
        with self.store.read() as tx:
            row = self._account(tx, account)
            return tx.inbox.unread(row.id), tx.inbox.latest(row.id)

    def mark_read(self, account: AccountRef, number: str, message_id: int) -> None:
        """The conversation with ``number`` is read up to ``message_id``."""
        contact_phone = phone(number)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            tx.inbox.mark_read(row.id, contact_phone, message_id, self._clock())

    def activity(self, account: AccountRef, days: int) -> Activity:
        """Opt-outs and opt-ins a day by method and language, and refused sends by
        reason, over the last ``days`` days (one of :data:`activity.SPANS`)."""
        if days not in activity.SPANS:
            raise BadInput(f"days must be one of {', '.join(map(str, activity.SPANS))}")
        span = activity.span(self._clock().date(), days)
        with self.store.read() as tx:
            row = self._account(tx, account)
            facts = tx.inbox.events_since(row.id, activity.start_of(span[0]), activity.TALLIED)
        return activity.tally(span, ((f.type, f.data, f.occurred_at) for f in facts))
