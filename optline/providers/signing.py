"""Timestamped HMAC-SHA256 signatures: ``t=<unix>,v1=<hex>``.

One scheme for the generic inbound webhook and for optline's own event-webhook
deliveries: the MAC covers ``f"{t}.{raw body}"`` so neither can be replayed with
another timestamp, and a tolerance window limits replays of whole requests.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from optline.providers.base import SignatureError

HEADER = "X-Optline-Signature"
TOLERANCE_SECONDS = 300
SCHEME = "v1"


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def compute(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{body}"``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body``: ``t=<unix>,v1=<hex>``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},{SCHEME}={compute(secret, body, t)}"


def parse_header(header: str) -> tuple[int, list[str]]:
    """Split ``t=...,v1=...[,v1=...]`` into the timestamp and candidate signatures."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                raise SignatureError("signature timestamp is not a unix time")
            timestamp = int(value)
        elif name == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("signature header has no timestamp")
    if not signatures:
        raise SignatureError(f"signature header has no {SCHEME} signature")
    return timestamp, signatures


def check_freshness(timestamp: int, now: float | None, tolerance: int) -> None:
    """Refuse a timestamp more than ``tolerance`` seconds from ``now``, either way."""
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("signature timestamp is outside the allowed window")


def verify(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise SignatureError.

    Several ``v1`` values are accepted (any one may match) so a secret can be rotated.
    """
    if not header:
        raise SignatureError(f"missing {HEADER} header")
    timestamp, candidates = parse_header(header)
    check_freshness(timestamp, now, tolerance)
    expected = compute(secret, body, timestamp).encode("ascii")
    # Compare every candidate (constant time each) so timing does not reveal which failed.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    if not matched:
        raise SignatureError("signature does not match")
    return timestamp
