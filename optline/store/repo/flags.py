"""The review queue: flagged replies (``flags``, one row per ``revocation_flagged``
event), opened and resolved in the transaction that appends their events; the open ones
paged newest first and counted; the contacts an open flag holds campaign texts to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from optline.domain.review import Flag, Resolution
from optline.store.ledger import utc
from optline.store.repo.base import Repository
from optline.store.rows import moment_value
from optline.store.schema import flags

_OPEN = flags.c.resolved_seq.is_(None)


class Flags(Repository):
    __slots__ = ()

    def add(self, account_id: int, flag: Flag) -> None:
        self._tx.check_writable()
        values = {
            "account_id": account_id,
            "seq": flag.seq,
            "phone": flag.phone,
            "sender": flag.sender,
            "reason": flag.reason,
            "flagged_at": utc(flag.flagged_at),
        }
        self._conn.execute(sa.insert(flags), values)

    def resolve(
        self, account_id: int, seqs: Sequence[int], resolution: Resolution, resolved_seq: int
    ) -> None:
        """Mark the open flags ``seqs`` resolved by the event ``resolved_seq``."""
        self._tx.check_writable()
        stmt = (
            sa.update(flags)
            .where(flags.c.account_id == account_id, flags.c.seq.in_(seqs), _OPEN)
            .values(resolution=resolution.value, resolved_seq=resolved_seq)
        )
        self._conn.execute(stmt)

    def all(self, account_id: int, phones: Sequence[str] | None = None) -> list[Flag]:
        """Every flag of the account (``phones``: of these contacts), open or resolved,
        oldest first."""
        stmt = sa.select(flags).where(flags.c.account_id == account_id)
        if phones is None:
            return [_flag(row) for row in self._conn.execute(stmt.order_by(flags.c.seq))]
        found: list[Flag] = []
        for at in range(0, len(phones), 500):  # a few hundred contacts a statement
            chunk = stmt.where(flags.c.phone.in_(phones[at : at + 500]))
            found.extend(_flag(row) for row in self._conn.execute(chunk))
        return sorted(found, key=lambda f: f.seq)

    def restore(self, account_id: int, seq: int, flag: Flag | None) -> None:
        """Rewrite the flag ``seq`` as ``flag`` says (None: there is no such flag); the
        flag's contact must have its row."""
        self._tx.check_writable()
        self._conn.execute(
            sa.delete(flags).where(flags.c.account_id == account_id, flags.c.seq == seq)
        )
        if flag is not None:
            self.add(account_id, flag)
            if flag.resolution is not None and flag.resolved_seq is not None:
                self.resolve(account_id, [flag.seq], flag.resolution, flag.resolved_seq)

    def get(self, account_id: int, seq: int) -> Flag | None:
        stmt = sa.select(flags).where(flags.c.account_id == account_id, flags.c.seq == seq)
        row = self._conn.execute(stmt).first()
        return None if row is None else _flag(row)

    def open_of(self, account_id: int, phone: str) -> list[Flag]:
        """The contact's open flags, oldest first (every opt-out reads them)."""
        params = {"account": account_id, "phone": phone}
        return [_flag(row) for row in self._q.open_flags.all(self._driver, params)]

    def page(self, account_id: int, before: int | None, limit: int) -> list[Flag]:
        """Open flags newest first; ``before``: only those older than that flag's seq
        (keyset pages: a page costs its own rows, however deep)."""
        stmt = sa.select(flags).where(flags.c.account_id == account_id, _OPEN)
        if before is not None:
            stmt = stmt.where(flags.c.seq < before)
        stmt = stmt.order_by(flags.c.seq.desc()).limit(limit)
        return [_flag(row) for row in self._conn.execute(stmt)]

    def count_open(self, account_id: int) -> int:
        stmt = sa.select(sa.func.count()).select_from(flags).where(flags.c.account_id == account_id)
        return int(self._conn.execute(stmt.where(_OPEN)).scalar_one())

    def has_open(self, account_id: int, phone: str) -> bool:
        stmt = (
            sa.select(flags.c.seq)
            .where(flags.c.account_id == account_id, flags.c.phone == phone, _OPEN)
            .limit(1)
        )
        return self._conn.execute(stmt).first() is not None

    def open_phones(self, account_id: int) -> frozenset[str]:
        """Every contact with an open flag (the few a campaign text is held from)."""
        stmt = sa.select(flags.c.phone).where(flags.c.account_id == account_id, _OPEN).distinct()
        return frozenset(self._conn.execute(stmt).scalars())


def _flag(row: Sequence[Any]) -> Flag:
    """A flag from its row, read by SQLAlchemy or as the driver returns it."""
    _, seq, phone, sender, reason, flagged_at, resolution, resolved_seq = row
    return Flag(
        seq=seq,
        phone=phone,
        sender=sender,
        reason=reason,
        flagged_at=moment_value(flagged_at),
        resolution=None if resolution is None else Resolution(resolution),
        resolved_seq=resolved_seq,
    )
