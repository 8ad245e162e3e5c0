"""Per-contact proof: a contact's ledger events with their chain hashes and, once
sequenced, their inclusion proofs in the transparency log against a signed checkpoint;
and the texts the events commit to the chain, with their bodies.

A proof is a JSON document that anyone can check offline, without optline's database:
each event's hash must equal ``sha256(prev_hash + canonical(event))`` (see
:mod:`optline.store.ledger`), events must be in increasing ``seq`` order, and where two
events are adjacent in an account's sealed chain (``seq`` and ``seq + 1``, the second
chained) the second must link to the first; events recorded since the log are unchained
(an empty ``prev_hash``), held in place by their inclusion proofs. Each text an event
commits (``message_sha256`` of ``message_id``,
``reply_sha256`` of ``reply_id``) must be in ``messages`` with that SHA-256, and its
body must hash to it, unless the body was redacted (null). The account's chain head at
export time is included, so the proof can later be matched against a full ledger
export. The same comparison of stored bodies with their commitments is ``verify``'s.

In ``optline-proof/2`` the log's checkpoint's signature must verify with the log's
public key, and each sequenced event's leaf (the SHA-256 of ``0x00`` and its canonical
form) must be at its position under the checkpoint's root by its audit path
(:mod:`optline.domain.merkle`); events not sequenced when the proof was made carry no
position, and the checker counts them. ``optline-proof/1`` documents (chain and texts
only) exported before the log stay checkable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nacl.signing

from optline.domain.merkle import verify_inclusion
from optline.store import AccountRow, MessageRow, StoredEvent, VerifyResult
from optline.store.checkpoint import BadCheckpoint, open_checkpoint, public_key_text, verify_key
from optline.store.ledger import (
    UNCHAINED,
    body_sha256,
    event_hash,
    event_leaf,
    parse_timestamp,
    timestamp,
)

FORMAT = "optline-proof/2"
CHAIN_ONLY = "optline-proof/1"

# The event data fields that commit a text: (its id's field, its SHA-256's field).
_COMMITS = (("message_id", "message_sha256"), ("reply_id", "reply_sha256"))


def commitments(
    events: Iterable[tuple[int, Mapping[str, Any]]],
) -> dict[int, list[tuple[int, str]]]:
    """The texts that events ``(seq, data)`` commit: message id -> ``(seq, sha256)``
    of each event that commits it, in the events' order."""
    found: dict[int, list[tuple[int, str]]] = {}
    for seq, data in events:
        for id_field, hash_field in _COMMITS:
            message_id, digest = data.get(id_field), data.get(hash_field)
            if isinstance(message_id, int) and isinstance(digest, str):
                found.setdefault(message_id, []).append((seq, digest))
    return found


def body_problem(
    message_id: int, body: str | None, commits: Sequence[tuple[int, str]]
) -> str | None:
    """What is wrong with text ``message_id`` whose body is ``body`` (None: redacted)
    against the events that commit it, if anything. A redacted body cannot be checked:
    the chain still holds its hash."""
    if body is None:
        return None
    digest = body_sha256(body)
    for seq, committed in commits:
        if committed != digest:
            return f"message {message_id} was altered: its body is not the one event #{seq} commits"
    return None


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
    messages: Sequence[MessageRow],
    log: LogProof | None,
    consent_texts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The proof of ``phone``; ``messages``: the texts its events commit; ``log``:
    the events' inclusion proofs, once the log has a checkpoint; ``consent_texts``:
    the consent language its events refer to, by SHA-256 (written consent records and
    opt-in confirmations)."""
    committed = commitments((e.seq, e.data) for e in events)
    paths = {} if log is None else log.paths
    return {
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
        "events": [
            {
                "seq": e.seq,
                "type": e.type,
                "phone": e.phone,
                "data": e.data,
                "occurred_at": timestamp(e.occurred_at),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
                "log_position": paths[e.seq][0] if e.seq in paths else None,
                "inclusion": [h.hex() for h in paths[e.seq][1]] if e.seq in paths else None,
            }
            for e in events
        ],
        "messages": [
            {
                "id": m.id,
                "direction": m.direction,
                "sender": m.sender,
                "at": timestamp(m.created_at),
                "body": None if m.redacted_at else m.body,
                "redacted": m.redacted_at is not None,
                "sha256": committed[m.id][0][1],
            }
            for m in messages
            if m.id in committed
        ],
        "consent_texts": dict(sorted((consent_texts or {}).items())),
    }


def check_proof(document: Any, public_key: str | None = None) -> ProofCheck:
    """Check a proof document; ``public_key`` (base64) pins the log's key, which
    otherwise is taken from the document itself."""
    if not isinstance(document, dict) or document.get("format") not in (FORMAT, CHAIN_ONLY):
        return ProofCheck([f"not an {FORMAT} document"])
    try:
        account_id = int(document["account"]["id"])
        events = list(document["events"])
        messages = list(document.get("messages", []))
    except (KeyError, TypeError, ValueError):
        return ProofCheck(["document lacks account id or events"])
    problems = _check_events(account_id, events)
    problems.extend(_check_messages(events, messages))
    problems.extend(_check_consent_texts(document.get("consent_texts") or {}))
    if document["format"] == CHAIN_ONLY:
        return ProofCheck(problems)
    return _check_log(document, account_id, events, public_key, problems)


def _check_events(account_id: int, events: list[Any]) -> list[str]:
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
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(f"event {event.get('seq', '?')}: malformed ({exc})")
            continue
        if expected != event["hash"]:
            problems.append(f"event #{seq}: hash does not match its content")
        if previous is not None:
            if seq <= int(previous["seq"]):
                problems.append(f"event #{seq}: out of order")
            elif (
                seq == int(previous["seq"]) + 1
                and event["prev_hash"] != UNCHAINED
                and event["prev_hash"] != previous["hash"]
            ):
                problems.append(f"event #{seq}: does not link to event #{previous['seq']}")
        previous = event
    return problems


def _check_consent_texts(texts: Any) -> list[str]:
    """Consent language is referred to by its SHA-256: the text shown must be it."""
    if not isinstance(texts, dict):
        return ["consent_texts is not an object"]
    return [
        f"consent text {digest[:12]}: does not match its hash"
        for digest, text in sorted(texts.items())
        if not isinstance(text, str) or body_sha256(text) != digest
    ]


def _check_messages(events: list[Any], messages: list[Any]) -> list[str]:
    """Each committed text is in the proof with the SHA-256 its events commit, and its
    body (unless redacted) hashes to it."""
    try:
        committed = commitments(
            (int(e["seq"]), e["data"]) for e in events if isinstance(e.get("data"), dict)
        )
        shown = {int(m["id"]): m for m in messages}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"messages: malformed ({exc})"]
    problems: list[str] = []
    for message_id, commits in sorted(committed.items()):
        message = shown.get(message_id)
        if message is None:
            problems.append(
                f"message {message_id}, committed by event #{commits[0][0]}, is missing"
            )
            continue
        for seq, digest in commits:
            if message.get("sha256") != digest:
                problems.append(
                    f"message {message_id}: its sha256 is not the one event #{seq} commits"
                )
                break
        body = message.get("body")
        if body is None and message.get("redacted") is not True:
            problems.append(f"message {message_id}: no body, and not marked redacted")
        elif body is not None and not isinstance(body, str):
            problems.append(f"message {message_id}: malformed body")
        else:
            problem = body_problem(message_id, body, commits)
            if problem is not None:
                problems.append(problem)
    for message_id in sorted(set(shown) - set(committed)):
        problems.append(f"message {message_id}: no event in the proof commits it")
    return problems


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
