"""What every ``optline`` command module shares: the options every command runs
under, the options many take (``--account``, ``--json``, ``--list``), opening the
engine, printing, and failing with exit 2. The commands are in ``optline/cli*.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import typer

from optline.domain.actors import Actor
from optline.domain.messages import Via
from optline.engine import Engine, reassigned
from optline.errors import OptlineError

AccountOpt = Annotated[str, typer.Option("--account", help="Account name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ListOpt = Annotated[str | None, typer.Option("--list", help="List name.")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@dataclass(frozen=True)
class Options:
    """The options every command runs under."""

    db: str
    actor: str  # who makes the changes, on their ledger events


def actor_of(ctx: typer.Context) -> Actor:
    """Who makes a change from the command line (``--actor``, else the OS user)."""
    return Actor(ctx.find_root().obj.actor, Via.CLI)


@contextmanager
def engine(ctx: typer.Context) -> Iterator[Engine]:
    """Open the database and turn every optline error into exit 2 with one line."""
    spec = os.environ.get("OPTLINE_REASSIGNED_NUMBERS")
    try:  # the reassigned-numbers check, as the service configures it (docs/law.md)
        check = reassigned.load(spec) if spec else None
    except ValueError as exc:
        fail(str(exc))
    try:
        opened = Engine.open(ctx.find_root().obj.db, reassigned=check)
    except Exception as exc:  # a bad URL or unreachable database is bad input here
        fail(f"cannot open database: {exc}")
    try:
        yield opened
    except OptlineError as exc:
        fail(str(exc))
    finally:
        opened.close()


def emit(data: dict[str, Any], as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else text)
