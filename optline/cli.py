"""The ``optline`` command line. A thin layer over :class:`optline.engine.Engine`.

Exit codes: 0 done; 1 ``check`` refused the text, ``ledger verify`` found a broken
chain, or ``messages reconcile`` left sends for an operator; 2 bad input (one line on
stderr naming what is wrong, one per bad row for ``contacts import``; nothing was
written).
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress

from optline import contacts_csv
from optline.cli_consents import consents_app
from optline.cli_ledger import ledger_app
from optline.cli_location import contacts_location
from optline.cli_messages import messages_app
from optline.cli_moves import contacts_move
from optline.cli_policy import policy_app
from optline.cli_purposes import PurposeOpt, purposes_app
from optline.cli_review import review_app
from optline.cli_serve import serve
from optline.cli_users import users_app
from optline.domain.actors import Actor
from optline.domain.classify import classify as classify_text
from optline.domain.consent import ContactState, Method, Status
from optline.domain.messages import Via
from optline.domain.policy import SenderKind, UnknownProfile
from optline.domain.projection import Projection
from optline.engine import Engine, phone, reassigned
from optline.errors import BadRows, OptlineError
from optline.settings import DEFAULT_DATABASE_URL
from optline.store.sealed import SECRET_KEY_ENV, new_key

app = typer.Typer(
    help="optline: SMS consent engine (opt-out, opt-in, help; hash-chained consent ledger).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
accounts_app = typer.Typer(help="Accounts (one per business).", no_args_is_help=True)
senders_app = typer.Typer(help="Numbers an account texts from.", no_args_is_help=True)
contacts_app = typer.Typer(help="Contacts and their consent.", no_args_is_help=True)
lists_app = typer.Typer(
    help="Named audiences with their own opt-out keyword.", no_args_is_help=True
)
triggers_app = typer.Typer(help="Account keywords with an automatic reply.", no_args_is_help=True)
subscriptions_app = typer.Typer(
    help="Event webhooks: consent changes POSTed, signed, to a URL.", no_args_is_help=True
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(senders_app, name="senders")
app.add_typer(contacts_app, name="contacts")
app.add_typer(lists_app, name="lists")
app.add_typer(triggers_app, name="triggers")
app.add_typer(subscriptions_app, name="subscriptions")
secrets_app = typer.Typer(
    help=f"Provider credentials and signing secrets, sealed at rest ({SECRET_KEY_ENV}).",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")
app.add_typer(secrets_app, name="secrets")
app.add_typer(messages_app, name="messages")
app.add_typer(policy_app, name="policy")
app.add_typer(review_app, name="review")
app.add_typer(consents_app, name="consents")
app.add_typer(purposes_app, name="purposes")
app.add_typer(users_app, name="users")
contacts_app.command("location")(contacts_location)
contacts_app.command("move")(contacts_move)


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


AccountOpt = Annotated[str, typer.Option("--account", help="Account name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ListOpt = Annotated[str | None, typer.Option("--list", help="List name.")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@dataclass(frozen=True)
class Options:
    """The options every command runs under."""

    db: str
    actor: str  # who makes the changes, on their ledger events


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (else $OPTLINE_DATABASE_URL, else sqlite)."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Who makes the changes, on the ledger (else the OS user)."),
    ] = None,
) -> None:
    url = db or os.environ.get("OPTLINE_DATABASE_URL") or DEFAULT_DATABASE_URL
    ctx.obj = Options(url, getpass.getuser() if actor is None else actor)


def actor_of(ctx: typer.Context) -> Actor:
    """Who makes a change from the command line (``--actor``, else the OS user)."""
    return Actor(ctx.find_root().obj.actor, Via.CLI)


@contextmanager
def engine(ctx: typer.Context) -> Iterator[Engine]:
    """Open the database and turn every optline error into exit 2 with one line."""
    spec = os.environ.get("OPTLINE_REASSIGNED_NUMBERS")
    try:  # the reassigned-numbers check, as the service configures it (docs/law.md)
        check = reassigned.load(spec) if spec else None
    except ValueError as exc:
        fail(str(exc))
    try:
        opened = Engine.open(ctx.find_root().obj.db, reassigned=check)
    except Exception as exc:  # a bad URL or unreachable database is bad input here
        fail(f"cannot open database: {exc}")
    try:
        yield opened
    except OptlineError as exc:
        fail(str(exc))
    finally:
        opened.close()


def emit(data: dict[str, Any], as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


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


# -- classify, receive, check, send ---------------------------------------------------


@app.command()
def classify(
    text: str,
    profile: Annotated[str, typer.Option(help="Policy profile.")] = "default",
    as_json: JsonOpt = False,
) -> None:
    """Classify one inbound text: opt_out, opt_in, help, possible_opt_out or none."""
    try:
        result = classify_text(text, profile)
    except UnknownProfile as exc:
        fail(str(exc))
    data = result.as_dict()
    emit(data, as_json, f"{data['intent']}  {data['keyword'] or '-'}  ({data['reason']})")


@app.command()
def receive(
    ctx: typer.Context,
    text: str,
    account: AccountOpt,
    from_: Annotated[str, typer.Option("--from", help="The contact's number.")],
    to: Annotated[str, typer.Option("--to", help="The account's sender number.")],
    provider_id: Annotated[str | None, typer.Option("--id", help="Provider message id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply one inbound text and print the reply and the contact's status."""
    with engine(ctx) as e:
        result = e.receive(account, from_, to, text, provider_id)
    data = result.as_dict()
    out = {k: data[k] for k in ("intent", "reply", "status", "events")}
    emit(out, as_json, f"{result.intent} -> {result.status}; reply: {result.reply or '(none)'}")


