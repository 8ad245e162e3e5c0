"""Signed checkpoints of the transparency log, and the key that signs them: no database.

A checkpoint states the log's size, its Merkle root (:mod:`optline.domain.merkle`) and
when it was made, signed with the deployment's Ed25519 key. Its text is what a third
party keeps and checks with the public key alone::

    optline-checkpoint/1
    size 1042
    root 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328
    time 2026-12-07T18:00:00.000000Z

    signature 1f2e3d4c 3q2+7w…(base64, 64 bytes)

The signature covers the four lines above the blank one, each ending in a newline,
as UTF-8. ``1f2e3d4c`` names the key: the first four bytes of SHA-256 of its public key.

Keys come from ``OPTLINE_LOG_KEY``: base64 Ed25519 seeds of 32 bytes, comma-separated,
as ``OPTLINE_SECRET_KEY`` holds its keys (:mod:`optline.store.sealed`): the first signs,
every one's public key is trusted, so a key is replaced by putting the new one first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import nacl.exceptions
import nacl.signing

from optline.store.ledger import parse_timestamp, timestamp

#: The environment variable with the signing keys.
LOG_KEY_ENV = "OPTLINE_LOG_KEY"
FORMAT = "optline-checkpoint/1"


class BadCheckpoint(ValueError):
    """A checkpoint's text is malformed, or its signature does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    size: int
    root: bytes
    time: datetime

    def body(self) -> bytes:
        """The signed part of the text."""
        lines = (
            FORMAT,
            f"size {self.size}",
            f"root {self.root.hex()}",
            f"time {timestamp(self.time)}",
        )
        return "".join(f"{line}\n" for line in lines).encode("utf-8")


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).digest()[:4].hex()


def public_key_text(key: nacl.signing.VerifyKey) -> str:
    """A public key as published: base64 of its 32 bytes."""
    return base64.b64encode(bytes(key)).decode("ascii")


def verify_key(text: str) -> nacl.signing.VerifyKey:
    """A public key from :func:`public_key_text`'s form."""
    try:
        raw = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BadCheckpoint(f"the public key is not base64: {exc}") from None
    if len(raw) != 32:
        raise BadCheckpoint("the public key is not 32 bytes")
    return nacl.signing.VerifyKey(raw)


def new_key() -> str:
    """A fresh random signing key, in the form ``OPTLINE_LOG_KEY`` takes."""
    return base64.urlsafe_b64encode(bytes(nacl.signing.SigningKey.generate())).decode()


@dataclass(frozen=True)
class LogKeys:
    """The keys of the log: the first signs, every one's public key is trusted."""

    keys: tuple[nacl.signing.SigningKey, ...]

    @classmethod
    def from_keys(cls, text: str) -> LogKeys:
        keys = []
        for n, part in enumerate(text.split(","), start=1):
            if not part.strip():
                continue
            try:
                seed = base64.urlsafe_b64decode(part.strip().encode("ascii"))
            except (binascii.Error, UnicodeEncodeError):
                seed = b""
            if len(seed) != 32:
                raise ValueError(
                    f"{LOG_KEY_ENV}: key {n} is not 32 bytes in base64"
                    " (make one with: optline ledger new-key)"
                )
            keys.append(nacl.signing.SigningKey(seed))
        if not keys:
            raise ValueError(f"{LOG_KEY_ENV} holds no key")
        return cls(tuple(keys))

    @classmethod
    def from_env(cls) -> LogKeys | None:
        """The keys ``OPTLINE_LOG_KEY`` holds; None when it is unset."""
        text = os.environ.get(LOG_KEY_ENV, "")
        return cls.from_keys(text) if text.strip() else None

    @property
    def public_keys(self) -> list[nacl.signing.VerifyKey]:
        return [k.verify_key for k in self.keys]

    def sign(self, checkpoint: Checkpoint) -> str:
        """The checkpoint's text, signed with the first key."""
        body = checkpoint.body()
        signature = self.keys[0].sign(body).signature
        kid = key_id(bytes(self.keys[0].verify_key))
        return f"{body.decode('utf-8')}\nsignature {kid} {base64.b64encode(signature).decode()}\n"


def open_checkpoint(text: str, public_keys: Iterable[nacl.signing.VerifyKey]) -> Checkpoint:
    """The checkpoint a signed text states, once its signature verifies with one of
    ``public_keys``; :class:`BadCheckpoint` says what is wrong otherwise."""
    body, blank, signature_line = text.partition("\n\n")
    if not blank:
        raise BadCheckpoint("no signature line after a blank line")
    lines = body.split("\n")
    if len(lines) != 4 or lines[0] != FORMAT:
        raise BadCheckpoint(f"not an {FORMAT} text")
    fields = dict(line.partition(" ")[::2] for line in lines[1:])
    try:
        checkpoint = Checkpoint(
            int(fields["size"]), bytes.fromhex(fields["root"]), parse_timestamp(fields["time"])
        )
    except (KeyError, ValueError) as exc:
        raise BadCheckpoint(f"malformed checkpoint: {exc}") from None
    if checkpoint.size < 0 or len(checkpoint.root) != 32:
        raise BadCheckpoint("malformed checkpoint: bad size or root")
    if checkpoint.body() != (body + "\n").encode("utf-8"):
        raise BadCheckpoint("the checkpoint's text is not in its canonical form")
    words = signature_line.strip().split(" ")
    if len(words) != 3 or words[0] != "signature":
        raise BadCheckpoint("malformed signature line")
    try:
        signature = base64.b64decode(words[2], validate=True)
    except binascii.Error:
        raise BadCheckpoint("the signature is not base64") from None
    for key in public_keys:
        if key_id(bytes(key)) != words[1]:
            continue
        try:
            key.verify(checkpoint.body(), signature)
        except nacl.exceptions.BadSignatureError:
            raise BadCheckpoint("the signature does not verify: the text was altered") from None
        return checkpoint
    raise BadCheckpoint(f"signed by key {words[1]}, which is not a trusted key")
