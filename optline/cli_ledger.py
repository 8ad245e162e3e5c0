"""``optline ledger``: the hash-chained event ledger, verified (its chains, and the
stored consent against their replay), repaired (the consent tables rebuilt from the
events) and a contact's proof checked offline. Exit codes as the rest of the CLI: 1
when ``verify`` or ``check-proof`` finds something wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from optline.proof import check_proof

ledger_app = typer.Typer(help="The hash-chained event ledger.", no_args_is_help=True)

AccountOpt = Annotated[str, typer.Option("--account", help="Account name.")]


@ledger_app.command("check-proof")
def ledger_check_proof(file: Path) -> None:
    """Check a contact proof (GET /v1/contacts/{phone}/proof) offline; exit 1 if bad."""
    from optline.cli import fail

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read {file}: {exc}")
    problems = check_proof(document)
    for problem in problems:
        typer.echo(problem)
    if problems:
        raise typer.Exit(1)
    texts = document.get("messages", [])
    redacted = sum(1 for m in texts if m.get("redacted"))
    typer.echo(
        f"ok: {len(document['events'])} events and {len(texts)} messages"
        f" ({redacted} redacted) check out"
    )


@ledger_app.command("verify")
def ledger_verify(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
) -> None:
    """Check every hash chain, then replay each account's events and compare the
    consent and review queue they give, and the texts they commit, with the stored
    state; exit 1 naming the first bad event, contact or message."""
    from optline.cli import engine

    with engine(ctx) as e:
        results = e.verify(account)
    broken = False
    for result in results:
        if result.ok:
            typer.echo(f"{result.account}: ok, {result.checked} events")
        elif result.message is not None:
            broken = True
            typer.echo(f"{result.account}: MISMATCH at message {result.message}: {result.problem}")
        elif result.contact is not None:
            broken = True
            typer.echo(f"{result.account}: MISMATCH at contact {result.contact}: {result.problem}")
        else:
            broken = True
            typer.echo(
                f"{result.account}: BROKEN at event #{result.first_bad_seq}: {result.problem}"
            )
    if broken:
        raise typer.Exit(1)


@ledger_app.command("repair")
def ledger_repair(ctx: typer.Context, account: AccountOpt) -> None:
    """Rebuild the account's consent tables from its ledger (refused, exit 2, while
    its chain is broken); prints each contact rewritten."""
    from optline.cli import engine

    with engine(ctx) as e:
        repaired = e.repair(account)
    for phone in repaired:
        typer.echo(f"{phone}: rewritten from the ledger")
    typer.echo(f"{account}: {len(repaired)} contact(s) repaired")
