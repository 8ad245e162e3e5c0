"""Phone numbers in E.164, through the ``phonenumbers`` library."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """A number that cannot be read as a valid phone number."""


@lru_cache(maxsize=100_000)
def to_e164(raw: str, default_region: str = "US") -> str:
    """Normalise ``raw`` ("(415) 555-2671", "+44 20 7946 0958") to E.164 or raise."""
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    if len(text) > 64:
        raise InvalidPhoneNumber("phone number longer than 64 characters")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"cannot read {text!r} as a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
