"""Grouped writes (``Store.write_grouped``): the writes of one event-loop turn commit
together on SQLite, none is answered before the commit, and each fails on its own."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import struct
import threading
import time
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from account_support import HELP_CONTACT
from sqlalchemy import event
from store_support import FullDisk

from optline.engine import Engine, InboundResult
from optline.errors import BadInput
from optline.store import Store, group_commit
from optline.store.database import CommitFailed

ACME = "acme"
SENDER = "+14155550100"
PHONES = [f"+1415555{3000 + i:04d}" for i in range(20)]


@pytest.fixture
def engine(store: Store) -> Iterator[Engine]:
    engine = Engine(store)
    engine.create_account(ACME, overrides=HELP_CONTACT)
    engine.add_sender(ACME, SENDER)
    yield engine


def _sqlite_file(engine: Engine) -> Path:
    database = engine.store.engine.url.database
    assert database is not None
    return Path(database)


def _inbound_count(engine: Engine) -> int:
    """Inbound texts as another connection sees them: committed ones only."""
    if engine.store.dialect != "sqlite":
        return sum(1 for p in PHONES for m in engine.history(ACME, p)[1] if m.direction == "in")
    with sqlite3.connect(_sqlite_file(engine)) as raw:
        (count,) = raw.execute("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()
    return int(count)


def _stop(engine: Engine, phone: str, n: int) -> InboundResult:
    return engine.receive(ACME, phone, SENDER, "STOP", f"SM{n:032d}")


def _commits(engine: Engine) -> list[int]:
    commits: list[int] = []
    event.listen(engine.store.engine, "commit", lambda _conn: commits.append(1))
    return commits


def _stops(engine: Engine, phones: slice) -> list[asyncio.Task[InboundResult]]:
    """A grouped STOP from each of ``PHONES[phones]``, as tasks begun now."""
    start = phones.start or 0
    return [
        asyncio.create_task(engine.store.write_grouped(_stop, engine, p, n))
        for n, p in enumerate(PHONES[phones], start=start)
    ]


async def _group_on(
    engine: Engine, disk: type[FullDisk], phones: slice
) -> list[asyncio.Task[InboundResult]]:
    """STOPs from ``PHONES[phones]`` written in one group whose commit goes to ``disk``."""
    writes = _stops(engine, phones)
    await asyncio.sleep(0)  # every write has run
    group = engine.store.group_commit._group
    assert group is not None
    group.driver = disk(group.driver)  # type: ignore[assignment]
    return writes


def test_writes_of_one_turn_commit_once_and_only_then_answer(engine: Engine) -> None:
    commits = _commits(engine)

    async def scenario() -> list[InboundResult]:
        writes = _stops(engine, slice(None))
        await asyncio.sleep(0)  # every task has run its write, none has been answered
        if engine.store.dialect == "sqlite":
            assert not any(w.done() for w in writes)
            assert _inbound_count(engine) == 0
        return await asyncio.gather(*writes)

    results = asyncio.run(scenario())

    assert [r.intent for r in results] == ["opt_out"] * len(PHONES)
    assert _inbound_count(engine) == len(PHONES)
    if engine.store.dialect == "sqlite":
        assert len(commits) == 1
    # Twenty appends to one ledger in one transaction: each chained onto the one before.
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == len(PHONES)
    # And the next write, in a later turn, chains on from the group's last event.
    _stop(engine, "+14155559999", 99)
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == len(PHONES) + 1


def test_a_failing_write_leaves_the_others_of_its_group(engine: Engine) -> None:
    account_id = engine.account(ACME).id

    def half_done(phone: str, n: int) -> None:
        # Records a text, then fails in the same transaction: the text goes too.
        with engine.store.transaction() as tx:
            tx.messages.record_inbound(
                account_id,
                provider_id=f"SMhalf{n}",
                phone=phone,
                sender=SENDER,
                body="STOP",
                hidden=False,
                at=datetime.now(UTC),
                outcome={},
            )
            raise BadInput("failed half-way")

    async def scenario() -> list[object]:
        writes: list[Awaitable[object]] = [
            engine.store.write_grouped(_stop, engine, p, n) for n, p in enumerate(PHONES)
        ]
        writes.insert(5, engine.store.write_grouped(half_done, "+14155558888", 500))
        return await asyncio.gather(*writes, return_exceptions=True)

    results = asyncio.run(scenario())

    assert isinstance(results.pop(5), BadInput)
    assert all(isinstance(r, InboundResult) for r in results)
    assert _inbound_count(engine) == len(PHONES)
    assert engine.contact(ACME, "+14155558888") is None
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == len(PHONES)


def test_a_groups_messages_are_numbered_after_every_other_writers(engine: Engine) -> None:
    # Each STOP records its text and its reply, the reply's number taken ahead and
    # stored in the text's outcome. A write that fails frees the numbers it took, and
    # another process's texts recorded between two groups are numbered before the next.
    account_id = engine.account(ACME).id

    def numbers_then_fails() -> None:
        with engine.store.transaction() as tx:
            tx.messages.new_ids(account_id, 3)
            raise BadInput("failed after taking numbers")

    async def group(start: int) -> list[object]:
        # Two STOPs, the failing write, three more STOPs: in that order, in one group.
        writes: list[Awaitable[object]] = [
            *_stops(engine, slice(start, start + 2)),
            asyncio.create_task(engine.store.write_grouped(numbers_then_fails)),
            *_stops(engine, slice(start + 2, start + 5)),
        ]
        return await asyncio.gather(*writes, return_exceptions=True)

    first = asyncio.run(group(0))
    other = Store.open(str(engine.store.engine.url))  # another process's store
    try:
        with other.transaction() as tx:
            tx.messages.record_inbound(
                account_id,
                provider_id="SMother",
                phone=PHONES[19],
                sender=SENDER,
                body="hello",
                hidden=False,
                at=datetime.now(UTC),
                outcome={},
            )
    finally:
        other.close()
    second = asyncio.run(group(5))

    results = [r for r in first + second if isinstance(r, InboundResult)]
    assert len(results) == 10 and [isinstance(r, BadInput) for r in first + second].count(True) == 2
    replies = {m.id: m for p in PHONES for m in engine.history(ACME, p)[1] if m.direction == "out"}
    for result in results:
        assert result.reply_message_id is not None
        assert replies[result.reply_message_id].body == result.reply
    ids = sorted(m.id for p in PHONES for m in engine.history(ACME, p)[1])
    assert len(ids) == 21
    if engine.store.dialect == "sqlite":  # numbered by the account's own count, no gaps
        assert ids == list(range(1, 22))


class Ticker:
    """Counts turns of the event loop 10 ms apart: a count near the time elapsed shows
    the loop was never held up."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()


