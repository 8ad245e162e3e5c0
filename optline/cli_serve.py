"""``optline serve``: the HTTP service, and the demo account ``--demo`` gives it (a
generic-webhook sender, six weeks of history from :mod:`optline.demo_data` and a few
texts just now, so the web UI has something to show, and an admin user to sign in as:
its name and a fresh password are printed, with a fresh API key)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Annotated

import typer

from optline import demo_data
from optline.cli_common import fail
from optline.domain.actors import Actor
from optline.domain.messages import Via
from optline.domain.users import Role
from optline.engine import Engine, utcnow
from optline.errors import OptlineError
from optline.store import Store
from optline.store.sealed import SECRET_KEY_ENV

DEMO_ACCOUNT = "demo"
DEMO_SENDER = "+14155550100"
DEMO_SECRET = "demo-webhook-secret"
DEMO_USER = "demo-admin"
DEMO_TEXTS = (
    ("+14155550123", "Hi, is my cleaning still on Tuesday?"),
    ("+14155550124", "STOP"),
    ("+14155550125", "please stop texting me"),
    ("+14155550126", "not interested"),  # a possible opt-out: flagged for review
    ("+14155550127", "HELP"),
)


@dataclass(frozen=True)
class DemoSignIn:
    """What ``--demo`` prints to sign in with: the account's API key, and its admin
    user's password."""

    key: str
    password: str


def demo_sign_in(database_url: str) -> DemoSignIn:
    """Make sure the demo account and its admin user exist; give the account a fresh
    API key and the user a fresh password, and return both."""
    with Engine.open(database_url) as e:
        if not any(row.name == DEMO_ACCOUNT for row in e.accounts()):
            e.create_account(
                DEMO_ACCOUNT,
                "default",
                {"brand": "Bright Smile Dental", "support_contact": "help@example.com"},
            )
            e.add_sender(DEMO_ACCOUNT, DEMO_SENDER, "long_code", "generic", {"secret": DEMO_SECRET})
            # Six weeks of texting, then a few texts just now, so that the web UI has
            # something to show from the start.
            # Without waiting for the disk at each commit (SQLite): an OS crash while it
            # runs could lose the demo's history, nothing else.
            demo_data.populate(
                lambda clock: Engine(Store.open(database_url, synchronous="OFF"), clock=clock),
                DEMO_ACCOUNT,
                DEMO_SENDER,
                utcnow(),
            )
            for n, (number, text) in enumerate(DEMO_TEXTS, start=1):
                e.receive(DEMO_ACCOUNT, number, DEMO_SENDER, text, f"demo-{n}")
        password = secrets.token_urlsafe(12)
        if any(user.name == DEMO_USER for user, _ in e.users(DEMO_ACCOUNT)):
            e.set_user_password(DEMO_ACCOUNT, DEMO_USER, password)
        else:
            e.add_user(DEMO_ACCOUNT, DEMO_USER, Role.ADMIN, password, Actor("demo", Via.CLI))
        return DemoSignIn(e.issue_api_key(DEMO_ACCOUNT), password)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    demo: Annotated[bool, typer.Option(help="Create a demo account and print its key.")] = False,
) -> None:
    """Run the HTTP service (webhooks, REST API under /v1, docs at /docs, web UI at /ui/)."""
    import uvicorn

    from optline.settings import Settings

    url = ctx.find_root().obj.db
    os.environ["OPTLINE_DATABASE_URL"] = url
    try:
        Settings.from_env()  # a bad setting stops here, with its name, not in a worker
        # Migrate once here, so worker processes never race to create the schema.
        with Engine.open(url) as opened:
            sealing = opened.store.sealer.sealing
        signs_in = demo_sign_in(url) if demo else None
    except (OptlineError, ValueError) as exc:
        fail(str(exc))
    base = f"http://{host}:{port}"
    typer.echo(f"optline on {base}  (database {url})")
    typer.echo(f"  Web UI:        {base}/ui/")
    typer.echo(f"  API docs:      {base}/docs")
    typer.echo(f"  OpenAPI:       {base}/openapi.json")
    typer.echo(f"  Webhooks:      {base}/webhooks/twilio | /webhooks/telnyx | /webhooks/generic")
    if not sealing:
        typer.echo(f"  Secrets:       stored as given; set {SECRET_KEY_ENV} to seal them at rest")
    if signs_in is not None:
        key = signs_in.key
        typer.echo(f"  Demo account:  {DEMO_ACCOUNT}, sender {DEMO_SENDER} (generic webhook)")
        typer.echo(f"  Demo user:     {DEMO_USER} (admin), password {signs_in.password}")
        typer.echo(f"  Demo API key:  {key}")
        typer.echo(f"  Try:           curl -H 'Authorization: Bearer {key}' {base}/v1/account")
    uvicorn.run(
        "optline.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
