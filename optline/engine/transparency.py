"""The transparency log's use cases: the sequencer's pass, and the log's verification.

The sequencer (run by the worker, :mod:`optline.notify`; one at a time, elected
through the database) gives queued events their positions in batches, each ending in a
signed checkpoint. ``verify_log`` checks the log from the last checkpoint it found sound
to the newest (a consistency proof, the new events' leaves, the tree's new root), the
events still queued (their hashes), and the contacts those events touched (their
consent, flags and texts, :mod:`.consistency`), or, ``full``, from the first position,
streaming in chunks of their own read transactions: memory stays bounded and no
transaction stays open for the whole walk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import nacl.signing

from optline.domain.merkle import Frontier, appended_nodes, root_hash, verify_consistency
from optline.engine.consistency import first_mismatch
from optline.engine.context import AccountRef
from optline.engine.directory import Directory
from optline.engine.results import LogReport, LogStatus
from optline.store import Tx
from optline.store.checkpoint import BadCheckpoint, Checkpoint, open_checkpoint, public_key_text
from optline.store.ledger import event_hash
from optline.store.rows import LogEntry, StoredCheckpoint, StoredEvent

#: Events a sequencer's batch integrates at most (one checkpoint each).
SEQUENCE_BATCH = 5_000
#: Positions one read transaction of ``verify_log`` walks (and queued events it reads
#: at a time).
VERIFY_CHUNK = 5_000
#: Touched contacts ``verify_log`` replays at a time.
REPLAY_CHUNK = 2_000


class LogBroken(Exception):
    """What ``verify_log`` found wrong, with the position, contact or text it concerns."""

    def __init__(
        self,
        problem: str,
        position: int | None = None,
        contact: str | None = None,
        message: int | None = None,
    ) -> None:
        super().__init__(problem)
        self.position = position
        self.contact = contact
        self.message = message


class Transparency(Directory):
    """The sequencer's pass and the log's verification."""

    def sequence_log(self, limit: int = SEQUENCE_BATCH) -> Checkpoint | None:
        """Integrate the next batch of queued events; None when none waits or another
        process is the sequencer now. The checkpoint is queued for the subscribers of
        ``checkpoint`` events in the same transaction: published once, if signed."""
        with self.store.transaction() as tx:
            if not tx.log.lead():
                return None
            keys = tx.log.signing_keys(self.store.log_keys)
            now = self._clock()
            checkpoint = tx.log.integrate(keys, limit, now)
            if checkpoint is not None:
                stored = tx.log.checkpoint(checkpoint.size)
                assert stored is not None  # just stored
                public = [public_key_text(key) for key in keys.public_keys]
                tx.outbox.enqueue_checkpoint(checkpoint, stored.text, public, now)
            return checkpoint

    def sequence_pending(self) -> Checkpoint | None:
        """Integrate batches until no event waits; the last checkpoint made, if any."""
        last = None
        while (checkpoint := self.sequence_log()) is not None:
            last = checkpoint
        return last

    def newest_checkpoint(self) -> str | None:
        """The newest checkpoint's signed text."""
        with self.store.read() as tx:
            newest = tx.log.checkpoint()
        return None if newest is None else newest.text

    def log_status(self, account: AccountRef | None = None) -> LogStatus:
        """The log's size, verified size, backlog (of the account's events, if given)
        and newest checkpoint; checks nothing."""
        now = self._clock()
        with self.store.read() as tx:
            account_id = None if account is None else self._account(tx, account).id
            newest, verified = tx.log.checkpoint(), tx.log.verified()
            pending, oldest = tx.log.pending(account_id)
        return LogStatus(
            0 if newest is None else newest.size,
            0 if verified is None else verified.size,
            pending,
            None if oldest is None else max(0.0, (now - oldest).total_seconds()),
            None if newest is None else newest.text,
        )

    def verify_log(self, full: bool = False) -> LogReport:
        """Check the log against its signed checkpoints (see the module's docstring);
        a sound log's newest checkpoint is remembered as verified."""
        now = self._clock()
        with self.store.read() as tx:
            trusted = tx.log.trusted_keys(self.store.log_keys)
            newest = tx.log.checkpoint()
            start = None if full else tx.log.verified()
            pending, oldest = tx.log.pending()
            unlogged = tx.log.unlogged(1) if full else []
        age = None if oldest is None else max(0.0, (now - oldest).total_seconds())
        size = 0 if newest is None else newest.size
        begin = 0 if start is None else start.size
        report = LogReport(True, size, size - begin, pending, age)
        try:
            if newest is not None:
                _signed(newest, trusted)
                if start is not None:
                    _signed(start, trusted)
            if full:
                if newest is not None:
                    self._walk_all(newest, trusted)
            else:
                touched = {} if newest is None else self._walk_new(start, newest)
                self._check_recent(touched)
            if unlogged:
                account_id, seq = unlogged[0]
                raise LogBroken(
                    f"event #{seq} of account {account_id} is neither in the log nor queued"
                    " for it: inserted"
                )
        except LogBroken as broken:
            return LogReport(
                False,
                size,
                0,
                pending,
                age,
                str(broken),
                broken.position,
                broken.contact,
                broken.message,
            )
        if newest is None:
            return report
        with self.store.transaction() as tx:
            tx.log.mark_verified(newest.size, now)
        return report

    def _chunks(self, begin: int, end: int) -> Iterator[list[LogEntry]]:
        """Positions ``begin`` up to ``end``, a chunk at a time, each read in its own
        transaction; none may be missing, altered, or past ``end``."""
        with self.store.read() as tx:
            past = tx.log.entries(end, 1)
        if past:
            raise LogBroken(
                f"position {past[0].position} is past the newest checkpoint ({end} entries):"
                " inserted",
                past[0].position,
            )
        at = begin
        while at < end:
            with self.store.read() as tx:
                chunk = tx.log.entries(at, min(VERIFY_CHUNK, end - at))
            if not chunk:
                raise LogBroken(f"the log ends at position {at}: its checkpoint says {end}", at)
            for entry in chunk:
                if entry.position != at:
                    raise LogBroken(f"position {at} of the log is missing", at)
                _check_leaf(entry)
                at += 1
            yield chunk

    def _walk_all(
        self, newest: StoredCheckpoint, trusted: Sequence[nacl.signing.VerifyKey]
    ) -> None:
        edge = Frontier()
        for chunk in self._chunks(0, newest.size):
            with self.store.read() as tx:
                marks = {c.size: c for c in tx.log.checkpoints(edge.size, edge.size + len(chunk))}
            for entry in chunk:
                assert entry.leaf is not None  # checked by the walk
                edge.append(entry.leaf)
                mark = marks.get(edge.size)
                if mark is not None:
                    _signed(mark, trusted)
                    if edge.root() != mark.root:
                        raise LogBroken(
                            f"the log's first {edge.size} entries do not give checkpoint"
                            f" {edge.size}'s root: entries reordered, inserted or removed",
                            entry.position,
                        )

    def _walk_new(
        self, start: StoredCheckpoint | None, newest: StoredCheckpoint
    ) -> dict[int, set[str]]:
        """The entries since ``start``, checked against ``newest``: the contacts they
        touched, by account."""
        begin = 0 if start is None else start.size
        leaves: list[bytes] = []
        touched: dict[int, set[str]] = {}
        for chunk in self._chunks(begin, newest.size):
            for entry in chunk:
                assert entry.leaf is not None
                leaves.append(entry.leaf)
                if entry.phone is not None:
                    touched.setdefault(entry.account_id, set()).add(entry.phone)
        with self.store.read() as tx:
            if start is not None:
                proof = tx.log.consistency(start.size, newest.size)
                if not verify_consistency(start.size, newest.size, start.root, newest.root, proof):
                    raise LogBroken(
                        f"checkpoint {newest.size} does not extend checkpoint {start.size}:"
                        " the log was rewritten before it"
                    )
            made = {(lv, ix): h for lv, ix, h in appended_nodes(begin, leaves, tx.log.reader())}
            stored = tx.log.reader()
            root = root_hash(newest.size, lambda lv, ix: made.get((lv, ix)) or stored(lv, ix))
            if root != newest.root:
                raise LogBroken(
                    f"the log's entries since position {begin} do not give checkpoint"
                    f" {newest.size}'s root: entries reordered, inserted or removed"
                )
        return touched

    def _check_recent(self, touched: dict[int, set[str]]) -> None:
        """The events still queued for the log must hash to their content, and the
        contacts they and the new entries touched must be what their events say; both
        read a chunk at a time, so memory holds a chunk (and the touched numbers)."""
        with self.store.read() as tx:
            after = 0
            while chunk := tx.log.queued(after, VERIFY_CHUNK):
                for _, event in chunk:
                    _check_queued(event)
                    if event.phone is not None:
                        touched.setdefault(event.account_id, set()).add(event.phone)
                after = chunk[-1][0]
            for account_id, phones in sorted(touched.items()):
                ordered = sorted(phones)
                for at in range(0, len(ordered), REPLAY_CHUNK):
                    _replayed(tx, account_id, ordered[at : at + REPLAY_CHUNK])