def test_a_failed_group_commit_fails_every_write_and_keeps_none(engine: Engine) -> None:
    if engine.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")

    async def scenario() -> list[object]:
        writes = await _group_on(engine, FullDisk, slice(None))
        return await asyncio.gather(*writes, return_exceptions=True)

    results = asyncio.run(scenario())

    assert all(isinstance(r, CommitFailed) for r in results), results
    assert _inbound_count(engine) == 0
    assert all(engine.contact(ACME, p) is None for p in PHONES)
    # The store goes on: the next write commits, chained from the last committed head.
    _stop(engine, PHONES[0], 0)
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == 1


class SlowDisk(FullDisk):
    """A group's database connection whose COMMIT takes as long as a slow disk's sync."""

    def execute(self, sql: str, *parameters: Any) -> Any:
        if sql == "COMMIT":
            time.sleep(0.5)
        return self.real.execute(sql, *parameters)


def test_the_loop_runs_on_while_a_group_syncs_and_later_writes_form_the_next_group(
    engine: Engine,
) -> None:
    if engine.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")
    commits = _commits(engine)
    ticker = Ticker()

    async def scenario() -> tuple[list[InboundResult], list[InboundResult]]:
        ticker.start()
        first = await _group_on(engine, SlowDisk, slice(10))
        await asyncio.sleep(0.1)  # the first group is syncing on the committer thread
        assert ticker.ticks >= 3 and not any(w.done() for w in first)
        second = _stops(engine, slice(10, None))
        await asyncio.sleep(0.05)
        assert _inbound_count(engine) == 0  # nothing is seen before its group's commit
        assert not any(w.done() for w in second)
        answered = await asyncio.gather(*first)
        ticker.stop()
        return answered, await asyncio.gather(*second)

    first, second = asyncio.run(scenario())

    assert [r.intent for r in first + second] == ["opt_out"] * len(PHONES)
    assert len(commits) == 2  # the ten that came during the sync went in one group
    assert _inbound_count(engine) == len(PHONES)
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == len(PHONES)


