"""``optline purposes``: the categories of texts a consent covers (``marketing``,
``informational`` and the account's own), listed and added. A consent or an opt-out of
one purpose is ``contacts opt-in/opt-out --purpose``; a send's purpose is ``send
--purpose`` (see docs/cli.md, "Purposes")."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.cli_common import AccountOpt, JsonOpt, emit, engine

purposes_app = typer.Typer(
    help="Purposes: the categories of texts a consent covers.", no_args_is_help=True
)

#: The ``--purpose`` option of the commands that send, check, opt in or out, or make lists.
PurposeOpt = Annotated[
    str | None,
    typer.Option(
        "--purpose",
        help="A purpose (marketing, informational, the account's own; see `purposes list`).",
    ),
]


@purposes_app.command("list")
def purposes_list(ctx: typer.Context, account: AccountOpt, as_json: JsonOpt = False) -> None:
    """The account's purposes: marketing, informational, then its own."""
    with engine(ctx) as e:
        names = e.purposes(account)
    emit({"purposes": list(names)}, as_json, "\n".join(names))


@purposes_app.command("add")
def purposes_add(ctx: typer.Context, name: str, account: AccountOpt) -> None:
    """Add a purpose of the account's own (lower-case letters, digits, underscores)."""
    with engine(ctx) as e:
        added = e.add_purpose(account, name)
    typer.echo(f"purpose {added} added")
