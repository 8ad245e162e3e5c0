"""The purposes an account adds to the ones every account has, and the purpose of the
texts the store keeps (the last one to a contact from a sender: the text a revocation
answers, under ``revoke_all`` off)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from optline.domain import purposes as domain
from optline.store.repo.base import Repository
from optline.store.schema import messages, purposes


class Purposes(Repository):
    __slots__ = ()

    def add(self, account_id: int, name: str, at: datetime) -> None:
        """Add the account's own purpose; Conflict if it has it already."""
        self._tx.check_writable()
        values = {"account_id": account_id, "name": name, "created_at": at}
        self._tx.insert_or_conflict(purposes, values, f"purpose {name!r}")

    def names(self, account_id: int) -> tuple[str, ...]:
        """Every purpose of the account: the default ones, then its own in name order."""
        own = self._conn.execute(
            sa.select(purposes.c.name)
            .where(purposes.c.account_id == account_id)
            .order_by(purposes.c.name)
        ).scalars()
        return (*domain.DEFAULT_PURPOSES, *own)

    def answered(self, account_id: int, phone: str, sender: str) -> str:
        """The purpose of the last text to ``phone`` from ``sender`` (automatic answers
        and first-text notices aside): its own, else marketing for a campaign text and
        informational for another, and informational when there is none."""
        m = messages
        row = self._conn.execute(
            sa.select(m.c.purpose, m.c.campaign)
            .where(
                m.c.account_id == account_id,
                m.c.phone == phone,
                m.c.sender == sender,
                m.c.direction == "out",
                m.c.reply == sa.false(),
                m.c.disclosure == sa.false(),
            )
            .order_by(m.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return domain.INFORMATIONAL
        purpose, campaign = row
        return domain.of_send(purpose, bool(campaign))
