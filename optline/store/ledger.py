"""An event's hashes: pure functions, no database.

Each event's hash is ``sha256(prev_hash + canonical(event))``, hex-encoded, where the
canonical form is JSON with sorted keys, no whitespace, UTF-8, over the event's
account id, seq, type, phone, data and occurred_at (ISO 8601 UTC with microseconds).
Events recorded before the transparency log formed one hash chain per account, the
first chained from :data:`GENESIS`, each later one from the hash before it; those chains
are sealed as they are. Events recorded since are :data:`UNCHAINED` (their
``prev_hash`` is empty, so their hash is ``sha256(canonical(event))``): the log, where
each is a leaf (:func:`event_leaf`), is what orders them and holds them in place, and
appending one needs no account-wide head. An offline checker needs only this module
and the exported rows.

A text an event refers to is committed by :func:`body_sha256` of its body, named in
the event's data (``message_sha256``, ``reply_sha256``): the body itself stays in the
messages table, where it may be redacted without breaking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from optline.domain.merkle import leaf_hash

GENESIS = "0" * 64
#: The ``prev_hash`` of an event recorded since the log: chained to nothing.
UNCHAINED = ""


def utc(at: datetime) -> datetime:
    """``at`` in UTC; naive datetimes are refused (their zone is unknowable)."""
    if at.tzinfo is UTC:  # as the engine's clock gives them
        return at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"timestamp {at.isoformat()} has no time zone")
    return at.astimezone(UTC)


def timestamp(at: datetime) -> str:
    """The canonical text of a timestamp: ``2025-04-11T09:30:00.000000Z``."""
    at = utc(at)
    if at.year < 1000:  # strftime writes such years unpadded, isoformat pads them
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as strftime writes, in two thirds of the time (1.35 against 2.0 µs).
    return at.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    """The moment :func:`timestamp` wrote as ``text``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _jsonable(value: object) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} cannot be stored in an event")


# Built once: json.dumps with options builds an encoder on every call.
_PLAIN = json.JSONEncoder(default=_jsonable, allow_nan=False, ensure_ascii=False)
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable
)
# Values that read back from JSON as they are (not their subclasses: an enum member
# reads back as its plain value).
_AS_THEY_ARE = frozenset({str, int, bool, type(None)})


def plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as plain JSON values, exactly as it reads back from the database."""
    if all(type(k) is str and type(v) in _AS_THEY_ARE for k, v in data.items()):
        return dict(data)  # a consent event's data, as a rule: no JSON round trip
    loaded: dict[str, Any] = json.loads(_PLAIN.encode(data))
    return loaded


def canonical(
    account_id: int,
    seq: int,
    type: str,
    phone: str | None,
    data: Mapping[str, Any],
    occurred_at: datetime | str,
) -> bytes:
    """The event's canonical form; ``occurred_at`` as a moment, or as its
    :func:`timestamp` text already."""
    document = {
        "account_id": account_id,
        "seq": seq,
        "type": type,
        "phone": phone,
        "data": data,
        "occurred_at": occurred_at if isinstance(occurred_at, str) else timestamp(occurred_at),
    }
    if _flat(data) and type.__class__ is str and phone.__class__ in _TEXT_OR_NONE:
        # orjson writes exactly these values as the encoder below does (a property
        # test holds them to it), in an eighth of the time; floats (whose exponents
        # it writes otherwise), nested values and subclasses go the reference way.
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return _CANONICAL.encode(document).encode("utf-8")


_TEXT_OR_NONE = frozenset({str, type(None)})
_INT64 = range(-(2**63), 2**63)


def _flat(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` holds only text keys and text, bool, None or 64-bit int values."""
    for key, value in data.items():
        kind = value.__class__
        if key.__class__ is not str or (
            kind not in _FLAT_VALUES and not (kind is int and value in _INT64)
        ):
            return False
    return True


_FLAT_VALUES = frozenset({str, bool, type(None)})


def event_hash(
    prev_hash: str,
    account_id: int,
    seq: int,
    type: str,
    phone: str | None,
    data: Mapping[str, Any],
    occurred_at: datetime,
) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical(account_id, seq, type, phone, data, occurred_at))
    return digest.hexdigest()


def event_leaf(
    account_id: int,
    seq: int,
    type: str,
    phone: str | None,
    data: Mapping[str, Any],
    occurred_at: datetime | str,
) -> bytes:
    """The event's leaf hash in the transparency log: its canonical form, hashed as
    RFC 9162 hashes leaves (no chain: a verifier needs the event alone)."""
    return leaf_hash(canonical(account_id, seq, type, phone, data, occurred_at))


def body_sha256(body: str) -> str:
    """The SHA-256 of a text's body as stored (its UTF-8 bytes, nothing added), hex."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
