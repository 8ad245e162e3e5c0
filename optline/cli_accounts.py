"""``optline accounts``, ``senders`` and ``secrets``: an account created, the numbers
it texts from with their provider's credentials, and those credentials sealed at rest."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.cli_common import AccountOpt, JsonOpt, emit, engine, fail
from optline.domain.policy import SenderKind
from optline.store.sealed import SECRET_KEY_ENV, new_key

accounts_app = typer.Typer(help="Accounts (one per business).", no_args_is_help=True)
senders_app = typer.Typer(help="Numbers an account texts from.", no_args_is_help=True)
secrets_app = typer.Typer(
    help=f"Provider credentials and signing secrets, sealed at rest ({SECRET_KEY_ENV}).",
    no_args_is_help=True,
)


@accounts_app.command("create")
def accounts_create(
    ctx: typer.Context,
    name: str,
    profile: Annotated[str, typer.Option(help="Policy profile.")] = "default",
    support: Annotated[
        str | None, typer.Option("--support-contact", help="Named in HELP answers.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an account with a policy profile (and the support contact HELP names);
    prints its API key, once."""
    overrides = {"support_contact": support} if support else None
    with engine(ctx) as e:
        row, key = e.create_account_with_key(name, profile, overrides)
    data = {"name": row.name, "profile": row.profile, "api_key": key}
    # Stored hashed, as the API's: this is the only time the key is shown.
    text = f"account {row.name} created (profile {row.profile})\nAPI key (shown once): {key}"
    emit(data, as_json, text)


@senders_app.command("add")
def senders_add(
    ctx: typer.Context,
    number: str,
    account: AccountOpt,
    kind: Annotated[SenderKind, typer.Option(help="Kind of number.")] = SenderKind.LONG_CODE,
    provider: Annotated[
        str | None,
        typer.Option(help="The number's provider: twilio, telnyx or generic (none: you send)."),
    ] = None,
    credential: Annotated[
        list[str] | None,
        typer.Option(
            "--credential",
            help="NAME=VALUE, once per credential (twilio: account_sid, auth_token; telnyx: "
            "api_key, public_key; generic: secret).",
        ),
    ] = None,
    provider_replies: Annotated[
        bool,
        typer.Option(help="The provider answers STOP/START/HELP itself: record, never reply."),
    ] = False,
) -> None:
    """Register a number the account texts from, with its provider's credentials."""
    credentials = _credentials(credential or [])
    with engine(ctx) as e:
        row = e.add_sender(account, number, kind, provider, credentials, provider_replies)
    typer.echo(f"sender {row.number} ({row.kind.value}) added to {account}")


def _credentials(given: list[str]) -> dict[str, str]:
    """``--credential NAME=VALUE`` options as a mapping (the engine checks the values)."""
    credentials: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            # Not the value itself: it may be a secret given without its name.
            fail("a --credential without a name: give it as NAME=VALUE")
        if name.strip() in credentials:
            fail(f"--credential {name.strip()} is given twice")
        credentials[name.strip()] = value
    return credentials


@secrets_app.command("new-key")
def secrets_new_key() -> None:
    """Print a fresh random key for OPTLINE_SECRET_KEY."""
    typer.echo(new_key())


@secrets_app.command("seal")
def secrets_seal(ctx: typer.Context) -> None:
    """Seal every stored secret with the first key of OPTLINE_SECRET_KEY: after setting
    it on a database that has secrets stored as given, or after putting a new key first
    (keep the old one after it until this has run)."""
    with engine(ctx) as e:
        if not e.store.sealer.sealing:
            fail(f"{SECRET_KEY_ENV} is not set: there is no key to seal with")
        count = e.reseal_secrets()
    typer.echo(f"{count} secrets sealed with the first key")
