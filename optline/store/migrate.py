"""Schema migrations: the Alembic scripts in ``migrations/``, run by :func:`migrate`
when a store opens a database whose schema is older than the newest revision."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from optline.store.connect import read_only

_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@cache
def head_revision() -> str | None:
    head: str | None = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        read_only(conn)
        revision: str | None = MigrationContext.configure(conn).get_current_revision()
        return revision


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the head revision (a cheap check when it is there already)."""
    if current_revision(engine) == head_revision():
        return
    config = alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
