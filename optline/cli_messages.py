"""``optline messages``: sends whose outcome nobody knows, listed, reconciled from the
provider's own record, or settled by hand; and a text's body redacted (see docs/cli.md
and docs/operations.md).

Exit codes as the rest of the CLI: 0 done; 2 bad input, one line on stderr; and 1 from
``reconcile`` when a send is still left for an operator after it.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Annotated, Any

import typer

from optline.cli_common import AccountOpt, JsonOpt, actor_of, emit, engine, fail
from optline.domain.messages import QUEUED_TOO_LONG_SECONDS, UNSETTLED, SettledAs, Via
from optline.store import MessageRow

messages_app = typer.Typer(
    help="Sends left queued or sending (list, reconcile, settle by hand); redact a text.",
    no_args_is_help=True,
)

OlderThan = Annotated[
    int,
    typer.Option(
        "--older-than",
        help="List queued sends recorded more than this many seconds ago.",
        show_default=True,
    ),
]


def message_dict(m: MessageRow) -> dict[str, Any]:
    return {
        "id": m.id,
        "status": m.status,
        "reason": m.reason,
        "phone": m.phone,
        "sender": m.sender,
        "body": m.body,
        "reply": m.reply,
        "provider_id": m.provider_id,
        "at": m.created_at.isoformat(),
        "redacted_at": m.redacted_at.isoformat() if m.redacted_at else None,
    }


def _line(m: MessageRow) -> str:
    body = m.body if len(m.body) <= 40 else m.body[:39] + "…"
    at = f"{m.created_at:%Y-%m-%d %H:%M:%S}Z"
    return f"#{m.id}  {m.status:<7}  {at}  {m.sender} -> {m.phone}  {body!r}"


@messages_app.command("unsettled")
def unsettled(
    ctx: typer.Context,
    account: AccountOpt,
    older_than: OlderThan = QUEUED_TOO_LONG_SECONDS,
    as_json: JsonOpt = False,
) -> None:
    """List the sends whose outcome nobody knows.

    Every send left sending (its hand-over got no answer) and those queued for longer
    than --older-than (their hand-over never began), oldest first."""
    if older_than < 0:
        fail("--older-than: a number of seconds, 0 or more")
    wait = timedelta(seconds=older_than)
    with engine(ctx) as e:
        rows = e.unsettled_sends(account, wait)
        counts = e.unsettled_counts(account, wait)
    data = {
        "older_than": older_than,
        "counts": {status.value: counts[status] for status in UNSETTLED},
        "messages": [message_dict(m) for m in rows],
    }
    summary = (
        f"{sum(counts.values())} unsettled: {counts[UNSETTLED[0]]} queued for over"
        f" {older_than} s, {counts[UNSETTLED[1]]} sending"
    )
    emit(data, as_json, "\n".join([*(_line(m) for m in rows), summary]))


@messages_app.command("reconcile")
def reconcile(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Settle sends left sending from their provider's record.

    Sent (with the provider's id) or failed (with its error). Exit 1 when some are left
    for an operator: no record at the provider, a provider that cannot be asked
    (Telnyx, generic gateways), or one that could not be reached."""
    from optline.providers.registry import Dispatcher
    from optline.settings import Settings

    try:
        urls = Settings.from_env().provider_urls
    except ValueError as exc:
        fail(str(exc))
    dispatcher = Dispatcher(urls)
    try:
        with engine(ctx) as e:
            results = e.reconcile(dispatcher.look_up, account, actor_of(ctx).by, Via.CLI)
    finally:
        dispatcher.close()
    settled = [r for r in results if r.outcome.settled]
    left = [r for r in results if not r.outcome.settled]
    lines = [
        f"{r.account} #{r.message_id} {r.phone}: {r.outcome.value}"
        + (f" {r.provider_id}" if r.provider_id and r.outcome.settled else "")
        + (f" ({r.reason})" if r.reason else "")
        + (f": {r.detail}" if r.detail else "")
        for r in results
    ]
    tally = Counter(r.outcome.value for r in settled)
    lines.append(
        f"{len(results)} sending: {tally['sent']} settled sent, {tally['failed']} settled"
        f" failed, {len(left)} left for an operator"
    )
    data = {
        "settled": len(settled),
        "left": len(left),
        "results": [r.as_dict() for r in results],
    }
    emit(data, as_json, "\n".join(lines))
    if left:
        raise typer.Exit(1)


@messages_app.command("settle")
def settle(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="The message's id.")],
    account: AccountOpt,
    settled_as: Annotated[SettledAs, typer.Option("--as", help="How the send ended.")],
    reason: Annotated[
        str, typer.Option("--reason", help="How you know (kept on the contact's ledger).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Settle a send left queued or sending by hand, with a reason.

    A send_settled event on the contact's ledger records it, by ``--actor`` (else the
    OS user), with the reason."""
    with engine(ctx) as e:
        row = e.settle(account, message_id, settled_as, reason, actor_of(ctx).by, Via.CLI)
    emit(message_dict(row), as_json, f"#{row.id} {row.phone}: {row.status} ({row.reason})")


@messages_app.command("redact")
def redact(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="The message's id.")],
    account: AccountOpt,
    reason: Annotated[
        str,
        typer.Option("--reason", help="The request it answers (kept on the contact's ledger)."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Erase a text's body, on a deletion request.

    A message_redacted event on the contact's ledger records it, by ``--actor`` (else
    the OS user), with the reason and the SHA-256 of the body erased: the ledger and
    the contact's proof still verify."""
    with engine(ctx) as e:
        row = e.redact_message(account, message_id, reason, actor_of(ctx))
    emit(message_dict(row), as_json, f"#{row.id} {row.phone}: body redacted")