def test_the_group_connection_never_waits_and_keeps_savepoint_journals_in_memory(
    engine: Engine,
) -> None:
    if engine.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")
    asyncio.run(engine.store.write_grouped(_stop, engine, PHONES[0], 0))
    conn = engine.store.group_commit._group_conn
    assert conn is not None
    driver = conn.connection.driver_connection
    assert driver is not None
    assert driver.execute("PRAGMA busy_timeout").fetchone() == (0,)
    assert driver.execute("PRAGMA temp_store").fetchone() == (2,)  # MEMORY
    assert driver.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)  # a thread's job


class CheckpointTurns:
    """Stands in for the store's closing flag, which the checkpoint thread waits on
    between two checkpoints: the thread checkpoints only when :meth:`checkpoint` lets it,
    and :meth:`checkpoint` returns once that checkpoint is done, so a test decides
    exactly when each one runs instead of racing a timer."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waits = 0  # the times the thread came to wait for its next turn
        self._turns = 0  # the checkpoints let run
        self._closing = False

    def wait(self, timeout: float | None = None) -> bool:
        # The timeout (CHECKPOINT_SECONDS) is not waited out: the next turn is.
        with self._changed:
            self._waits += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._closing or self._turns >= self._waits)
            return self._closing

    def set(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()

    def checkpoint(self) -> None:
        """One checkpoint on the checkpoint thread, returning when it is over."""
        with self._changed:
            self._turns += 1
            self._changed.notify_all()
            done = self._changed.wait_for(lambda: self._waits > self._turns, timeout=10)
        assert done, "the checkpoint thread did not come back"


def _wal_high_water(wal: Path) -> int:
    """The most frames the WAL file has held (it is overwritten, not cut, on a restart)."""
    size = wal.stat().st_size
    if size == 0:
        return 0
    (page_size,) = struct.unpack(">I", wal.read_bytes()[8:12])  # from the WAL header
    return (size - 32) // (24 + int(page_size))


def _unbroken_groups(engine: Engine, turns: CheckpointTurns, groups: int) -> list[int]:
    """``groups`` groups of eight STOPs, one after the other, with a checkpoint in each
    while it is open (uncommitted), as when groups follow one another without a break:
    a checkpoint then never finds the newest commit copied. Returns the WAL's high
    water after each group, in frames, from an empty WAL."""
    raw = sqlite3.connect(_sqlite_file(engine))
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    wal = Path(f"{_sqlite_file(engine)}-wal")
    assert _wal_high_water(wal) == 0
    high_water: list[int] = []

    async def scenario() -> None:
        for g in range(groups):
            writes: list[Awaitable[object]] = [
                engine.store.write_grouped(_stop, engine, p, g * 100 + n)
                for n, p in enumerate(PHONES[:8])
            ]
            writes.append(engine.store.write_grouped(turns.checkpoint))
            await asyncio.gather(*writes)
            high_water.append(_wal_high_water(wal))

    asyncio.run(scenario())
    return high_water


@pytest.fixture
def turns(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CheckpointTurns]:
    """The store's checkpoints, one each time the test says (SQLite only)."""
    if engine.store.dialect != "sqlite":
        pytest.skip("PostgreSQL has no WAL file of SQLite's kind")
    assert engine.store.group_commit._checkpointer is None  # it starts with the first grouped write
    turns = CheckpointTurns()
    monkeypatch.setattr(engine.store.group_commit, "_closing", turns)
    try:
        yield turns
    finally:
        turns.set()  # the thread ends even when the test failed before closing the store


