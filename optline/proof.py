"""Per-contact proof: a contact's ledger events, each with its chain hashes and, once
sequenced, its inclusion proof in the transparency log against a signed checkpoint.

A proof is a JSON document that anyone can check offline, without optline's database
and without any other contact's events:

- each event's hash must equal ``sha256(prev_hash + canonical(event))`` (see
  :mod:`optline.store.ledger`), events must be in increasing ``seq`` order, and where
  two events are adjacent in the account's chain the second must link to the first;
- (``optline-proof/2``) the checkpoint's signature must verify with the log's public
  key, and each sequenced event's leaf (the SHA-256 of ``0x00`` and its canonical form)
  must be at its position under the checkpoint's root, by its audit path
  (:mod:`optline.domain.merkle`). Events not sequenced yet when the proof was made
  carry no position; the checker counts them.

``optline-proof/1`` documents (chain only) exported before the log stay checkable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nacl.signing

from optline.domain.merkle import verify_inclusion
from optline.store import AccountRow, StoredEvent, VerifyResult
from optline.store.checkpoint import BadCheckpoint, open_checkpoint, public_key_text, verify_key
from optline.store.ledger import event_hash, event_leaf, parse_timestamp, timestamp

FORMAT = "optline-proof/2"
CHAIN_ONLY = "optline-proof/1"


@dataclass(frozen=True)
class LogProof:
    """The log's part of a proof: the signed checkpoint, the public keys, and each
    sequenced event's (position, audit path) by its seq."""

    checkpoint: str
    public_keys: Sequence[nacl.signing.VerifyKey]
    paths: Mapping[int, tuple[int, list[bytes]]]


@dataclass(frozen=True)
class ProofCheck:
    """What checking a proof found: its problems, and how many of its events the log
    proved (the others are chain-checked only)."""

    problems: list[str]
    in_log: int = 0
    log_size: int | None = None


def proof_document(
    account: AccountRow,
    phone: str,
    events: Sequence[StoredEvent],
    chain: VerifyResult,
    log: LogProof | None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": FORMAT,
        "account": {"id": account.id, "name": account.name},
        "phone": phone,
        "exported_at": timestamp(datetime.now(UTC)),
        "chain_verified": chain.ok,
        "chain_length": chain.checked,
        "log": None
        if log is None
        else {
            "checkpoint": log.checkpoint,
            "public_keys": [public_key_text(k) for k in log.public_keys],
        },
        "events": [],
    }
    for e in events:
        path = None if log is None else log.paths.get(e.seq)
        document["events"].append(
            {
                "seq": e.seq,
                "type": e.type,
                "phone": e.phone,
                "data": e.data,
                "occurred_at": timestamp(e.occurred_at),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
                "log_position": None if path is None else path[0],
                "inclusion": None if path is None else [h.hex() for h in path[1]],
            }
        )
    return document


def check_proof(document: Any, public_key: str | None = None) -> ProofCheck:
    """Check a proof document; ``public_key`` (base64) pins the log's key, which
    otherwise is taken from the document itself."""
    if not isinstance(document, dict) or document.get("format") not in (FORMAT, CHAIN_ONLY):
        return ProofCheck([f"not an {FORMAT} document"])
    try:
        account_id = int(document["account"]["id"])
        events = list(document["events"])
    except (KeyError, TypeError, ValueError):
        return ProofCheck(["document lacks account id or events"])
    problems: list[str] = []
    previous: dict[str, Any] | None = None
    for event in events:
        try:
            seq = int(event["seq"])
            expected = event_hash(
                str(event["prev_hash"]),
                account_id,
                seq,
                str(event["type"]),
                event["phone"],
                event["data"],
                parse_timestamp(str(event["occurred_at"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"event {event.get('seq', '?')}: malformed ({exc})")
            continue
        if expected != event["hash"]:
            problems.append(f"event #{seq}: hash does not match its content")
        if previous is not None:
            if seq <= int(previous["seq"]):
                problems.append(f"event #{seq}: out of order")
            elif seq == int(previous["seq"]) + 1 and event["prev_hash"] != previous["hash"]:
                problems.append(f"event #{seq}: does not link to event #{previous['seq']}")
        previous = event
    if document["format"] == CHAIN_ONLY:
        return ProofCheck(problems)
    return _check_log(document, account_id, events, public_key, problems)


def _check_log(
    document: dict[str, Any],
    account_id: int,
    events: list[Any],
    public_key: str | None,
    problems: list[str],
) -> ProofCheck:
    log = document.get("log")
    sequenced = [e for e in events if isinstance(e, dict) and e.get("log_position") is not None]
    if log is None:
        if sequenced:
            problems.append("events carry log positions but the proof has no checkpoint")
        return ProofCheck(problems)
    try:
        keys = (
            [verify_key(public_key)] if public_key else [verify_key(k) for k in log["public_keys"]]
        )
        checkpoint = open_checkpoint(str(log["checkpoint"]), keys)
    except (BadCheckpoint, KeyError, TypeError) as exc:
        problems.append(f"the log's checkpoint: {exc}")
        return ProofCheck(problems)
    proved = 0
    for event in sequenced:
        try:
            leaf = event_leaf(
                account_id,
                int(event["seq"]),
                str(event["type"]),
                event["phone"],
                event["data"],
                parse_timestamp(str(event["occurred_at"])),
            )
            path = [bytes.fromhex(h) for h in event["inclusion"]]
            position = int(event["log_position"])
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"event {event.get('seq', '?')}: malformed log proof ({exc})")
            continue
        if verify_inclusion(leaf, position, checkpoint.size, path, checkpoint.root):
            proved += 1
        else:
            problems.append(
                f"event #{event['seq']}: not in the log at position {position} under"
                f" checkpoint {checkpoint.size}"
            )
    return ProofCheck(problems, proved, checkpoint.size)
