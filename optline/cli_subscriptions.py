"""``optline subscriptions``: event webhooks, the account's consent events POSTed,
signed, to a URL."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.cli_common import AccountOpt, JsonOpt, emit, engine

subscriptions_app = typer.Typer(
    help="Event webhooks: consent changes POSTed, signed, to a URL.", no_args_is_help=True
)


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