def test_checkpoints_keep_the_wal_short_under_unbroken_grouped_writes(
    engine: Engine, turns: CheckpointTurns, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No checkpoint runs in the groups' commits, and the one beside them never catches
    # up with the newest commit: the committer starts the WAL over once the checkpoint
    # thread has seen it pass WAL_RESTART_FRAMES.
    monkeypatch.setattr(group_commit, "WAL_RESTART_FRAMES", 60)

    high_water = _unbroken_groups(engine, turns, groups=40)

    # A group of eight STOPs writes some 10-15 frames. The checkpoint in a group sees
    # the frames of the groups before it; at 60 or more that group's commit starts the
    # WAL over, so it holds at most 59 + two groups' frames. Without the restart it
    # holds every group's: 40 groups wrote some 560 frames.
    group = high_water[0]
    assert 0 < group < 30, high_water
    assert max(high_water) <= 60 + 3 * group, high_water
    checkpointer = engine.store.group_commit._checkpointer
    assert checkpointer is not None and checkpointer.is_alive()
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == 8 * 40
    engine.store.close()
    assert not checkpointer.is_alive()


def test_the_wal_grows_under_unbroken_grouped_writes_when_the_committer_never_restarts_it(
    engine: Engine, turns: CheckpointTurns, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scenario above is one the checkpoint thread cannot keep short by itself:
    # without the committer's restart, every group's frames stay in the WAL.
    monkeypatch.setattr(group_commit, "WAL_RESTART_FRAMES", 10**9)

    high_water = _unbroken_groups(engine, turns, groups=20)

    assert all(a < b for a, b in itertools.pairwise(high_water)), high_water
    assert high_water[-1] >= 10 * high_water[0], high_water  # every group's frames
    assert engine.store.group_commit._wal_frames >= high_water[-2]  # the thread saw it all along


def test_a_write_waits_for_another_process_on_a_thread_not_on_the_loop(engine: Engine) -> None:
    if engine.store.dialect != "sqlite":
        pytest.skip("SQLite's single write lock")
    other = sqlite3.connect(_sqlite_file(engine), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    ticker = Ticker()

    async def scenario() -> InboundResult:
        ticker.start()
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
        try:
            return await engine.store.write_grouped(_stop, engine, PHONES[0], 0)
        finally:
            ticker.stop()

    started = time.monotonic()
    result = asyncio.run(scenario())
    other.close()

    assert result.intent == "opt_out"
    assert time.monotonic() - started >= 0.3
    assert ticker.ticks >= 10  # the loop kept running while the write waited
    assert _inbound_count(engine) == 1


def test_a_long_write_on_a_thread_sends_the_loop_writes_to_threads(engine: Engine) -> None:
    """A bulk change on a worker thread holds this process's write lock: writes from the
    loop wait a little for it, then go to threads of their own rather than stall."""
    if engine.store.dialect != "sqlite":
        pytest.skip("SQLite's single write lock")
    holding = threading.Event()

    def long_write() -> None:
        with engine.store.transaction():
            holding.set()
            time.sleep(0.4)

    async def scenario() -> list[InboundResult]:
        thread = asyncio.create_task(asyncio.to_thread(long_write))
        await asyncio.to_thread(holding.wait)
        started = time.monotonic()
        writes = [engine.store.write_grouped(_stop, engine, p, n) for n, p in enumerate(PHONES)]
        results = await asyncio.gather(*writes)
        assert time.monotonic() - started >= 0.2  # they waited for the lock, on threads
        await thread
        return results

    results = asyncio.run(scenario())

    assert len(results) == len(PHONES)
    assert _inbound_count(engine) == len(PHONES)
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == len(PHONES)


def test_a_repeat_in_the_same_group_gets_the_first_outcome_and_applies_nothing(
    engine: Engine,
) -> None:
    async def scenario() -> list[InboundResult]:
        writes = [engine.store.write_grouped(_stop, engine, PHONES[0], 7) for _ in range(3)]
        return await asyncio.gather(*writes)

    results = asyncio.run(scenario())

    # On SQLite the first of the turn applies; on PostgreSQL (threads) any one may win.
    [first] = [r for r in results if not r.duplicate]
    assert first.reply is not None
    assert [r.as_dict() for r in results] == [first.as_dict()] * 3
    events, messages = engine.history(ACME, PHONES[0])
    assert [e.type for e in events] == ["opted_out"]
    assert [m.direction for m in messages] == ["in", "out"]
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == 1


def test_a_cancelled_waiter_leaves_the_other_writes_to_go_on(engine: Engine) -> None:
    # A client that goes away cancels its request's task; the writes it was waiting
    # with (for the group ahead to sync, or for its own group's commit) go on.
    if engine.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")

    async def scenario() -> tuple[list[object], list[object]]:
        first = await _group_on(engine, SlowDisk, slice(10))
        second = _stops(engine, slice(10, None))
        await asyncio.sleep(0.05)  # the first group syncs; the second waits its turn
        first[0].cancel()  # written, waiting for its group's commit
        second[0].cancel()  # not written yet
        return (
            await asyncio.gather(*first, return_exceptions=True),
            await asyncio.gather(*second, return_exceptions=True),
        )

    first, second = asyncio.run(scenario())

    assert isinstance(first[0], asyncio.CancelledError)
    assert isinstance(second[0], asyncio.CancelledError)
    answered = first[1:] + second[1:]
    assert all(isinstance(r, InboundResult) and r.intent == "opt_out" for r in answered), answered
    # The cancelled write of the first group was in its commit; the other never ran.
    assert _inbound_count(engine) == len(PHONES) - 1
    assert engine.contact(ACME, PHONES[10]) is None
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == len(PHONES) - 1


def test_a_write_of_the_group_sees_the_account_as_the_group_left_it(engine: Engine) -> None:
    # The group's writes share the account rows they read; one that changes an account
    # (kept or rolled back) must not leave the next write an outdated copy.
    if engine.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")
    account_id = engine.account(ACME).id

    def stop(phone: str, n: int) -> InboundResult:
        return engine.receive(account_id, phone, SENDER, "STOP", f"SM{n:032d}")

    def rebrand(brand: str) -> None:
        engine.set_policy(account_id, overrides={**HELP_CONTACT, "brand": brand})

    def rebrand_then_fail(brand: str) -> None:
        with engine.store.transaction() as tx:
            tx.accounts.set_policy(account_id, "default", {"brand": brand})
            assert tx.accounts.get(account_id) is not None  # read as changed
            raise BadInput("failed half-way")

    async def scenario() -> list[object]:
        results = await asyncio.gather(
            engine.store.write_grouped(stop, PHONES[0], 0),
            engine.store.write_grouped(rebrand, "Zeta"),
            engine.store.write_grouped(stop, PHONES[1], 1),
            engine.store.write_grouped(rebrand_then_fail, "Omega"),
            engine.store.write_grouped(stop, PHONES[2], 2),
            return_exceptions=True,
        )
        return list(results)

    first, _, second, failed, third = asyncio.run(scenario())

    assert isinstance(failed, BadInput)
    replies = [r.reply for r in (first, second, third) if isinstance(r, InboundResult)]
    assert [r.split(":")[0] for r in replies if r] == ["acme", "Zeta", "Zeta"]
    assert engine.policy(ACME).brand == "Zeta"


def test_a_group_takes_at_most_one_write_more_than_the_group_ahead(engine: Engine) -> None:
    # Groups alternate (one forms while the one ahead syncs); were one free to take every
    # write that waited, it could keep nearly all of them and the other one or two.
    if engine.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")
    store = engine.store
    sizes: list[int] = []
    event.listen(store.engine, "commit", lambda _conn: sizes.append(_inbound_count(engine)))

    async def scenario() -> list[InboundResult]:
        first = await _group_on(engine, SlowDisk, slice(2))
        await asyncio.sleep(0.05)  # the first group syncs; the others wait in line
        rest = _stops(engine, slice(2, 12))
        return await asyncio.gather(*first, *rest)

    results = asyncio.run(scenario())

    assert [r.intent for r in results] == ["opt_out"] * 12
    # Inbound texts committed, as each group's commit ends: groups of 2, then 3, 4
    # and the last 3.
    assert sizes == [2, 5, 9, 12]
    assert _inbound_count(engine) == 12
    (verified,) = engine.verify(ACME)
    assert verified.ok and verified.checked == 12
