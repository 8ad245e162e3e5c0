"""``optline contacts location``: where the send windows place a contact, shown, or its
time zone and US state stored (see docs/cli.md, "Send windows")."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.cli_common import AccountOpt, JsonOpt, emit, engine, fail


def contacts_location(
    ctx: typer.Context,
    number: str,
    account: AccountOpt,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="IANA time zone (America/Chicago).")
    ] = None,
    state: Annotated[str | None, typer.Option("--state", help="US state (OK, FL).")] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the stored values: the number decides.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show where the send windows place a contact, or store its time zone and state
    (both replaced; one left out is read from the number again)."""
    if clear and (time_zone is not None or state is not None):
        fail("give --clear alone, or --time-zone and/or --state")
    with engine(ctx) as e:
        if clear or time_zone is not None or state is not None:
            found = e.set_contact_location(account, number, time_zone, state)
        else:
            found = e.contact_location(account, number)
    where = found.located
    text = (
        f"{found.phone}: {where.country or '-'} {where.state or '-'} "
        f"{', '.join(where.zones) or '-'}"
        f" (stored: {found.time_zone or '-'} {found.state or '-'})"
    )
    emit(found.as_dict(), as_json, text)
