"""``optline lists`` and ``triggers``: named audiences with their own opt-out keyword,
and the account's keywords with an automatic reply."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.cli_common import AccountOpt, actor_of, engine
from optline.cli_purposes import PurposeOpt

lists_app = typer.Typer(
    help="Named audiences with their own opt-out keyword.", no_args_is_help=True
)
triggers_app = typer.Typer(help="Account keywords with an automatic reply.", no_args_is_help=True)


@lists_app.command("create")
def lists_create(
    ctx: typer.Context,
    name: str,
    account: AccountOpt,
    opt_out_keyword: Annotated[
        str | None, typer.Option("--opt-out-keyword", help="Keyword that leaves this list only.")
    ] = None,
    purpose: PurposeOpt = None,
) -> None:
    """Create a list, optionally with its own opt-out keyword and the purpose its texts
    are of."""
    with engine(ctx) as e:
        e.create_list(account, name, opt_out_keyword, purpose)
    typer.echo(f"list {name} created")


@lists_app.command("add")
def lists_add(ctx: typer.Context, name: str, numbers: list[str], account: AccountOpt) -> None:
    """Subscribe numbers to a list."""
    with engine(ctx) as e:
        count = e.add_to_list(account, name, numbers, actor_of(ctx))
    typer.echo(f"{count} added to {name}")


@triggers_app.command("add")
def triggers_add(
    ctx: typer.Context,
    keyword: str,
    account: AccountOpt,
    reply: Annotated[str, typer.Option(help="Automatic reply.")],
    unsubscribe_list: Annotated[str | None, typer.Option("--unsubscribe-list")] = None,
    subscribe_list: Annotated[str | None, typer.Option("--subscribe-list")] = None,
    confirm_purpose: Annotated[
        str | None,
        typer.Option(
            "--confirm-purpose",
            help="Ask for the contact's YES first (double opt-in); records written consent"
            " for this purpose.",
        ),
    ] = None,
) -> None:
    """Add an account keyword with an automatic reply and an optional list action."""
    with engine(ctx) as e:
        trigger = e.add_trigger(
            account, keyword, reply, unsubscribe_list, subscribe_list, confirm_purpose
        )
    typer.echo(f"trigger {trigger.keyword.upper()} added")
