"""``optline contacts``: contacts and their consent, opted out or in, blocked,
listed, imported from CSV, and their history (``location`` and ``move`` are in
cli_location.py and cli_moves.py)."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress

from optline import contacts_csv
from optline.cli_common import AccountOpt, JsonOpt, ListOpt, actor_of, emit, engine, fail
from optline.cli_location import contacts_location
from optline.cli_moves import contacts_move
from optline.cli_purposes import PurposeOpt
from optline.domain.consent import ContactState
from optline.domain.consent_codes import Method, Status
from optline.domain.contact_filter import ContactFilter, change_bound, number_part
from optline.domain.projection import Projection
from optline.engine import phone
from optline.errors import BadRows

contacts_app = typer.Typer(help="Contacts and their consent.", no_args_is_help=True)
contacts_app.command("location")(contacts_location)
contacts_app.command("move")(contacts_move)


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


def contact_dict(state: ContactState, record: Projection) -> dict[str, Any]:
    return {
        "phone": state.phone,
        "status": state.status_from(None).value,
        "blocked": state.blocked,
        "senders": dict(state.sender_status),
        "lists": dict(state.lists),
        "purposes": {k: v.value for k, v in state.purposes.items()},
        "scopes": [row.as_dict() for row in record.rows()],
    }


@contacts_app.command("opt-out")
def contacts_opt_out(
    ctx: typer.Context,
    number: str,
    account: AccountOpt,
    list_name: ListOpt = None,
    sender: Annotated[str | None, typer.Option("--sender", help="Only this sender.")] = None,
    purpose: PurposeOpt = None,
) -> None:
    """Opt a contact out (of everything, of one sender, of one purpose, or of one
    list)."""
    with engine(ctx) as e:
        if list_name:
            state = e.unsubscribe(account, list_name, number, actor_of(ctx))
        else:
            state = e.opt_out(account, number, sender, actor=actor_of(ctx), purpose=purpose)
    typer.echo(f"{state.phone}: {state.status_from(None).value}")


@contacts_app.command("opt-in")
def contacts_opt_in(
    ctx: typer.Context,
    number: str,
    account: AccountOpt,
    evidence: Annotated[
        str | None, typer.Option(help="Who gave consent, when and how (required by policy).")
    ] = None,
    list_name: ListOpt = None,
    sender: Annotated[str | None, typer.Option("--sender", help="Only this sender.")] = None,
    method: Annotated[
        str, typer.Option(help="How consent was given: manual or web_form.")
    ] = Method.MANUAL.value,
    purpose: PurposeOpt = None,
) -> None:
    """Opt a contact in with evidence, where the policy allows it (to everything, one
    sender, or one purpose), or subscribe them to a list."""
    with engine(ctx) as e:
        if list_name:
            state = e.subscribe(account, list_name, number, actor_of(ctx))
        else:
            state = e.opt_in(account, number, evidence, sender, method, actor_of(ctx), purpose)
    typer.echo(f"{state.phone}: {state.status_from(None).value}")


@contacts_app.command("block")
def contacts_block(ctx: typer.Context, number: str, account: AccountOpt) -> None:
    """Block a contact: no texts either way; implies opted out."""
    with engine(ctx) as e:
        state = e.block(account, number, actor=actor_of(ctx))
    typer.echo(f"{state.phone}: blocked")


@contacts_app.command("unblock")
def contacts_unblock(ctx: typer.Context, number: str, account: AccountOpt) -> None:
    """Unblock a contact (they stay opted out)."""
    with engine(ctx) as e:
        state = e.unblock(account, number, actor=actor_of(ctx))
    typer.echo(f"{state.phone}: {state.status_from(None).value}")


@contacts_app.command("list")
def contacts_list(
    ctx: typer.Context,
    account: AccountOpt,
    status: Annotated[
        Status | None, typer.Option(help="Only contacts with this status in some scope.")
    ] = None,
    list_name: ListOpt = None,
    sender: Annotated[
        str | None, typer.Option("--sender", help="The status as seen from this sender.")
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="The status a text of this purpose is decided by."),
    ] = None,
    number: Annotated[
        str | None,
        typer.Option("--number", help='Part of the number: "+1415" its start, "2671" anywhere.'),
    ] = None,
    method: Annotated[
        Method | None, typer.Option("--method", help="How the matching scope was set.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Changed on or after: YYYY-MM-DD (UTC) or a zoned time."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Changed up to: YYYY-MM-DD (the day included) or a time."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.CSV,
) -> None:
    """List contacts as CSV, one row per contact and scope
    (phone,scope,status,since,method,event_seq,purpose), or one JSON object; the
    filters are the web UI's and ``GET /v1/contacts``'s."""
    with engine(ctx) as e:
        query = ContactFilter(
            status,
            list_name,
            sender,
            None if number is None else number_part(number),
            method,
            change_bound(since or "", "--since"),
            change_bound(until or "", "--until", end=True),
            purpose,
        )
        states = e.find_contacts(account, query)
        records = e.records(account, [s.phone for s in states])
    if fmt is Format.JSON:
        contacts = [contact_dict(s, records[s.phone]) for s in states]
        typer.echo(json.dumps({"contacts": contacts}))
        return
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(contacts_csv.FIELDS)
    for state in states:
        writer.writerows(contacts_csv.rows(records[state.phone], status, sender))
    typer.echo(out.getvalue(), nl=False)


#: How many bad rows of an import are listed on stderr; a count stands for the rest.
IMPORT_PROBLEMS_SHOWN = 20


@contacts_app.command("import")
def contacts_import(ctx: typer.Context, file: Path, account: AccountOpt) -> None:
    """Import contacts from CSV (phone[,status][,lists][,evidence]): all rows or none."""
    with engine(ctx) as e:
        try:
            rows, unread = contacts_csv.read_import(file)
            # On a terminal only: a script reading stderr gets the error lines alone.
            bar = Console(stderr=True)
            with Progress(console=bar, transient=True, disable=not bar.is_terminal) as progress:
                task = progress.add_task("importing", total=len(rows))
                count = e.import_contacts(
                    account, rows, lambda: progress.advance(task), unread, actor_of(ctx)
                )
        except BadRows as exc:
            _report(file, exc)
    typer.echo(f"imported {count} contacts into {account}")


def _report(file: Path, exc: BadRows) -> NoReturn:
    """Each bad row on its own line (up to :data:`IMPORT_PROBLEMS_SHOWN`), then the
    verdict; exit 2."""
    lines = exc.lines()
    for line in lines[:IMPORT_PROBLEMS_SHOWN]:
        typer.echo(f"error: {line}", err=True)
    rest = len(lines) - IMPORT_PROBLEMS_SHOWN
    if rest > 0:
        typer.echo(f"error: and {rest} more bad row{'' if rest == 1 else 's'}", err=True)
    fail(f"{file}: {exc}")


@contacts_app.command("history")
def contacts_history(
    ctx: typer.Context, number: str, account: AccountOpt, as_json: JsonOpt = False
) -> None:
    """Every ledger event and message of one contact."""
    with engine(ctx) as e:
        events, messages = e.history(account, number)
    data = {
        "phone": phone(number),
        "events": [
            {
                "seq": ev.seq,
                "type": ev.type,
                "at": ev.occurred_at.isoformat(),
                "data": ev.data,
                "hash": ev.hash,
            }
            for ev in events
        ],
        "messages": [
            {
                "direction": m.direction,
                "sender": m.sender,
                "body": m.body,
                "status": m.status,
                "reason": m.reason,
                "hidden": m.hidden,
                "at": m.created_at.isoformat(),
            }
            for m in messages
        ],
    }
    lines = [
        f"#{ev.seq} {ev.occurred_at.isoformat()} {ev.type} {json.dumps(ev.data)}" for ev in events
    ]
    emit(data, as_json, "\n".join(lines) or "no events")
