"""``optline ledger``: the hash-chained event ledger, verified (its chains, and the
stored consent against their replay), repaired (the consent tables rebuilt from the
events) and a contact's proof checked offline. Exit codes as the rest of the CLI: 1
when ``verify`` or ``check-proof`` finds something wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from optline.cli_common import AccountOpt, engine, fail
from optline.proof import check_proof
from optline.store.checkpoint import (
    LOG_KEY_ENV,
    BadCheckpoint,
    LogKeys,
    new_key,
    open_checkpoint,
    public_key_text,
    verify_key,
)

ledger_app = typer.Typer(help="The hash-chained event ledger.", no_args_is_help=True)


@ledger_app.command("check-proof")
def ledger_check_proof(
    file: Path,
    key: Annotated[
        str | None,
        typer.Option("--key", help="The log's public key (base64); default: the proof's."),
    ] = None,
) -> None:
    """Check a contact proof (GET /v1/contacts/{phone}/proof) offline: its events'
    chain hashes, the log checkpoint's signature, and each event's inclusion in the
    log; exit 1 if anything is wrong."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read {file}: {exc}")
    checked = check_proof(document, key)
    for problem in checked.problems:
        typer.echo(problem)
    if checked.problems:
        raise typer.Exit(1)
    count, texts = len(document["events"]), document.get("messages", [])
    redacted = sum(1 for m in texts if isinstance(m, dict) and m.get("redacted"))
    line = f"ok: {count} events and {len(texts)} messages ({redacted} redacted) check out"
    if checked.log_size is not None:
        line += f"; {checked.in_log} events in the log under checkpoint {checked.log_size}"
        if checked.in_log < count:
            line += f" ({count - checked.in_log} not sequenced when exported)"
    typer.echo(line)


@ledger_app.command("new-key")
def ledger_new_key() -> None:
    """Print a fresh random key for OPTLINE_LOG_KEY, which signs the log's checkpoints."""
    typer.echo(new_key())


@ledger_app.command("public-key")
def ledger_public_key() -> None:
    """Print the public key of each key in OPTLINE_LOG_KEY, the signing one first:
    what a third party needs to check checkpoints and proofs."""
    try:
        keys = LogKeys.from_env()
    except ValueError as exc:
        fail(str(exc))
    if keys is None:
        fail(f"{LOG_KEY_ENV} is not set")
    for key in keys.public_keys:
        typer.echo(public_key_text(key))


@ledger_app.command("check-checkpoint")
def ledger_check_checkpoint(
    file: Path,
    key: Annotated[str, typer.Option("--key", help="The log's public key (base64).")],
) -> None:
    """Check a signed checkpoint's signature with the log's public key; exit 1 if bad."""
    try:
        text = file.read_text(encoding="utf-8")
        public = verify_key(key)
    except OSError as exc:
        fail(f"cannot read {file}: {exc}")
    except BadCheckpoint as exc:
        fail(str(exc))
    try:
        checkpoint = open_checkpoint(text, [public])
    except BadCheckpoint as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from None
    typer.echo(f"ok: size {checkpoint.size}, root {checkpoint.root.hex()}")


@ledger_app.command("verify")
def ledger_verify(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Also check this account's every event and contact."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Check everything: every account and the whole log."),
    ] = False,
) -> None:
    """Check the transparency log from the last verified checkpoint to the newest: that
    it extends it, that the new entries are the events stored, and that the contacts
    they touched have the consent, review flags and texts their events say. --full
    checks every account's events (sealed chains, hashes), every contact against its
    events' replay, and the whole log from its first entry. Exit 1 naming the first
    bad event, contact, message or log entry."""
    with engine(ctx) as e:
        results = e.verify(None if full else account) if full or account else []
        log = e.verify_log(full=full)
    for result in results:
        if result.ok:
            typer.echo(f"{result.account}: ok, {result.checked} events")
        else:
            where = _mismatch(result.message, result.contact)
            where = where or f"BROKEN at event #{result.first_bad_seq}"
            typer.echo(f"{result.account}: {where}: {result.problem}")
    waiting = f"{log.pending} unsequenced"
    if log.oldest_pending_age is not None:
        waiting += f" (oldest {log.oldest_pending_age:.1f} s)"
    if log.ok:
        typer.echo(f"log: ok, size {log.size}, {log.checked} entries checked, {waiting}")
    else:
        where = _mismatch(log.message, log.contact) or "BROKEN"
        typer.echo(f"log: {where}: {log.problem}; {waiting}")
    broken = not log.ok or not all(result.ok for result in results)
    if broken:
        raise typer.Exit(1)


def _mismatch(message: int | None, contact: str | None) -> str | None:
    """How a stored text or contact that differs from its events is named."""
    if message is not None:
        return f"MISMATCH at message {message}"
    return None if contact is None else f"MISMATCH at contact {contact}"


@ledger_app.command("sequence")
def ledger_sequence(ctx: typer.Context) -> None:
    """Give every queued event its position in the log now, batch by batch, each
    ending in a signed checkpoint (the service's worker does this on its own)."""
    with engine(ctx) as e:
        checkpoint = e.sequence_pending()
    if checkpoint is None:
        typer.echo("nothing to sequence")
    else:
        typer.echo(f"log: size {checkpoint.size}, root {checkpoint.root.hex()}")


@ledger_app.command("checkpoint")
def ledger_checkpoint(ctx: typer.Context) -> None:
    """Print the log's newest signed checkpoint, as a third party keeps it."""
    with engine(ctx) as e:
        text = e.newest_checkpoint()
    if text is None:
        fail("the log has no checkpoint yet: run optline ledger sequence")
    typer.echo(text, nl=False)


@ledger_app.command("repair")
def ledger_repair(ctx: typer.Context, account: AccountOpt) -> None:
    """Rebuild the account's consent tables from its ledger (refused, exit 2, while
    its chain is broken); prints each contact rewritten."""
    with engine(ctx) as e:
        repaired = e.repair(account)
    for phone in repaired:
        typer.echo(f"{phone}: rewritten from the ledger")
    typer.echo(f"{account}: {len(repaired)} contact(s) repaired")
