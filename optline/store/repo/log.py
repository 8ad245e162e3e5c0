"""The transparency log in the database (events are queued for it as they are appended,
:mod:`.ledger`): the sequencer's batch (positions, tree nodes, a signed checkpoint),
reading the tree for proofs, the signing key kept when ``OPTLINE_LOG_KEY`` is unset,
and what ``verify`` reads.

The tree's arithmetic is :mod:`optline.domain.merkle`'s; a leaf is the event's canonical
form (:func:`optline.store.ledger.canonical`), so an offline checker needs neither the
database nor the hash chain.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import nacl.signing
import sqlalchemy as sa

from optline.domain.merkle import (
    NodeReader,
    appended_nodes,
    consistency_proof,
    inclusion_proof,
    root_hash,
)
from optline.store.checkpoint import Checkpoint, LogKeys
from optline.store.ledger import event_leaf
from optline.store.repo.base import Repository
from optline.store.rows import (
    LogEntry,
    StoredCheckpoint,
    StoredEvent,
    driver_event,
    json_value,
    stamp_value,
)
from optline.store.schema import (
    events,
    log_checkpoints,
    log_entries,
    log_keys,
    log_nodes,
    log_queue,
)

# PostgreSQL: the advisory lock that elects the one sequencer (any constant will do;
# this one spells "optl").
SEQUENCER_LOCK = 0x6F70746C


class Log(Repository):
    __slots__ = ()

    # -- the sequencer -------------------------------------------------------------------

    def lead(self) -> bool:
        """Whether this transaction is the sequencer (PostgreSQL: holds the advisory lock
        until it ends; SQLite runs one writer at a time, so always)."""
        if not self._postgres:
            return True
        lock = sa.text("SELECT pg_try_advisory_xact_lock(:key)")
        return bool(self._conn.execute(lock, {"key": SEQUENCER_LOCK}).scalar_one())

    def integrate(self, keys: LogKeys, limit: int, now: datetime) -> Checkpoint | None:
        """Give the next ``limit`` queued events their positions, in the order they were
        queued, store the tree's new nodes and a signed checkpoint; None if none waits."""
        self._tx.check_writable()
        q, e = log_queue, events
        stmt = (
            sa.select(
                q.c.id, e.c.account_id, e.c.seq, e.c.type, e.c.phone, e.c.data, e.c.occurred_at
            )
            .select_from(q.join(e, sa.and_(e.c.account_id == q.c.account_id, e.c.seq == q.c.seq)))
            .order_by(q.c.id)
            .limit(limit)
        )
        rows = self._conn.execute(stmt).all()
        if not rows:
            return None
        size = self.size()
        leaves = [event_leaf(*r[1:]) for r in rows]
        made = appended_nodes(size, leaves, self.reader())
        self._conn.execute(
            sa.insert(log_entries),
            [
                {"position": size + i, "account_id": r.account_id, "seq": r.seq}
                for i, r in enumerate(rows)
            ],
        )
        self._conn.execute(
            sa.insert(log_nodes), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in made]
        )
        self._conn.execute(sa.delete(q).where(q.c.id.in_([r.id for r in rows])))
        fresh = {(lv, ix): h for lv, ix, h in made}
        stored = self.reader()
        root = root_hash(size + len(rows), lambda lv, ix: fresh.get((lv, ix)) or stored(lv, ix))
        checkpoint = Checkpoint(size + len(rows), root, now)
        self._conn.execute(
            sa.insert(log_checkpoints).values(
                size=checkpoint.size, root=root, made_at=now, text=keys.sign(checkpoint)
            )
        )
        return checkpoint

    def signing_keys(self, configured: LogKeys | None) -> LogKeys:
        """``OPTLINE_LOG_KEY``'s keys, or else the stored ones (newest first), a key made
        and stored (sealed) on first use."""
        if configured is not None:
            return configured
        stored = self._stored_seeds()
        if not stored:
            seed = base64.urlsafe_b64encode(bytes(nacl.signing.SigningKey.generate())).decode()
            self._conn.execute(
                sa.insert(log_keys).values(
                    seed=self._tx.sealer.seal_text(seed), created_at=datetime.now(UTC)
                )
            )
            stored = [seed]
        return LogKeys.from_keys(",".join(stored))

    def trusted_keys(self, configured: LogKeys | None) -> list[nacl.signing.VerifyKey]:
        """Every key a checkpoint of this log may be signed with."""
        stored = self._stored_seeds()
        keys = [] if configured is None else configured.public_keys
        return keys + (LogKeys.from_keys(",".join(stored)).public_keys if stored else [])

    def _stored_seeds(self) -> list[str]:
        rows = self._conn.execute(sa.select(log_keys.c.seed).order_by(log_keys.c.id.desc()))
        return [self._tx.sealer.open_text(seed) for (seed,) in rows]

    # -- reading the tree -----------------------------------------------------------------

    def size(self) -> int:
        """The log's size as its newest checkpoint states it."""
        top = self._conn.execute(
            sa.select(sa.func.max(log_checkpoints.c.size))
        ).scalar_one_or_none()
        return int(top or 0)

    def reader(self) -> NodeReader:
        """The stored tree's nodes, read one by one (a proof reads O(log n) of them)."""
        n = log_nodes
        stmt = sa.select(n.c.hash).where(
            n.c.level == sa.bindparam("level"), n.c.idx == sa.bindparam("idx")
        )
        conn = self._conn

        def node(level: int, index: int) -> bytes:
            digest = conn.execute(stmt, {"level": level, "idx": index}).scalar_one_or_none()
            if digest is None:
                raise LookupError(f"the log's node ({level}, {index}) is missing")
            return bytes(digest)

        return node

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        """The checkpoint of ``size`` (default: the newest)."""
        c = log_checkpoints
        stmt = sa.select(c.c.size, c.c.root, c.c.made_at, c.c.text)
        stmt = (
            stmt.order_by(c.c.size.desc()).limit(1)
            if size is None
            else stmt.where(c.c.size == size)
        )
        row = self._conn.execute(stmt).first()
        return (
            None
            if row is None
            else StoredCheckpoint(int(row.size), bytes(row.root), row.made_at, row.text)
        )

    def verified(self) -> StoredCheckpoint | None:
        """The newest checkpoint up to which ``verify`` found the log sound."""
        c = log_checkpoints
        stmt = sa.select(c.c.size, c.c.root, c.c.made_at, c.c.text).where(
            c.c.verified_at.is_not(None)
        )
        row = self._conn.execute(stmt.order_by(c.c.size.desc()).limit(1)).first()
        return (
            None
            if row is None
            else StoredCheckpoint(int(row.size), bytes(row.root), row.made_at, row.text)
        )

    def mark_verified(self, size: int, at: datetime) -> None:
        self._tx.check_writable()
        c = log_checkpoints
        self._conn.execute(sa.update(c).where(c.c.size == size).values(verified_at=at))

    def checkpoints(self, after: int, upto: int) -> list[StoredCheckpoint]:
        c = log_checkpoints
        stmt = sa.select(c.c.size, c.c.root, c.c.made_at, c.c.text).where(
            c.c.size > after, c.c.size <= upto
        )
        rows = self._conn.execute(stmt.order_by(c.c.size))
        return [StoredCheckpoint(int(r.size), bytes(r.root), r.made_at, r.text) for r in rows]

    def position(self, account_id: int, seq: int) -> int | None:
        le = log_entries
        stmt = sa.select(le.c.position).where(le.c.account_id == account_id, le.c.seq == seq)
        found = self._conn.execute(stmt).scalar_one_or_none()
        return None if found is None else int(found)

    def inclusion(self, position: int, size: int) -> list[bytes]:
        return inclusion_proof(position, size, self.reader())

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        return consistency_proof(old_size, new_size, self.reader())

    def pending(self, account_id: int | None = None) -> tuple[int, datetime | None]:
        """How many events (of the account, if given) wait to be sequenced, and since
        when the oldest has."""
        q = log_queue
        mine = [] if account_id is None else [q.c.account_id == account_id]
        count = self._conn.execute(
            sa.select(sa.func.count()).select_from(q).where(*mine)
        ).scalar_one()
        oldest = sa.select(q.c.queued_at).where(*mine).order_by(q.c.id).limit(1)  # first: oldest
        return int(count), self._conn.execute(oldest).scalar_one_or_none()

    def queued(self, after: int, limit: int) -> list[tuple[int, StoredEvent]]:
        """The first ``limit`` events waiting to be sequenced whose queue ids follow
        ``after`` (0: from the first), in the order they were queued, with those ids."""
        rows = self._q.queued_events.all(self._driver, {"after": after, "limit": limit})
        return [(int(row[0]), driver_event(row[1:])) for row in rows]

    def entries(self, start: int, limit: int) -> list[LogEntry]:
        """Positions ``start``… with their events (None fields: the event is gone) and
        stored leaf hashes, in position order."""
        rows = self._q.log_entries.all(self._driver, {"start": start, "limit": limit})
        return [
            LogEntry(
                int(position),
                account_id,
                seq,
                phone,
                None
                if kind is None
                else event_leaf(
                    account_id, seq, kind, phone, json_value(data), stamp_value(occurred_at)
                ),
                None if stored is None else bytes(stored),
            )
            for position, account_id, seq, kind, phone, data, occurred_at, stored in rows
        ]

    def unlogged(self, limit: int) -> list[tuple[int, int]]:
        """Events neither in the log nor queued for it: (account id, seq), the first few."""
        e, le, q = events, log_entries, log_queue
        stmt = (
            sa.select(e.c.account_id, e.c.seq)
            .select_from(
                e.outerjoin(
                    le, sa.and_(le.c.account_id == e.c.account_id, le.c.seq == e.c.seq)
                ).outerjoin(q, sa.and_(q.c.account_id == e.c.account_id, q.c.seq == e.c.seq))
            )
            .where(le.c.position.is_(None), q.c.id.is_(None))
            .order_by(e.c.account_id, e.c.seq)
            .limit(limit)
        )
        return [(r.account_id, r.seq) for r in self._conn.execute(stmt)]
