"""How a statement is prepared: compiled once per dialect and run on the DB-API driver.

What belongs here: the machinery shared by the statements of every concern (``Prepared``
and its bind processing, the ``Driver`` it runs on) and small builders they all use
(``insert`` with ON CONFLICT, ``typed_values``, ``json_object``). The statements
themselves are in the ``queries_*`` modules, by concern; ``queries`` composes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler


class Driver(Protocol):
    """The DB-API connection under a SQLAlchemy one: sqlite3's or psycopg's, whose
    execute() makes, runs and returns a cursor in one call."""

    def execute(self, sql: str, parameters: Any, /) -> Any: ...

    def cursor(self) -> Any: ...


def insert(table: sa.Table, postgres: bool) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that supports ON CONFLICT on both dialects."""
    return postgresql.insert(table) if postgres else sqlite.insert(table)


def json_object(postgres: bool, key: sa.ColumnElement[Any], value: sa.ColumnElement[Any]) -> Any:
    """Aggregate rows into one JSON object ``{key: value}`` (NULL when there are none)."""
    name = "json_object_agg" if postgres else "json_group_object"
    return getattr(sa.func, name)(key, value, type_=sa.JSON)


def typed_values(table: sa.Table, names: Iterable[str]) -> dict[str, sa.BindParameter[Any]]:
    """``column = :column`` for each name, typed so the driver gets stored forms."""
    return {name: sa.bindparam(name, type_=table.c[name].type) for name in names}


class Prepared:
    """A statement compiled once and run on the driver's own connection.

    On SQLite, SQLAlchemy's work per execution (context, events, result set-up) costs
    more than the statement itself; the reads and writes of every consent change skip
    it. Values still pass through SQLAlchemy's type processors, so they are stored
    just as any other write stores them; rows come back as the driver returns them.
    Runs inside the connection's transaction.
    """

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self._order = compiled.positiontup  # None under named parameter styles
        self._processors = [
            (name, _bind_processor(bind.type, dialect)) for name, bind in compiled.binds.items()
        ]
        # Positional styles (SQLite's qmark): the values are taken in slot order in one
        # step, and only the slots whose type has a processor are processed (an insert
        # of a text has 15 slots, 5 of them processed: 3.7 -> 3.3 µs).
        self._take: Callable[[Mapping[str, Any]], Sequence[Any]] | None = None
        self._processed: list[tuple[int, Callable[[Any], Any]]] = []
        if self._order is not None:
            self._take = _taker(self._order)
            processor_of = dict(self._processors)
            self._processed = [
                (slot, process)
                for slot, name in enumerate(self._order)
                if (process := processor_of[name]) is not None
            ]

    def _parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self._take is not None:
            taken = self._take(values)
            if not self._processed:
                return taken
            row = list(taken)
            for slot, process in self._processed:
                row[slot] = process(row[slot])
            return row
        return {
            name: values[name] if process is None else process(values[name])
            for name, process in self._processors
        }

    def run(self, driver: Driver, values: Mapping[str, Any]) -> int:
        """Execute with one set of values; returns the number of rows changed."""
        cursor = driver.execute(self.sql, self._parameters(values))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, driver: Driver, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Execute a query; its first row, as the driver returns it (no type processing)."""
        cursor = driver.execute(self.sql, self._parameters(values))
        try:
            row: tuple[Any, ...] | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    def all(self, driver: Driver, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute a query; all its rows, as the driver returns them."""
        cursor = driver.execute(self.sql, self._parameters(values))
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
        finally:
            cursor.close()

    def run_many(self, driver: Driver, rows: Sequence[Mapping[str, Any]]) -> None:
        cursor = driver.cursor()
        try:
            cursor.executemany(self.sql, [self._parameters(row) for row in rows])
        finally:
            cursor.close()

    def repeat(
        self, driver: Driver, fixed: Mapping[str, Any], key: str
    ) -> Callable[[Any], list[tuple[Any, ...]]]:
        """The query as a function of its ``key`` parameter, for many runs in this
        transaction: the ``fixed`` values are processed once, and every run reuses one
        driver cursor and returns all rows (so the statement is always finished)."""
        process = dict(self._processors)[key]
        fixed = {**fixed, key: None}
        template = self._parameters(fixed)
        cursor = driver.cursor()
        execute, sql = cursor.execute, self.sql
        if isinstance(template, dict):
            named = template

            def run_named(value: Any) -> list[tuple[Any, ...]]:
                named[key] = value if process is None else process(value)
                execute(sql, named)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
                return rows

            return run_named
        assert self._order is not None
        slots = [i for i, name in enumerate(self._order) if name == key]
        values = list(template)

        def run_positional(value: Any) -> list[tuple[Any, ...]]:
            processed = value if process is None else process(value)
            for i in slots:
                values[i] = processed
            execute(sql, values)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

        return run_positional


def _bind_processor(
    type_: sa.types.TypeEngine[Any], dialect: Dialect
) -> Callable[[Any], Any] | None:
    """The type's processor of values bound to a statement, if it needs one. On SQLite
    booleans need none: the driver stores a bool as the integer 0 or 1, as SQLAlchemy's
    processor does after checking that the value is a bool, which the type checker
    does here (5 booleans in a text's row: 0.7 µs)."""
    if dialect.name == "sqlite" and isinstance(type_, sa.Boolean):
        return None
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _taker(names: Sequence[str]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """A function of a mapping: the values of ``names``, in order, as a sequence."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        (name,) = names
        return lambda values: (values[name],)
    return lambda values: ()
