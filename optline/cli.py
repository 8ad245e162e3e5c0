"""The ``optline`` command line. A thin layer over :class:`optline.engine.Engine`.

Here: the app, its global options, and the commands on one text (``classify``,
``receive``, ``check``, ``send``); each group of commands is a ``cli_*.py`` module
of its own, and what they share is in :mod:`optline.cli_common`.

Exit codes: 0 done; 1 ``check`` refused the text, ``ledger verify`` found a broken
chain, or ``messages reconcile`` left sends for an operator; 2 bad input (one line on
stderr naming what is wrong, one per bad row for ``contacts import``; nothing was
written).
"""

from __future__ import annotations

import getpass
import os
from typing import Annotated, Any

import typer

from optline.cli_accounts import accounts_app, secrets_app, senders_app
from optline.cli_common import (
    AccountOpt,
    JsonOpt,
    ListOpt,
    Options,
    actor_of,
    emit,
    engine,
    fail,
)
from optline.cli_consents import consents_app
from optline.cli_contacts import contacts_app
from optline.cli_ledger import ledger_app
from optline.cli_lists import lists_app, triggers_app
from optline.cli_messages import messages_app
from optline.cli_policy import policy_app
from optline.cli_purposes import PurposeOpt, purposes_app
from optline.cli_review import review_app
from optline.cli_serve import serve
from optline.cli_subscriptions import subscriptions_app
from optline.cli_users import users_app
from optline.domain.classify import classify as classify_text
from optline.domain.profiles import UnknownProfile
from optline.settings import DEFAULT_DATABASE_URL

app = typer.Typer(
    help="optline: SMS consent engine (opt-out, opt-in, help; hash-chained consent ledger).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(senders_app, name="senders")
app.add_typer(contacts_app, name="contacts")
app.add_typer(lists_app, name="lists")
app.add_typer(triggers_app, name="triggers")
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(ledger_app, name="ledger")
app.add_typer(secrets_app, name="secrets")
app.add_typer(messages_app, name="messages")
app.add_typer(policy_app, name="policy")
app.add_typer(review_app, name="review")
app.add_typer(consents_app, name="consents")
app.add_typer(purposes_app, name="purposes")
app.add_typer(users_app, name="users")


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
        # A text sent from here names the --actor (else the OS user) as its sender.
        decision = e.send(**kwargs, actor=actor_of(ctx)).decision if record else e.check(**kwargs)
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


app.command()(serve)


def main() -> None:
    app()
