"""Alembic environment: always online, on the connection the store hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from optline.store.schema import metadata

# Any fixed number: concurrent first opens of one PostgreSQL database take turns.
_MIGRATION_LOCK = 0x6F70746C696E65


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        context.run_migrations()


_run(context.config.attributes["connection"])