def _decision_command(ctx: typer.Context, record: bool, **kwargs: Any) -> None:
    as_json = kwargs.pop("as_json")
    with engine(ctx) as e:
        decision = e.send(**kwargs).decision if record else e.check(**kwargs)
    data = decision.as_dict()
    verdict = "allowed" if decision.allowed else f"refused: {data['reason']}"
    if data["next_allowed_at"]:
        verdict += f" (next allowed at {data['next_allowed_at']})"
    if decision.notice:  # seed 004: the first-text notice goes first, on its own
        verdict = f"{verdict}\nfirst, its own text: {decision.notice}"
    emit(data, as_json, f"{verdict}\n{decision.body}" if decision.body else verdict)
    # A script asks ``check`` before it sends: its exit code is the answer. A send
    # that was refused was still recorded (as failed), so it exits 0.
    if not record and not decision.allowed:
        raise typer.Exit(1)


FromSender = Annotated[str, typer.Option("--from", help="The sender number.")]
ToContact = Annotated[str, typer.Option("--to", help="The recipient.")]
CampaignOpt = Annotated[bool, typer.Option("--campaign", help="A campaign (marketing) text.")]


@app.command()
def check(
    ctx: typer.Context,
    account: AccountOpt,
    from_: FromSender,
    to: ToContact,
    list_name: ListOpt = None,
    campaign: CampaignOpt = False,
    body: Annotated[str, typer.Option("--body", help="The text to check.")] = "",
    purpose: PurposeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """May this text go? Prints allowed/refused with the reason; records nothing; exits 1
    when refused."""
    _decision_command(
        ctx, False, account=account, sender=from_, to=to, body=body,
        list_name=list_name, campaign=campaign, purpose=purpose, as_json=as_json,
    )  # fmt: skip


@app.command()
def send(
    ctx: typer.Context,
    body: str,
    account: AccountOpt,
    from_: FromSender,
    to: ToContact,
    list_name: ListOpt = None,
    campaign: CampaignOpt = False,
    purpose: PurposeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide and record an outbound text: sent, or failed with its reason code."""
    _decision_command(
        ctx, True, account=account, sender=from_, to=to, body=body,
        list_name=list_name, campaign=campaign, purpose=purpose, as_json=as_json,
    )  # fmt: skip


# -- accounts and senders ---------------------------------------------------------------


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


# -- contacts ---------------------------------------------------------------------------


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
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.CSV,
) -> None:
    """List contacts as CSV, one row per contact and scope
    (phone,scope,status,since,method,event_seq,purpose), or one JSON object."""
    with engine(ctx) as e:
        states = e.contacts(account, status, list_name, sender=sender)
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


# -- lists, triggers, ledger ------------------------------------------------------------


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


@subscriptions_app.command("add")
def subscriptions_add(
    ctx: typer.Context,
    url: str,
    account: AccountOpt,
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="An event type to send (opted_out, ...); repeat for more."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """POST the account's consent events to URL, signed; prints the signing secret once."""
    with engine(ctx) as e:
        sub_id, secret = e.add_subscription(account, url, event or [])
    data = {"id": sub_id, "url": url, "events": sorted(set(event or [])), "secret": secret}
    emit(data, as_json, f"subscription {sub_id} added; signing secret (shown once): {secret}")


@subscriptions_app.command("list")
def subscriptions_list(ctx: typer.Context, account: AccountOpt, as_json: JsonOpt = False) -> None:
    """The account's event-webhook subscriptions (their secrets are not shown)."""
    with engine(ctx) as e:
        rows = e.subscriptions(account)
    data = {"subscriptions": [{"id": r.id, "url": r.url, "events": r.events} for r in rows]}
    lines = [f"{r.id}  {r.url}  {','.join(r.events)}" for r in rows]
    emit(data, as_json, "\n".join(lines) or "no subscriptions")


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


app.command()(serve)


def main() -> None:
    app()
