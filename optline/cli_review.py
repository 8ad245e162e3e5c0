"""``optline review``: the queue of replies flagged as possible opt-outs, listed (open
ones, newest first, a page at a time, with the exact count) and resolved by the
``--actor`` (else the OS user): ``opt-out`` or ``dismiss`` with a reason. Exit codes
as the rest of the CLI (2: unknown or already resolved flag, missing reason)."""

from __future__ import annotations

from typing import Annotated

import typer

from optline.cli_common import AccountOpt, JsonOpt, actor_of, emit, engine
from optline.domain.review import Resolution

review_app = typer.Typer(
    help="Replies flagged as possible opt-outs: list and resolve them.", no_args_is_help=True
)


@review_app.command("list")
def list_flags(
    ctx: typer.Context,
    account: AccountOpt,
    before: Annotated[
        int | None, typer.Option(help="Flags older than this one (the last page's next).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Flags per page.")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """The open flags, newest first, and how many are open in all."""
    with engine(ctx) as e:
        page = e.flagged(account, before, limit)
    data = {"flagged": [f.as_dict() for f in page.flags], "next": page.next, "open": page.open}
    lines = [f"{f.seq}\t{f.phone}\t{f.sender or ''}\t{f.reason}" for f in page.flags]
    lines.append(f"{page.open} open" + (f"; next page: --before {page.next}" if page.next else ""))
    emit(data, as_json, "\n".join(lines))


def _resolve(
    ctx: typer.Context,
    account: str,
    seq: int,
    resolution: Resolution,
    why: str | None,
    as_json: bool,
) -> None:
    with engine(ctx) as e:
        flag = e.resolve_flag(account, seq, resolution, actor_of(ctx), why)
    emit(flag.as_dict(), as_json, f"flag {flag.seq} ({flag.phone}): {flag.resolution}")


@review_app.command("opt-out")
def opt_out(
    ctx: typer.Context,
    seq: int,
    account: AccountOpt,
    note: Annotated[str | None, typer.Option(help="A note on the opt-out.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The flagged reply was a revocation: opt the contact out, as that reply would
    have as a keyword (the opted_out event names the flag)."""
    _resolve(ctx, account, seq, Resolution.OPTED_OUT, note, as_json)


@review_app.command("dismiss")
def dismiss(
    ctx: typer.Context,
    seq: int,
    account: AccountOpt,
    reason: Annotated[str, typer.Option(help="Why the reply is not a revocation.")],
    as_json: JsonOpt = False,
) -> None:
    """The flagged reply was not a revocation: a flag_dismissed event records who and
    why; consent stays as it was."""
    _resolve(ctx, account, seq, Resolution.DISMISSED, reason, as_json)
