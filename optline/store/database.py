"""The store: one database opened, and its transactions handed out.

Engine creation is in :mod:`.connect`, migrations in :mod:`.migrate`, SQLite's group
commit (when ``transaction()`` is a savepoint) in :mod:`.group_commit`, and the
queries of a transaction in :mod:`.tx` and its repositories.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Connection, Engine

from optline.store.checkpoint import LogKeys
from optline.store.connect import create_engine, read_only
from optline.store.group_commit import CommitFailed, GroupCommit
from optline.store.migrate import migrate
from optline.store.sealed import Sealer
from optline.store.tx import Subscriptions, Tx

__all__ = ["CommitFailed", "Store"]

P = ParamSpec("P")
T = TypeVar("T")

# Set while a look-up runs on the event loop: ``Store.read`` then uses the loop's own
# connection.
_on_loop: ContextVar[bool] = ContextVar("optline_on_loop", default=False)


class Store:
    """A database holding any number of accounts. Thread-safe; one per process."""

    def __init__(
        self, engine: Engine, sealer: Sealer | None = None, log_keys: LogKeys | None = None
    ) -> None:
        self.engine = engine
        self.sealer = sealer or Sealer()
        # The transparency log's signing keys (OPTLINE_LOG_KEY); None: the stored key.
        self.log_keys = log_keys
        self.dialect: str = engine.dialect.name
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
        # SQLite on an event loop: the writes of one loop turn, committed together.
        self.group_commit = GroupCommit(
            engine, self._sqlite_writer, self._subscriptions, self.sealer
        )
        # SQLite: the connection for look-ups on the event loop (one thread, one at a
        # time), kept open: taking one from the pool for each costs more than the read.
        self._loop_reader: Connection | None = None

    @classmethod
    def open(cls, url: str, *, synchronous: str = "FULL", secret_key: str | None = None) -> Store:
        """Connect to ``url`` (``sqlite:///file.db`` or ``postgresql://...``), migrating
        the schema to the newest version. ``synchronous`` is SQLite's durability level;
        ``secret_key`` seals stored secrets (default: ``OPTLINE_SECRET_KEY``)."""
        sealer = Sealer.from_env() if secret_key is None else Sealer.from_keys(secret_key)
        log_keys = LogKeys.from_env()
        engine = create_engine(url, synchronous.upper())
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, sealer, log_keys)

    def close(self) -> None:
        self.group_commit.close()
        with self._writer:
            for conn in (self._kept, self._loop_reader):
                if conn is not None:
                    conn.close()
            self._kept = self._loop_reader = None
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

        Within a write that :meth:`write_grouped` runs on the event loop it is a
        savepoint of the loop turn's group instead, made durable by the group's commit
        (:mod:`optline.store.group_commit` says exactly when)."""
        savepoint = self.group_commit.joined()
        if savepoint is not None:
            return savepoint
        return self._own_transaction()

    @contextmanager
    def _own_transaction(self) -> Iterator[Tx]:
        with self._writer, self._writer_connection() as conn:
            with conn.begin():
                tx = Tx(
                    conn,
                    writable=True,
                    subscriptions=self._subscriptions,
                    sealer=self.sealer,
                )
                yield tx
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
        return await self.group_commit.write(write, *args, **kwargs)

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
