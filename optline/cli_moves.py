"""``optline contacts move``: a contact's consent and lists moved to their new number,
with evidence (see docs/cli.md, "Number changes")."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.cli_common import AccountOpt, actor_of, engine


def contacts_move(
    ctx: typer.Context,
    number: str,
    to: Annotated[str, typer.Option("--to", help="The contact's new number.")],
    evidence: Annotated[
        str, typer.Option(help="Who said the number changed, when and how (on both ledgers).")
    ],
    account: AccountOpt,
    replace_history: Annotated[
        bool,
        typer.Option(
            "--replace-history",
            help="Move even onto a number with consent history of its own, replacing it.",
        ),
    ] = False,
) -> None:
    """Move a contact's consent, lists and block to their new number; the old number
    keeps nothing (no_consent)."""
    with engine(ctx) as e:
        old, new = e.move_contact(account, number, to, evidence, replace_history, actor_of(ctx))
    typer.echo(f"{old.phone}: {old.status_from(None).value}")
    typer.echo(f"{new.phone}: {new.status_from(None).value}")
