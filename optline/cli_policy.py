"""``optline policy``: an account's profile and field overrides, shown and changed.

A change that widens scope (per sender to account) opts every contact opted out of any
sender out of the account; when it would change any contact it is refused (exit 2,
saying how many) unless ``--confirm`` is given. Exit codes as the rest of the CLI.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from optline.cli_common import AccountOpt, JsonOpt, actor_of, emit, engine, fail

policy_app = typer.Typer(help="The account's policy profile and field overrides.")


def _overrides(pairs: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs, each VALUE read as JSON (``scope=\"sender\"``, ``x=true``)
    or, when it is not JSON, as text (``brand=Acme Dental``)."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--override {pair!r}: write NAME=VALUE")
        try:
            parsed[name.strip()] = json.loads(value)
        except ValueError:
            parsed[name.strip()] = value
    return parsed


@policy_app.command("show")
def show(ctx: typer.Context, account: AccountOpt, as_json: JsonOpt = False) -> None:
    """Print the account's profile and overrides."""
    with engine(ctx) as e:
        row = e.account(account)
    data = {"profile": row.profile, "overrides": row.overrides}
    text = f"profile: {row.profile}\noverrides: {json.dumps(row.overrides, ensure_ascii=False)}"
    emit(data, as_json, text)


@policy_app.command("set")
def set_policy(
    ctx: typer.Context,
    account: AccountOpt,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Switch to this profile.")
    ] = None,
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            help="NAME=VALUE (repeatable; VALUE as JSON, else text). Replaces every override.",
        ),
    ] = None,
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="Apply a change that widens contacts' opt-outs."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Switch the profile and/or replace the overrides.

    A switch from sender to account scope opts contacts opted out of one number out of
    the whole account; it needs --confirm when it changes any."""
    if profile is None and override is None:
        fail("give --profile, --override or both")
    overrides = None if override is None else _overrides(override)
    with engine(ctx) as e:
        change = e.set_policy(account, profile, overrides, confirm, actor_of(ctx))
        row = e.account(account)
    data = {
        "profile": row.profile,
        "overrides": row.overrides,
        "contacts_changed": change.contacts_changed,
    }
    emit(data, as_json, f"profile: {row.profile}; contacts changed: {change.contacts_changed}")
