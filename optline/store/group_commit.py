"""SQLite group commit: the write transactions of one event-loop turn commit together.

:meth:`Store.write_grouped <optline.store.Store.write_grouped>` hands its write to
:meth:`GroupCommit.write`, and this is exactly when a transaction joins a group:

- **It joins** (``Store.transaction()`` is then a *savepoint* of the group's one
  transaction, released on exit and rolled back alone on an exception) when it is
  opened by a write that ``write_grouped`` runs *on the event loop*. That happens only
  on SQLite, and only when this process's write lock is free, or freed within
  :data:`GROUP_WAIT_SECONDS`, and SQLite's own write lock is not held by another
  process. The group's transaction begins with the turn's first such write and
  commits at the end of the turn, on the committer thread; none of its writes is
  answered before that commit (a failed commit answers each with
  :class:`CommitFailed`). A group takes at most one write more than the group ahead
  of it had; the rest, and writes arriving while a group commits, wait and form the
  next group.
- **It is a transaction of its own** (begun and committed by ``Store.transaction()``,
  under the process's write lock) in every other case: a ``transaction()`` called
  outside ``write_grouped`` (the CLI, worker threads, any synchronous caller); a
  ``write_grouped`` write on PostgreSQL; and a ``write_grouped`` write that found
  the write lock taken (by a thread of this process or by another process), which
  runs on a worker thread instead.

Whether a transaction joins is decided by a context variable that ``write`` sets
only while it calls the write on the loop: a transaction opened anywhere beneath that
call (however deep in the engine) joins; one opened by another request, thread or
later code does not. A task or thread started from inside such a write would inherit
the variable, and with it the group: a grouped write must not start one that opens
transactions. ``Store.read()`` never joins a group.

Grouped writes run on a connection of their own that never waits for a lock
(``busy_timeout = 0``), keeps savepoint journals in memory and never checkpoints in a
commit: a checkpoint thread copies WAL frames into the database file alongside, and
a group's commit restarts the WAL once it has grown past :data:`WAL_RESTART_FRAMES`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections import ChainMap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import InitVar, dataclass, field
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Connection, Engine, RootTransaction

from optline.store.rows import AccountRow
from optline.store.sealed import Sealer
from optline.store.tx import Subscriptions, Tx

# How long the event loop waits for this process's write lock before it hands a write to
# a worker thread (bulk changes there can hold it for seconds).
GROUP_WAIT_SECONDS = 0.05
# How long the loop waits for the committer thread to begin a group's commit: some tens
# of microseconds as a rule; the bound only keeps a stuck thread from stalling the loop.
HANDOFF_WAIT_SECONDS = 0.005
# SQLite's checkpoints (WAL frames copied into the database file), for grouped writes:
# a thread copies what it can every so often without waiting for anyone, and once the
# WAL holds this many frames a group's commit starts it over (the copying mostly done).
CHECKPOINT_SECONDS = 0.1
WAL_RESTART_FRAMES = 4000

P = ParamSpec("P")
T = TypeVar("T")


class CommitFailed(Exception):
    """A group commit failed: none of the writes grouped in it were kept."""


@dataclass(eq=False)
class _Group:
    """The write transactions of one event-loop turn, committed together."""

    transaction: RootTransaction
    driver: sqlite3.Connection  # the DB-API connection under it
    # The store's subscriptions, as committed: only the view below keeps them.
    committed_subscriptions: InitVar[dict[int, Subscriptions]]
    # One future per write, each its own: a cancelled waiter (its client gone) cancels
    # only its own, never the others' answer.
    answers: list[asyncio.Future[None]] = field(default_factory=list)
    # Those the group's writes moved and read, not yet committed.
    subscriptions: dict[int, Subscriptions] = field(default_factory=dict)
    accounts: dict[int, AccountRow] = field(default_factory=dict)
    message_ids: dict[int, int] = field(default_factory=dict)
    event_seqs: dict[int, int] = field(default_factory=dict)
    # What each write of the group starts from, built once for them all.
    known_subscriptions: ChainMap[int, Subscriptions] = field(init=False)

    def __post_init__(
        self,
        committed_subscriptions: dict[int, Subscriptions],
    ) -> None:
        self.known_subscriptions = ChainMap(self.subscriptions, committed_subscriptions)


# The group that ``Store.transaction`` joins while a grouped write runs.
_joining: ContextVar[_Group | None] = ContextVar("optline_group", default=None)


class GroupCommit:
    """The store's group commit (one per :class:`~optline.store.Store`). On PostgreSQL
    (no ``lock``) no group ever opens: every write runs on a worker thread."""

    def __init__(
        self,
        engine: Engine,
        lock: threading.Lock | None,
        subscriptions: dict[int, Subscriptions],
        sealer: Sealer,
    ) -> None:
        self._engine = engine
        # This process's SQLite write lock (the store's), held from a group's begin to
        # the end of its commit.
        self._lock = lock
        # The store's subscriptions as committed, moved on by a group's commit.
        self._subscriptions = subscriptions
        self._sealer = sealer
        # The open group of writes and its own connection.
        self._group: _Group | None = None
        self._group_conn: Connection | None = None
        # Set while a group's commit (the sync to disk) runs on the committer thread; the
        # loop meanwhile goes on with other requests, and their writes wait in line
        # (each on a future of its own) to form the next group.
        self._committing = False
        self._in_line: list[asyncio.Future[None]] = []
        # Groups alternate, one forming while the one ahead syncs, and a group takes at
        # most one write more than the one ahead had (none yet: no limit). Left free,
        # one group could take nearly every write and the other keep one or two, whose
        # sync then overlapped almost nothing: such splits (15 and 1, 14 and 2) lasted
        # whole benchmark runs; with the limit they even out within a few groups.
        self._ahead_size = sys.maxsize
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="optline-commit")
        # The checkpoint thread, and the WAL's length in frames as its last checkpoint
        # found it.
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()
        self._wal_frames = 0

    def joined(self) -> _Savepoint | None:
        """The savepoint a transaction opened now is, or None: it is one of its own."""
        group = _joining.get()
        return None if group is None else _Savepoint(self._sealer, group)

    async def write(self, write: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``write`` in the loop turn's group and return once the group has
        committed; or on a worker thread, committing on its own, when no group opens
        (see the module's docstring)."""
        loop = asyncio.get_running_loop()
        while self._committing or self._group_full():  # it waits for the group ahead
            turn = loop.create_future()
            self._in_line.append(turn)
            await turn
        group = self._open_group()
        if group is None:
            return await anyio.to_thread.run_sync(lambda: write(*args, **kwargs))
        token = _joining.set(group)
        try:
            result = write(*args, **kwargs)
        finally:
            _joining.reset(token)
        answer = loop.create_future()
        group.answers.append(answer)
        await answer
        return result

    def close(self) -> None:
        """Stop the checkpoint thread, close the group connection (once no group holds
        the write lock) and let the committer thread end."""
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        if self._lock is not None:
            with self._lock:
                if self._group_conn is not None:
                    self._group_conn.close()
                self._group_conn = None
        self._committer.shutdown()

    def _group_full(self) -> bool:
        return self._group is not None and len(self._group.answers) > self._ahead_size

    def _open_group(self) -> _Group | None:
        """The loop turn's group of writes, begun now if none is open; None when the
        write lock is not free soon enough, and on PostgreSQL (no groups there)."""
        if self._group is not None:
            return self._group
        lock = self._lock
        # A worker thread's write ahead of this one takes a millisecond or so: wait
        # for it, or every write after would follow it to a thread, one by one.
        if lock is None or not lock.acquire(timeout=GROUP_WAIT_SECONDS):
            return None
        try:
            if self._group_conn is None or self._group_conn.invalidated:
                self._group_conn = self._group_connection()
            transaction = self._group_conn.begin()
        except sqlite3.OperationalError:  # another process holds SQLite's write lock
            lock.release()
            return None
        except BaseException:
            lock.release()
            raise
        loop = asyncio.get_running_loop()
        driver: sqlite3.Connection = self._group_conn.connection.driver_connection  # type: ignore[assignment]
        self._group = _Group(transaction, driver, self._subscriptions)
        loop.call_soon(self._commit_group)
        return self._group

    def _group_connection(self) -> Connection:
        conn = self._engine.connect()
        driver: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        # Groups run on the event loop, which must never sleep waiting for another
        # process's write lock: this connection gives up at once (and the write goes to
        # a worker thread instead).
        driver.execute("PRAGMA busy_timeout = 0").close()
        # Each grouped write is a savepoint, whose journal (the pages it changes, as they
        # were) went to a temporary file once past 64 KiB, as a STOP's often did: about
        # one write system call per request, on the loop. It stays in memory instead.
        driver.execute("PRAGMA temp_store = MEMORY").close()
        # No checkpoint inside a group's commit: past 1,000 pages of WAL one ran there,
        # copying them into the database file and syncing it, and every request of the
        # group waited (the longest such commits took 240 ms, against 1.2 ms as a rule,
        # once the database held 100,000 texts). The checkpoint thread does it instead.
        driver.execute("PRAGMA wal_autocheckpoint = 0").close()
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoints, name="optline-checkpoint", daemon=True
            )
            self._checkpointer.start()
        return conn

    def _checkpoints(self) -> None:
        """The checkpoint thread: copies WAL frames into the database file, never
        waiting for a reader or a writer (PASSIVE), and notes how long the WAL is."""
        conn = self._engine.raw_connection()
        driver: sqlite3.Connection = conn.driver_connection  # type: ignore[assignment]
        try:
            while not self._closing.wait(CHECKPOINT_SECONDS):
                try:
                    _busy, frames, _copied = driver.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                except sqlite3.Error:  # tried again next time
                    continue
                self._wal_frames = frames
        finally:
            conn.close()

    def _commit_group(self) -> None:
        """End of the loop turn: the group's commit goes to the committer thread, and
        the loop goes on with other requests while it syncs to disk (writes that come
        meanwhile wait for it, then form the next group together)."""
        group, self._group = self._group, None
        assert group is not None
        self._committing = True
        self._ahead_size = len(group.answers)

        def answer(done: asyncio.Future[Exception | None]) -> None:
            failure = done.result()
            # The group's writers first, so that their answers go out before the writes
            # in line run.
            for waiter in group.answers:
                if waiter.done():  # cancelled
                    continue
                if failure is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(CommitFailed(f"commit failed: {failure}"))
            self._committing = False
            in_line, self._in_line = self._in_line, []
            for turn in in_line:
                if not turn.done():
                    turn.set_result(None)

        started = threading.Event()
        loop = asyncio.get_running_loop()
        loop.run_in_executor(self._committer, self._commit, group, started).add_done_callback(
            answer
        )
        # The committer thread needs the interpreter lock to start the commit, and the
        # loop holds it while it works: without a pause here the sync waited for the
        # loop to run out of work, instead of overlapping it.
        started.wait(HANDOFF_WAIT_SECONDS)

    def _commit(self, group: _Group, started: threading.Event) -> Exception | None:
        """On the committer thread: commit, then keep what the group read and free the write
        lock (here, not on the loop: closing the store must never wait for the loop)."""
        assert self._lock is not None  # groups are SQLite's only
        started.set()
        try:
            # The driver's own COMMIT first: it lets go of the interpreter lock at once,
            # where SQLAlchemy's commit ran its Python before it, which the loop (waiting
            # to see this thread start) waited out too; the loop's wait per group went
            # from 93-102 to 66-70 µs (medians). SQLAlchemy's commit then finds nothing
            # left to commit and only ends its transaction.
            group.driver.execute("COMMIT").close()
            group.transaction.commit()
        except Exception as exc:  # disk full, I/O error: every write of the group is lost
            if group.transaction.is_active:
                group.transaction.rollback()
            return exc
        else:
            self._subscriptions.update(group.subscriptions)
            if self._wal_frames >= WAL_RESTART_FRAMES:
                self._restart_wal(group)
            return None
        finally:
            self._lock.release()

    def _restart_wal(self, group: _Group) -> None:
        """Start the WAL over from its beginning, on the committer thread while it still
        holds the write lock: a checkpoint that runs alongside the writers never catches
        up with the newest commit, so the WAL would grow without end. This one copies
        the frames the checkpoint thread has not (a moment's work) and waits for no one:
        with a reader on an older snapshot it gives up, to try after the next commit."""
        try:
            restart = group.driver.execute("PRAGMA wal_checkpoint(RESTART)")
            busy, _frames, _copied = restart.fetchone()
        except sqlite3.Error:
            return
        if not busy:
            self._wal_frames = 0


class _Savepoint:
    """A write transaction inside a group: a savepoint of the group's transaction,
    released on exit, rolled back on an exception. A class, not a generator: this is
    entered once per inbound text."""

    def __init__(self, sealer: Sealer, group: _Group) -> None:
        self._group = group
        self._tx = Tx(
            group.transaction.connection,
            driver=group.driver,
            writable=True,
            subscriptions=group.known_subscriptions,
            sealer=sealer,
            accounts=group.accounts,
            message_ids=group.message_ids,
            event_seqs=group.event_seqs,
        )

    def __enter__(self) -> Tx:
        self._group.driver.execute("SAVEPOINT grouped").close()
        return self._tx

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        group = self._group
        if kind is not None:
            # What it read may be what it changed, and the numbers it took are free.
            group.accounts.clear()
            group.message_ids.clear()
            group.event_seqs.clear()
            group.driver.execute("ROLLBACK TO grouped").close()
            group.driver.execute("RELEASE grouped").close()
            return
        group.driver.execute("RELEASE grouped").close()
        group.subscriptions.update(self._tx.read_subscriptions)
