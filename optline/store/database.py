"""Opening a database: engine set-up per dialect, migrations, transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from optline.store.tx import Head, Subscriptions, Tx

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_SECONDS = 30.0
_MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option read by the SQLite "begin" hook: False starts a deferred (read) txn.
_WRITE = "optline_write"


class Store:
    """A database holding any number of accounts. Thread-safe; one per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self._heads: dict[int, Head] = {}
        # Event-webhook subscriptions by account, with the version they were read at.
        self._subscriptions: dict[int, Subscriptions] = {}
        # SQLite runs one writer at a time and makes the others sleep and retry in
        # growing steps; queueing this process's writers on a lock instead keeps the
        # wait to the writes ahead (p99 latency 4-12x lower under load).
        self._writer: AbstractContextManager[object] = (
            threading.Lock() if self.dialect == "sqlite" else nullcontext()
        )
        # SQLite: the connection this process's writers take turns on (under the lock
        # above), kept open between transactions: taking one from the pool and giving
        # it back (with its reset) costs about as much as a consent change's statements.
        self._kept: Connection | None = None

    @classmethod
    def open(cls, url: str, *, synchronous: str = "FULL") -> Store:
        """Connect to ``url`` (``sqlite:///file.db`` or ``postgresql://...``), migrating
        the schema to the newest version. ``synchronous`` is SQLite's durability level."""
        engine = _create_engine(url, synchronous.upper())
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        with self._writer:
            if self._kept is not None:
                self._kept.close()
                self._kept = None
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

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction: committed on exit, rolled back on an exception."""
        with self._writer, self._writer_connection() as conn:
            with conn.begin():
                tx = Tx(conn, writable=True, heads=self._heads, subscriptions=self._subscriptions)
                yield tx
            self._heads.update(tx.moved_heads)  # committed: the next append starts here
            self._subscriptions.update(tx.read_subscriptions)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction (its writes are refused)."""
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: False})
            with conn.begin():
                yield Tx(conn, writable=False)


def _create_engine(url: str, synchronous: str) -> Engine:
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        return _sqlite_engine(parsed, synchronous)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed)
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def _sqlite_engine(url: sa.URL, synchronous: str) -> Engine:
    engine = sa.create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Transactions are begun by the hook below, not by the sqlite3 module.
        dbapi_connection.isolation_level = None
        for pragma in (
            "journal_mode = WAL",
            "foreign_keys = ON",
            f"synchronous = {synchronous}",
            f"busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}",
        ):
            dbapi_connection.execute(f"PRAGMA {pragma}").close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A writer takes the write lock up front: two deferred transactions that both
        # try to upgrade from read to write would fail with SQLITE_BUSY instead.
        write = conn.get_execution_options().get(_WRITE, True)
        driver: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        driver.execute("BEGIN IMMEDIATE" if write else "BEGIN").close()

    return engine


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@cache
def head_revision() -> str | None:
    head: str | None = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: False})
        revision: str | None = MigrationContext.configure(conn).get_current_revision()
        return revision


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the head revision (a cheap check when it is there already)."""
    if current_revision(engine) == head_revision():
        return
    config = _alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
