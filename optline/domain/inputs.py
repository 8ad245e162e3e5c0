"""What each kind of input may hold: one rule per input, for every way in.

The engine applies these rules before anything is written, and the REST API, the CLI
and the web UI all go through the engine: a value one of them refuses, the others
refuse too, with the same :class:`~optline.errors.BadInput` (HTTP 422 with its code,
CLI exit 2 with one line, the web UI's error page). Pure: no I/O.
"""

from __future__ import annotations

from optline.errors import BadInput, TextTooLong

#: An inbound text is read, classified and stored whole up to this many characters
#: (Unicode code points, as Python counts them). The SMS format numbers at most 255
#: segments of one concatenated message: at most 39,015 GSM-7 characters or 17,085
#: UCS-2 ones. Gateways that join segments or carry MMS text deliver more than the
#: 1,600 characters Twilio's inbound texts stop at, but no carrier delivers a text
#: anywhere near this long; only such a text is refused (:class:`TextTooLong`).
MAX_INBOUND_CHARS = 64 * 1024

#: An outbound text (a send, a broadcast, a trigger's reply) holds at most this many
#: characters: the most Twilio's Messages API takes as one message's body (a longer
#: one is refused there, error 21617), about ten concatenated segments.
MAX_OUTBOUND_CHARS = 1600


def text(value: str, what: str, max_chars: int | None = None) -> str:
    """``value`` when every database stores it (no NUL, no unpaired surrogate) and it
    holds at most ``max_chars`` characters; else :class:`BadInput` naming ``what``."""
    if max_chars is not None and len(value) > max_chars:
        raise BadInput(f"{what} is longer than {max_chars} characters")
    if "\x00" in value:
        raise BadInput(f"{what} contains a NUL character")
    try:
        value.encode("utf-8")  # refuses surrogates, in C, where a scan in Python is per character
    except UnicodeEncodeError:
        raise BadInput(f"{what} contains unpaired UTF-16 surrogates") from None
    return value


def inbound_text(body: str) -> str:
    """An inbound text, whole: refused only past :data:`MAX_INBOUND_CHARS`."""
    if len(body) > MAX_INBOUND_CHARS:
        raise TextTooLong(
            f"the text is {len(body)} characters long: an inbound text holds at most "
            f"{MAX_INBOUND_CHARS} characters (64 Ki), more than any carrier delivers"
        )
    return text(body, "message body")


def outbound_text(body: str, what: str = "message body", *, required: bool = True) -> str:
    """An outbound text of at most :data:`MAX_OUTBOUND_CHARS` characters; empty only
    where not ``required`` (a check whether a contact may be texted at all)."""
    if required and not body.strip():
        raise BadInput(f"{what} is empty")
    return text(body, what, MAX_OUTBOUND_CHARS)
