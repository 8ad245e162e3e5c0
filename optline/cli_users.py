"""``optline users``: an account's named users (admin, agent, read_only), added with a
password for the web UI's sign-in, listed, disabled and enabled, and their own API
keys issued (printed once) and revoked. Exit 2 for an unknown account or user, a bad
name, role or password, or a name already taken."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.api.views import user_change_view, user_view
from optline.cli_common import actor_of, emit, engine
from optline.domain.users import Role

users_app = typer.Typer(
    help="Users: who signs in to the web UI, with which role, and their API keys.",
    no_args_is_help=True,
)

AccountOpt = Annotated[str, typer.Option("--account", help="Account name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: str,
    account: AccountOpt,
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.AGENT,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="The web UI password (at least 8 characters); asked for when not given.",
        ),
    ] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a user who signs in to the web UI with NAME and the password; the
    ``--actor`` (else the OS user) is recorded as who added them."""

    with engine(ctx) as e:
        user = e.add_user(account, name, role, password, actor_of(ctx))
    emit(user_view(user), as_json, f"user {user.name} added ({user.role.value})")


@users_app.command("list")
def users_list(ctx: typer.Context, account: AccountOpt, as_json: JsonOpt = False) -> None:
    """The account's users: name, role, active or not, API keys held, last sign-in."""

    with engine(ctx) as e:
        rows = e.users(account)
    lines = [
        f"{u.name}\t{u.role.value}\t{'active' if u.active else 'disabled'}\t{keys} key(s)"
        f"\t{u.last_sign_in_at.isoformat() if u.last_sign_in_at else 'never signed in'}"
        for u, keys in rows
    ]
    emit({"users": [user_view(u, keys) for u, keys in rows]}, as_json, "\n".join(lines))


def _set_active(ctx: typer.Context, account: str, name: str, active: bool) -> None:

    with engine(ctx) as e:
        user = e.set_user_active(account, name, active, actor_of(ctx))
    typer.echo(f"user {user.name} {'enabled' if active else 'disabled'}")


@users_app.command("disable")
def users_disable(ctx: typer.Context, name: str, account: AccountOpt) -> None:
    """Disable a user: they sign in no more, and their keys and sessions stop at once."""
    _set_active(ctx, account, name, False)


@users_app.command("enable")
def users_enable(ctx: typer.Context, name: str, account: AccountOpt) -> None:
    """Enable a disabled user again (keys revoked meanwhile stay revoked)."""
    _set_active(ctx, account, name, True)


@users_app.command("key")
def users_key(ctx: typer.Context, name: str, account: AccountOpt, as_json: JsonOpt = False) -> None:
    """Issue a new API key for the user (their others stay); printed once, stored hashed."""

    with engine(ctx) as e:
        key = e.issue_user_key(account, name, actor_of(ctx))
    emit({"user": name, "api_key": key}, as_json, f"API key for {name} (shown once): {key}")


@users_app.command("revoke-keys")
def users_revoke_keys(ctx: typer.Context, name: str, account: AccountOpt) -> None:
    """Revoke every API key of the user, at once."""

    with engine(ctx) as e:
        count = e.revoke_user_keys(account, name, actor_of(ctx))
    typer.echo(f"{count} API key(s) of {name} revoked")


@users_app.command("audit")
def users_audit(
    ctx: typer.Context,
    account: AccountOpt,
    limit: Annotated[int, typer.Option(help="How many changes, newest first.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Who added, disabled or enabled the account's users, or issued or revoked their
    keys, and when: newest first."""

    with engine(ctx) as e:
        rows = e.user_changes(account, limit)
    lines = [f"{c.at.isoformat()}\t{c.user_name}\t{c.change.value}\t{c.by} ({c.via})" for c in rows]
    emit({"changes": [user_change_view(c) for c in rows]}, as_json, "\n".join(lines))
