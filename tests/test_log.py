"""The transparency log on both databases: events queued as they are appended, the
sequencer's batches (positions in queue order, the stored tree, signed checkpoints,
one leader at a time), and ``verify_log`` naming every kind of tampering."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from optline.domain.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from optline.engine import Engine, transparency
from optline.store import Store
from optline.store.checkpoint import LogKeys, new_key, open_checkpoint
from optline.store.ledger import canonical

AT = datetime(2025, 4, 11, 9, 30, 0, 5, tzinfo=UTC)


def _account(engine: Engine, name: str = "acme") -> int:
    return engine.create_account(name, overrides={"support_contact": "help@example.com"}).id


def _append(engine: Engine, account_id: int, count: int, start: int = 0) -> None:
    """``count`` opt-outs (one event each) of contacts numbered from ``start``."""
    for n in range(start, start + count):
        engine.opt_out(account_id, f"+1415555{n:04d}")


def _sql(store: Store, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


def test_events_wait_in_the_queue_until_a_batch_gives_them_positions(engine: Engine) -> None:
    store = engine.store
    a, b = _account(engine, "a"), _account(engine, "b")
    _append(engine, a, 3)
    _append(engine, b, 2)
    report = engine.verify_log()
    assert (report.ok, report.size, report.pending) == (True, 0, 5)
    assert report.oldest_pending_age is not None
    first = engine.sequence_log()
    assert first is not None and first.size == 5
    assert engine.sequence_log() is None  # nothing waits
    with store.read() as tx:
        order = [(e.account_id, e.seq) for e in tx.log.entries(0, 10)]
        events = {(e.account_id, e.seq): e for x in (a, b) for e in tx.ledger.events(x)}
        assert tx.log.pending() == (0, None)
        stored = tx.log.checkpoint()
        keys = tx.log.trusted_keys(None)
    queued = sorted(events, key=lambda k: (k[0] != a, k[1]))  # a's three, then b's two
    assert order == queued  # as they were queued
    # The root is the RFC tree of the events' canonical forms, in position order.
    leaves = [
        leaf_hash(canonical(x, s, e.type, e.phone, e.data, e.occurred_at))
        for (x, s), e in ((k, events[k]) for k in order)
    ]
    assert stored is not None and stored.root == MemoryTree(leaves).root() == first.root
    assert open_checkpoint(stored.text, keys) == first
    report = engine.verify_log()
    assert (report.ok, report.size, report.checked, report.pending) == (True, 5, 5, 0)


def test_batches_grow_one_tree_and_each_checkpoint_extends_the_last(engine: Engine) -> None:
    store = engine.store
    a = _account(engine)
    roots = []
    for batch in range(4):
        _append(engine, a, batch + 2, start=batch * 10)
        checkpoint = engine.sequence_log(limit=3)  # a batch of at most three
        assert checkpoint is not None
        roots.append(checkpoint)
    engine.sequence_pending()
    with store.read() as tx:
        size = tx.log.size()
        assert size == 2 + 3 + 4 + 5
        for old in roots:
            newest = tx.log.checkpoint()
            assert newest is not None
            proof = tx.log.consistency(old.size, newest.size)
            assert verify_consistency(old.size, newest.size, old.root, newest.root, proof)
            for position in range(old.size):
                path = tx.log.inclusion(position, old.size)
                leaf = tx.log.entries(position, 1)[0].leaf
                assert leaf is not None and verify_inclusion(
                    leaf, position, old.size, path, old.root
                )
    assert engine.verify_log(full=True).ok


def test_the_configured_key_signs_and_without_one_a_stored_key_is_made_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(db_url)
    try:
        engine = Engine(store)
        _append(engine, _account(engine), 1)
        first = engine.sequence_log()
        _append(engine, _account(engine, "b"), 1)
        second = engine.sequence_log()
        assert first is not None and second is not None
        with store.read() as tx:
            texts = [c.text for c in tx.log.checkpoints(0, 2)]
            trusted = tx.log.trusted_keys(None)
        assert len(trusted) == 1  # one key made, then reused
        assert [open_checkpoint(t, trusted).size for t in texts] == [1, 2]
    finally:
        store.close()
    key = new_key()
    monkeypatch.setenv("OPTLINE_LOG_KEY", key)
    store = Store.open(db_url)
    try:
        engine = Engine(store)
        _append(engine, _account(engine, "c"), 1)
        third = engine.sequence_log()
        with store.read() as tx:
            newest = tx.log.checkpoint()
        assert third is not None and newest is not None
        assert open_checkpoint(newest.text, LogKeys.from_keys(key).public_keys).size == 3
        assert engine.verify_log(full=True).ok  # the old checkpoints are still trusted
    finally:
        store.close()


def test_one_sequencer_at_a_time_and_no_event_gets_two_positions(engine: Engine) -> None:
    store = engine.store
    a = _account(engine)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                _append(engine, a, 1, start=n * 100 + i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def sequencer() -> None:
        try:
            for _ in range(20):
                engine.sequence_log(limit=4)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=sequencer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine.sequence_pending()
    with store.read() as tx:
        entries = tx.log.entries(0, 100)
    assert [e.position for e in entries] == list(range(30))
    assert len({(e.account_id, e.seq) for e in entries}) == 30
    if store.dialect == "sqlite":  # one writer at a time: the log keeps the seqs' order
        assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert engine.verify_log(full=True).ok


Tamper = Callable[[Store, int], None]
# Each tampering, done to a log of five sequenced events of account "acme" (seq 1..5 at
# positions 0..4: the only account with events, so numbered from 1 on either database),
# and the words verify_log names it with.
TAMPERING: dict[str, tuple[Tamper, str]] = {
    "edit": (
        lambda s, a: _sql(
            s, f"UPDATE events SET type = 'opted_in' WHERE seq = 3 AND account_id = {a}"
        ),
        "event #3 of account {a} (position 2) does not hash to the leaf logged there",
    ),
    "delete": (
        lambda s, a: _sql(s, f"DELETE FROM events WHERE seq = 4 AND account_id = {a}"),
        "event #4 of account {a} (position 3) is missing: deleted",
    ),
    "delete-entry": (
        lambda s, a: _sql(s, "DELETE FROM log_entries WHERE position = 1"),
        "position 1 of the log is missing",
    ),
    "delete-tail": (
        lambda s, a: _sql(s, "DELETE FROM log_entries WHERE position >= 3"),
        "the log ends at position 3: its checkpoint says 5",
    ),
    "reorder": (
        lambda s, a: _sql(
            s,
            "UPDATE log_entries SET position = 100 WHERE position = 1",
            "UPDATE log_entries SET position = 1 WHERE position = 2",
            "UPDATE log_entries SET position = 2 WHERE position = 100",
        ),
        "(position 1) does not hash to the leaf logged there: altered or moved",
    ),
    "insert-past": (
        lambda s, a: _sql(
            s, f"INSERT INTO log_entries (position, account_id, seq) VALUES (5, {a}, 99)"
        ),
        "position 5 is past the newest checkpoint (5 entries): inserted",
    ),
    "insert-unlogged": (
        lambda s, a: _sql(
            s,
            "INSERT INTO events (account_id, seq, type, phone, data, occurred_at, prev_hash,"
            f" hash) SELECT account_id, 99, type, phone, data, occurred_at, prev_hash, hash"
            f" FROM events WHERE account_id = {a} AND seq = 5",
        ),
        "event #99 of account {a} is neither in the log nor queued for it: inserted",
    ),
    "rewrite-tree": (
        # Leaves and nodes recomputed for a reordered log: the signed root gives it away.
        lambda s, a: _rewrite_tree(s, a),
        "do not give checkpoint",
    ),
    "edit-checkpoint": (
        lambda s, a: _sql(s, "UPDATE log_checkpoints SET text = REPLACE(text, 'size 5', 'size 6')"),
        "checkpoint 5: the signature does not verify",
    ),
}


def _rewrite_tree(store: Store, account_id: int) -> None:
    """Swap positions 0 and 1 and store the tree those entries give, consistently."""
    _sql(
        store,
        "UPDATE log_entries SET position = 100 WHERE position = 0",
        "UPDATE log_entries SET position = 0 WHERE position = 1",
        "UPDATE log_entries SET position = 1 WHERE position = 100",
    )
    with store.read() as tx:
        leaves = [e.leaf for e in tx.log.entries(0, 10)]
    tree = MemoryTree([leaf for leaf in leaves if leaf is not None])
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM log_nodes"))
        for level, hashes in enumerate(tree.levels):
            for index, digest in enumerate(hashes):
                conn.execute(
                    sa.text("INSERT INTO log_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                    {"l": level, "i": index, "h": digest},
                )


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_log_names_every_kind_of_tampering(engine: Engine, case: str, full: bool) -> None:
    store = engine.store
    a = _account(engine)
    _append(engine, a, 5)
    engine.sequence_pending()
    tamper, problem = TAMPERING[case]
    tamper(store, a)
    if case == "insert-unlogged" and not full:
        return  # an incremental verify reads only what the log says is new
    report = engine.verify_log(full=full)
    assert not report.ok
    assert report.problem is not None and problem.format(a=a) in report.problem


def test_an_incremental_verify_reads_only_what_is_new(engine: Engine) -> None:
    store = engine.store
    a = _account(engine)
    _append(engine, a, 5)
    engine.sequence_pending()
    assert engine.verify_log().checked == 5
    _append(engine, a, 2, start=5)
    engine.sequence_pending()
    report = engine.verify_log()
    assert (report.ok, report.size, report.checked) == (True, 7, 2)
    # Tampering before the verified checkpoint is the full verify's to find.
    _sql(store, f"UPDATE events SET type = 'opted_in' WHERE seq = 1 AND account_id = {a}")
    assert engine.verify_log().ok
    assert not engine.verify_log(full=True).ok


def test_an_incremental_verify_replays_the_contacts_it_touched(engine: Engine) -> None:
    store = engine.store
    a = _account(engine)
    _append(engine, a, 2)
    engine.sequence_pending()
    assert engine.verify_log().ok
    _append(engine, a, 1, start=2)
    engine.sequence_pending()
    # The stored consent of the contact the new event touched no longer is its replay.
    _sql(store, "UPDATE contacts SET status = 'opted_in' WHERE phone = '+14155550002'")
    report = engine.verify_log()
    assert not report.ok and report.problem is not None
    assert "the stored consent of +14155550002 is not its events' replay" in report.problem


def test_the_queue_is_read_a_chunk_at_a_time_in_queue_order(engine: Engine) -> None:
    a = _account(engine)
    _append(engine, a, 5)
    with engine.store.read() as tx:
        pages, after = [], 0
        while page := tx.log.queued(after, 2):
            pages.append([event.phone for _, event in page])
            after = page[-1][0]
    assert pages == [[f"+1415555{n:04d}" for n in pair] for pair in ([0, 1], [2, 3], [4])]


@pytest.mark.parametrize("tampered", ["queued-event", "consent"])
def test_an_incremental_verify_in_small_chunks_checks_every_chunk(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tampered: str
) -> None:
    """Queued events and touched contacts are read a few at a time: what is wrong in
    the last chunk is found as in the first."""
    monkeypatch.setattr(transparency, "VERIFY_CHUNK", 2)
    monkeypatch.setattr(transparency, "REPLAY_CHUNK", 2)
    store = engine.store
    a = _account(engine)
    _append(engine, a, 3)
    engine.sequence_pending()
    assert engine.verify_log().ok
    _append(engine, a, 3, start=3)
    engine.sequence_pending()
    _append(engine, a, 5, start=6)  # queued, not sequenced
    assert engine.verify_log().ok
    if tampered == "queued-event":
        _sql(store, "UPDATE events SET type = 'opted_in' WHERE phone = '+14155550010'")
        problem = "queued for the log, was altered"
    else:  # the last of the touched contacts, in phone order
        _sql(store, "UPDATE contacts SET status = 'opted_in' WHERE phone = '+14155550010'")
        problem = "the stored consent of +14155550010 is not its events' replay"
    report = engine.verify_log()
    assert not report.ok and report.problem is not None and problem in report.problem
