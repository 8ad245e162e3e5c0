"""Shared fixtures: every store-touching test runs on SQLite and on a real PostgreSQL.

Besides the databases: the engine and the REST API's app, client and accounts (with
the helpers of ``test_api_support``), the fake provider on loopback, and the webhook
tests' worlds (with the helpers of ``webhook_support``).

PostgreSQL is started once per test session, and only if a ``postgresql`` test runs:
initdb into a temporary directory, pg_ctl on a free loopback port, stopped and removed
at the end. PostgreSQL refuses to run as root, so under root (as in CI) its commands
run as the ``postgres`` user. Each test gets a fresh database copied from a migrated
template, which is far cheaper than migrating every time.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from fakeprovider import FakeProvider
from fastapi.testclient import TestClient
from psycopg import sql
from test_api_support import ADMIN_KEY, OTHER, TF, A, B, Tenant, new_tenant
from webhook_support import World, build_world

from optline.api.app import Settings, create_app
from optline.engine import Engine
from optline.store import Store

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_USER = "postgres"


def _pg_bindir() -> Path:
    found = [Path(p) for p in glob.glob(PG_BIN_GLOB) if Path(p, "initdb").exists()]
    if not found:
        pytest.fail(
            f"PostgreSQL binaries not found ({PG_BIN_GLOB}/initdb): install the postgresql "
            "package (.ci/run does) to run the PostgreSQL half of the tests",
            pytrace=False,
        )
    return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int = field(default_factory=_free_port)
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            pytest.fail(f"{tool} failed: {done.stdout}{done.stderr}{log}", pytrace=False)

    def start(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam(PG_USER)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            # Test data is thrown away: durability buys nothing here.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def admin(self, statement: sql.Composed | sql.SQL) -> None:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(statement)

    def create_database(self, template: str = "template1") -> str:
        name = f"optline_test_{next(self._names)}"
        self.admin(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
        return name

    def drop_database(self, name: str) -> None:
        self.admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(_pg_bindir(), Path(tempfile.mkdtemp(prefix="optline-pg-")))
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(server.root, ignore_errors=True)


class DatabasePool:
    """Test databases copied from a migrated template, one always being made ahead.

    Copying a database takes about a tenth of a second; a background thread does it
    (and the drops) while the tests run.
    """

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.template = server.create_database()
        Store.open(server.url(self.template)).close()
        self._worker = ThreadPoolExecutor(max_workers=1)
        self._next = self._worker.submit(server.create_database, self.template)

    def take(self) -> str:
        name = self._next.result()
        self._next = self._worker.submit(self.server.create_database, self.template)
        return name

    def give_back(self, name: str) -> None:
        self._worker.submit(self.server.drop_database, name)

    def close(self) -> None:
        self._worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: PostgresServer) -> Iterator[DatabasePool]:
    pool = DatabasePool(postgres_server)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "optline.db"
    Store.open(f"sqlite:///{path}").close()  # closing checkpoints the WAL into the file
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for this test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "optline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    pool: DatabasePool = request.getfixturevalue("postgres_databases")
    name = pool.take()
    try:
        yield pool.server.url(name)
    finally:
        pool.give_back(name)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def engine(store: Store) -> Engine:
    return Engine(store)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=engine)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def acme(client: TestClient) -> Tenant:
    tenant = new_tenant(client, "acme", senders=(A, B))
    tenant.ok("POST", "/v1/senders", {"number": TF, "kind": "toll_free"}, status=201)
    return tenant


@pytest.fixture
def other(client: TestClient) -> Tenant:
    return new_tenant(client, "other", senders=(OTHER,))


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    """The fake provider's HTTP server on loopback, for one test."""
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def world(store: Store, fake: FakeProvider) -> Iterator[World]:
    """Account acme on the twilio profile: opt-outs are per sending number."""
    built = build_world(store, fake, "twilio")
    with built.client:
        yield built


@pytest.fixture
def default_world(store: Store, fake: FakeProvider) -> Iterator[World]:
    """Account acme on the default profile: an opt-out closes the whole account."""
    built = build_world(store, fake, "default")
    with built.client:
        yield built
