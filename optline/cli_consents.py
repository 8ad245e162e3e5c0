"""``optline consents``: prior express written consent recorded (the exact language
agreed to, from ``--language`` or ``--language-file``; where and when it was given) by
the ``--actor`` (else the OS user), and a contact's records listed with their
language. Exit codes as the rest of the CLI (2: bad input, 4: not allowed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optline.cli_common import AccountOpt, JsonOpt, actor_of, emit, engine

consents_app = typer.Typer(
    help="Prior express written consent: record it, list a contact's records.",
    no_args_is_help=True,
)


@consents_app.command("record")
def record(
    ctx: typer.Context,
    phone: str,
    account: AccountOpt,
    given_at: Annotated[
        str, typer.Option("--given-at", help="When it was given (ISO 8601, with its zone).")
    ],
    language: Annotated[
        str | None, typer.Option(help="The exact text the person agreed to.")
    ] = None,
    language_file: Annotated[
        Path | None,
        typer.Option("--language-file", help="A UTF-8 file holding that text.", exists=True),
    ] = None,
    purpose: Annotated[str | None, typer.Option(help="Purpose slug (default marketing).")] = None,
    url: Annotated[str | None, typer.Option(help="The page it was given on.")] = None,
    form_id: Annotated[str | None, typer.Option("--form-id", help="The form's id.")] = None,
    ip: Annotated[str | None, typer.Option(help="The IP address it came from.")] = None,
    user_agent: Annotated[
        str | None, typer.Option("--user-agent", help="The browser's user agent.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record prior express written consent and opt the contact in where it is not yet."""
    from optline.engine.consents import given_at as moment

    if (language is None) == (language_file is None):
        raise typer.BadParameter("give the consent language: --language or --language-file")
    text = language if language is not None else Path(language_file or "").read_text("utf-8")
    with engine(ctx) as e:
        found = e.record_consent(
            account,
            phone,
            text,
            moment(given_at),
            purpose,
            url,
            form_id,
            ip,
            user_agent,
            actor_of(ctx),
        )
    data = found.as_dict()
    emit(data, as_json, f"consent {data['seq']} recorded: {data['phone']} {data['purpose']}")


@consents_app.command("list")
def list_consents(
    ctx: typer.Context,
    phone: str,
    account: AccountOpt,
    as_json: JsonOpt = False,
) -> None:
    """A contact's written consent records, oldest first, with their language."""
    with engine(ctx) as e:
        found = [r.as_dict() for r in e.consents(account, phone)]
    lines = [
        f"{r['seq']}\t{r['purpose']}\t{r['given_at']}\t{r['method']}\t{r['language']}"
        for r in found
    ]
    emit({"consents": found}, as_json, "\n".join(lines) or "no written consent on record")
