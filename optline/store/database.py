"""Opening a database and handing out its transactions (engine set-up per dialect is in
:mod:`.connect`, migrations in :mod:`.migrate`)."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections import ChainMap
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import InitVar, dataclass, field
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Connection, Engine, RootTransaction

from optline.store.connect import create_engine, read_only
from optline.store.migrate import migrate
from optline.store.rows import AccountRow
from optline.store.sealed import Sealer
from optline.store.tx import Head, Subscriptions, Tx

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
    # The store's ledger heads and subscriptions, as committed: only the views below
    # keep them.
    committed_heads: InitVar[dict[int, Head]]
    committed_subscriptions: InitVar[dict[int, Subscriptions]]
    # One future per write, each its own: a cancelled waiter (its client gone) cancels
    # only its own, never the others' answer.
    answers: list[asyncio.Future[None]] = field(default_factory=list)
    # Those the group's writes moved and read, not yet committed.
    heads: dict[int, Head] = field(default_factory=dict)
    subscriptions: dict[int, Subscriptions] = field(default_factory=dict)
    accounts: dict[int, AccountRow] = field(default_factory=dict)
    message_ids: dict[int, int] = field(default_factory=dict)
    # What each write of the group starts from, built once for them all.
    known_heads: ChainMap[int, Head] = field(init=False)
    known_subscriptions: ChainMap[int, Subscriptions] = field(init=False)

    def __post_init__(
        self,
        committed_heads: dict[int, Head],
        committed_subscriptions: dict[int, Subscriptions],
    ) -> None:
        self.known_heads = ChainMap(self.heads, committed_heads)
        self.known_subscriptions = ChainMap(self.subscriptions, committed_subscriptions)


# The group that ``Store.transaction`` joins while a grouped write runs.
_joining: ContextVar[_Group | None] = ContextVar("optline_group", default=None)
# Set while a look-up runs on the event loop: ``Store.read`` then uses the loop's own
# connection.
_on_loop: ContextVar[bool] = ContextVar("optline_on_loop", default=False)


class Store:
    """A database holding any number of accounts. Thread-safe; one per process."""

    def __init__(self, engine: Engine, sealer: Sealer | None = None) -> None:
        self.engine = engine
        self.sealer = sealer or Sealer()
        self.dialect: str = engine.dialect.name
        self._heads: dict[int, Head] = {}
        # Event-webhook subscriptions by account, with the version they were read at.
        self._subscriptions: dict[int, Subscriptions] = {}
        # SQLite runs one writer at a time and makes the others sleep and retry in
        # growing steps; queueing this process's writers on a lock instead keeps the
        # wait to the writes ahead (p99 latency 4-12x lower under load).
        self._sqlite_writer = threading.Lock() if self.dialect == "sqlite" else None
        self._writer: AbstractContextManager[object] = self._sqlite_writer or nullcontext()
        # SQLite: the connection this process's writers take turns on (under the lock
        # above), kept open between transactions: taking one from the pool and giving
        # it back (with its reset) costs about as much as a consent change's statements.
        self._kept: Connection | None = None
        # SQLite on an event loop: the open group of writes and its own connection.
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
        # SQLite: the connection for look-ups on the event loop (one thread, one at a
        # time), kept open: taking one from the pool for each costs more than the read.
        self._loop_reader: Connection | None = None
        # SQLite with grouped writes: the checkpoint thread, and the WAL's length in
        # frames as its last checkpoint found it.
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()
        self._wal_frames = 0

    @classmethod
    def open(cls, url: str, *, synchronous: str = "FULL", secret_key: str | None = None) -> Store:
        """Connect to ``url`` (``sqlite:///file.db`` or ``postgresql://...``), migrating
        the schema to the newest version. ``synchronous`` is SQLite's durability level;
        ``secret_key`` seals stored secrets (default: ``OPTLINE_SECRET_KEY``)."""
        sealer = Sealer.from_env() if secret_key is None else Sealer.from_keys(secret_key)
        engine = create_engine(url, synchronous.upper())
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, sealer)

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._writer:
            for conn in (self._kept, self._group_conn, self._loop_reader):
                if conn is not None:
                    conn.close()
            self._kept = self._group_conn = self._loop_reader = None
        self._committer.shutdown()
        self.engine.dispose()

    def _writer_connection(self) -> AbstractContextManager[Connection]:
        """The connection for a write transaction (call with the writer lock held)."""
        if self.dialect != "sqlite":
            return self.engine.connect()
        if self._kept is not None and (self._kept.closed or self._kept.invalidated):
            self._kept.close()
            self._kept = None
        if self._kept is None:
            self._kept = self.engine.connect()
        return nullcontext(self._kept)

    def transaction(self) -> AbstractContextManager[Tx]:
        """One write transaction: committed on exit, rolled back on an exception.

        Within :meth:`write_grouped` it is a savepoint of the loop's group instead, made
        durable by the group's commit."""
        group = _joining.get()
        if group is not None:
            return _Savepoint(self, group)
        return self._own_transaction()

    @contextmanager
    def _own_transaction(self) -> Iterator[Tx]:
        with self._writer, self._writer_connection() as conn:
            with conn.begin():
                tx = Tx(
                    conn,
                    writable=True,
                    heads=self._heads,
                    subscriptions=self._subscriptions,
                    sealer=self.sealer,
                )
                yield tx
            self._heads.update(tx.moved_heads)  # committed: the next append starts here
            self._subscriptions.update(tx.read_subscriptions)

    async def write_grouped(self, write: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``write`` (whose transactions commit before it returns) and return once
        its changes are durable.

        On SQLite, called from the event loop: every write of one loop turn runs on the
        loop, each transaction of theirs a savepoint of one transaction, and they commit at
        the end of the turn, one sync to disk for them all, before any of them is
        answered (a write past one more than the group ahead had waits for the next).
        A write that fails rolls back its savepoint only. Running SQLite's
        statements on the loop also spares two thread hops per request, each of which
        waits for the interpreter lock behind the loop. When the write lock is taken (by
        a thread of this process or by another process), and on PostgreSQL, ``write``
        runs on a worker thread with its own commit, as any other write does.
        """
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

    def _group_full(self) -> bool:
        return self._group is not None and len(self._group.answers) > self._ahead_size

    async def lookup(self, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a short read (one indexed look-up) from the event loop: on SQLite on the
        loop itself (microseconds, and WAL readers never wait for a writer), spared the
        hop to a worker thread and back; on PostgreSQL on a worker thread. On SQLite a
        prepared statement in it reads on its own, outside any transaction: several of
        them need not see the same moment."""
        if self.dialect == "sqlite":
            token = _on_loop.set(True)
            try:
                return read(*args, **kwargs)
            finally:
                _on_loop.reset(token)
        return await anyio.to_thread.run_sync(lambda: read(*args, **kwargs))

    def _open_group(self) -> _Group | None:
        """The loop turn's group of writes, begun now if none is open; None when the
        write lock is not free soon enough, and on PostgreSQL (no groups there)."""
        if self._group is not None:
            return self._group
        lock = self._sqlite_writer
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
        self._group = _Group(transaction, driver, self._heads, self._subscriptions)
        loop.call_soon(self._commit_group)
        return self._group

    def _group_connection(self) -> Connection:
        conn = self.engine.connect()
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
        conn = self.engine.raw_connection()
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
        """On the committer thread: commit, then move the heads on and free the write
        lock (here, not on the loop: closing the store must never wait for the loop)."""
        assert self._sqlite_writer is not None  # groups are SQLite's only
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
            self._heads.update(group.heads)
            self._subscriptions.update(group.subscriptions)
            if self._wal_frames >= WAL_RESTART_FRAMES:
                self._restart_wal(group)
            return None
        finally:
            self._sqlite_writer.release()

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

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction (its writes are refused)."""
        if _on_loop.get():
            conn = self._loop_reader
            if conn is None or conn.closed or conn.invalidated:
                conn = self._loop_reader = self._reader_connection()
            # No transaction is begun for the look-up: a prepared statement (the hot
            # look-ups') runs in SQLite's autocommit mode, one consistent read of its
            # own, sparing BEGIN and COMMIT through SQLAlchemy (20 µs a request); a
            # SQLAlchemy statement begins one, which the rollback here ends.
            try:
                yield Tx(conn, writable=False, sealer=self.sealer)
            finally:
                conn.rollback()
            return
        with self._reader_connection() as conn, conn.begin():
            yield Tx(conn, writable=False, sealer=self.sealer)

    def _reader_connection(self) -> Connection:
        return read_only(self.engine.connect())


class _Savepoint:
    """A write transaction inside a group (:meth:`Store.write_grouped`): a savepoint of
    the group's transaction, released on exit, rolled back on an exception. A class,
    not a generator: this is entered once per inbound text."""

    def __init__(self, store: Store, group: _Group) -> None:
        self._group = group
        self._tx = Tx(
            group.transaction.connection,
            driver=group.driver,
            writable=True,
            heads=group.known_heads,
            subscriptions=group.known_subscriptions,
            sealer=store.sealer,
            accounts=group.accounts,
            message_ids=group.message_ids,
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
            group.driver.execute("ROLLBACK TO grouped").close()
            group.driver.execute("RELEASE grouped").close()
            return
        group.driver.execute("RELEASE grouped").close()
        group.heads.update(self._tx.moved_heads)
        group.subscriptions.update(self._tx.read_subscriptions)
