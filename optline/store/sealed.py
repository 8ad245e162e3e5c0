"""Secrets sealed at rest: provider credentials and event-webhook signing secrets.

With ``OPTLINE_SECRET_KEY`` set, they are stored encrypted and authenticated (NaCl's
SecretBox: XSalsa20-Poly1305), so a copy of the database (a backup, a dump, a stolen
disk image) does not hand out the auth tokens that send texts in the business's name.
The variable holds one or more keys, separated by commas: the first seals, every one
opens, so a key is replaced by putting the new one first and running ``optline secrets
seal``. Without a key, secrets are stored as given (and the service says so at start).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

import nacl.exceptions
import nacl.secret
import nacl.utils

from optline.errors import CredentialsUnavailable

#: The environment variable with the keys.
SECRET_KEY_ENV = "OPTLINE_SECRET_KEY"
# A sealed text starts with this; a sealed credentials document has this one field.
SEALED = "optline:sealed:"


def new_key() -> str:
    """A fresh random key, in the form ``OPTLINE_SECRET_KEY`` takes."""
    return base64.urlsafe_b64encode(nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)).decode()


@dataclass(frozen=True)
class Sealer:
    """Seals and opens secrets with the configured keys (none: stored as given)."""

    boxes: tuple[nacl.secret.SecretBox, ...] = ()

    @classmethod
    def from_keys(cls, keys: str | None) -> Sealer:
        """From ``OPTLINE_SECRET_KEY``'s form: base64 keys of 32 bytes, comma-separated."""
        boxes = []
        for n, text in enumerate((keys or "").split(","), start=1):
            if not text.strip():
                continue
            try:
                key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
            except (binascii.Error, UnicodeEncodeError):
                key = b""
            if len(key) != nacl.secret.SecretBox.KEY_SIZE:
                raise ValueError(
                    f"{SECRET_KEY_ENV}: key {n} is not 32 bytes in base64"
                    " (make one with: optline secrets new-key)"
                )
            boxes.append(nacl.secret.SecretBox(key))
        return cls(tuple(boxes))

    @classmethod
    def from_env(cls) -> Sealer:
        return cls.from_keys(os.environ.get(SECRET_KEY_ENV))

    @property
    def sealing(self) -> bool:
        return bool(self.boxes)

    def seal_text(self, text: str) -> str:
        if not self.boxes:
            return text
        sealed = self.boxes[0].encrypt(text.encode("utf-8"))
        return SEALED + base64.urlsafe_b64encode(bytes(sealed)).decode("ascii")

    def open_text(self, stored: str) -> str:
        if not stored.startswith(SEALED):
            return stored  # stored before a key was set: ``optline secrets seal`` seals it
        if not self.boxes:
            raise CredentialsUnavailable(
                f"a secret is sealed and {SECRET_KEY_ENV} is not set: set the key it was"
                " sealed with"
            )
        sealed = base64.urlsafe_b64decode(stored[len(SEALED) :].encode("ascii"))
        for box in self.boxes:
            try:
                return box.decrypt(sealed).decode("utf-8")
            except nacl.exceptions.CryptoError:
                continue
        raise CredentialsUnavailable(
            f"a secret is sealed with a key that {SECRET_KEY_ENV} does not hold"
        )

    def seal_credentials(self, credentials: Mapping[str, str]) -> dict[str, str]:
        if not self.boxes:
            return dict(credentials)
        return {SEALED: self.seal_text(json.dumps(dict(credentials), sort_keys=True))}

    def open_credentials(self, stored: Mapping[str, str]) -> dict[str, str]:
        if SEALED not in stored:
            return dict(stored)
        opened: dict[str, str] = json.loads(self.open_text(stored[SEALED]))
        return opened