def _check_queued(event: StoredEvent) -> None:
    digest = event_hash(
        event.prev_hash,
        event.account_id,
        event.seq,
        event.type,
        event.phone,
        event.data,
        event.occurred_at,
    )
    if digest != event.hash:
        raise LogBroken(
            f"event #{event.seq} of account {event.account_id}, queued for the log, was"
            " altered: its content does not match its hash"
        )


def _signed(stored: StoredCheckpoint, trusted: Sequence[nacl.signing.VerifyKey]) -> None:
    """The stored checkpoint's text must verify and state the stored size and root."""
    try:
        opened = open_checkpoint(stored.text, trusted)
    except BadCheckpoint as exc:
        raise LogBroken(f"checkpoint {stored.size}: {exc}") from None
    if (opened.size, opened.root) != (stored.size, stored.root):
        raise LogBroken(f"checkpoint {stored.size}: its row differs from its signed text")


def _check_leaf(entry: LogEntry) -> None:
    where = f"event #{entry.seq} of account {entry.account_id} (position {entry.position})"
    if entry.leaf is None:
        raise LogBroken(f"{where} is missing: deleted", entry.position)
    if entry.stored_leaf != entry.leaf:
        raise LogBroken(
            f"{where} does not hash to the leaf logged there: altered or moved", entry.position
        )


def _replayed(tx: Tx, account_id: int, phones: list[str]) -> None:
    """The touched contacts' stored consent, flags and committed texts must be what
    their events say."""
    mismatch = first_mismatch(tx, account_id, tx.ledger.events_of(account_id, phones), phones)
    if mismatch is not None:
        raise LogBroken(mismatch.problem, None, mismatch.contact, mismatch.message)
