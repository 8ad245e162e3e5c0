"""Per-contact proof: a contact's ledger events with their chain hashes.

A proof is a JSON document that anyone can check offline, without optline's database:
each event's hash must equal ``sha256(prev_hash + canonical(event))`` (see
:mod:`optline.store.ledger`), events must be in increasing ``seq`` order, and where two
events are adjacent in the account's chain (``seq`` and ``seq + 1``) the second must
link to the first. The account's chain head at export time is included, so the proof
can later be matched against a full ledger export.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from optline.store import AccountRow, StoredEvent, VerifyResult
from optline.store.ledger import event_hash, parse_timestamp, timestamp

FORMAT = "optline-proof/1"


def proof_document(
    account: AccountRow, phone: str, events: Sequence[StoredEvent], chain: VerifyResult
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "account": {"id": account.id, "name": account.name},
        "phone": phone,
        "exported_at": timestamp(datetime.now(UTC)),
        "chain_verified": chain.ok,
        "chain_length": chain.checked,
        "events": [
            {
                "seq": e.seq,
                "type": e.type,
                "phone": e.phone,
                "data": e.data,
                "occurred_at": timestamp(e.occurred_at),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ],
    }


def check_proof(document: Any) -> list[str]:
    """Problems found in a proof document; an empty list means it checks out."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return [f"not an {FORMAT} document"]
    try:
        account_id = int(document["account"]["id"])
        events = list(document["events"])
    except (KeyError, TypeError, ValueError):
        return ["document lacks account id or events"]
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
    return problems
