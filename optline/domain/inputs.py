"""What each kind of input may hold: one rule per input, for every way in.

The engine applies these rules before anything is written, and the REST API, the CLI
and the web UI all go through the engine: a value one of them refuses, the others
refuse too, with the same :class:`~optline.errors.BadInput` (HTTP 422 with its code,
CLI exit 2 with one line, the web UI's error page). Pure: no I/O.

Phone numbers follow :mod:`optline.domain.phone`, keywords
:func:`optline.domain.text.normalise_keyword`, provider credentials
:mod:`optline.providers.credentials`.
"""

from __future__ import annotations

import httpx

from optline.domain.purposes import check_name
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


MAX_ACCOUNT_NAME_CHARS = 200
MAX_LIST_NAME_CHARS = 100
MAX_KEYWORD_CHARS = 100
MAX_NOTE_CHARS = 500
#: Who made a manual change: an API key's name, a CLI user.
MAX_ACTOR_CHARS = 200
MAX_EVIDENCE_CHARS = 2000
MAX_URL_CHARS = 2000


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


def optional_text(value: str | None, what: str, max_chars: int) -> str | None:
    """:func:`text` for a value that may be left out."""
    return None if value is None else text(value, what, max_chars)


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


def account_name(raw: str) -> str:
    name = text(raw.strip(), "account name", MAX_ACCOUNT_NAME_CHARS)
    if not name:
        raise BadInput("account name is empty")
    return name


def list_name(raw: str) -> str:
    """A list's name, which also stands in the API's paths (/v1/lists/{name}/members),
    percent-encoded as any path segment is: printable characters, no "/", neither "."
    nor ".."."""
    name = text(raw.strip(), "list name", MAX_LIST_NAME_CHARS)
    if not name:
        raise BadInput("list name is empty")
    if not name.isprintable():
        raise BadInput("list name: only printable characters (no tabs, line breaks or controls)")
    if "/" in name:
        raise BadInput('list name: a "/" would split the name in the list\'s paths')
    if name in (".", ".."):
        raise BadInput('list name: "." and ".." are not names a path can hold')
    return name


def purpose(raw: str) -> str:
    """A purpose's name (optline.domain.purposes.check_name), spaces around it aside."""
    try:
        return check_name(raw.strip())
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def keyword(raw: str) -> str:
    """An account keyword as given (its keyword form is the engine's to make)."""
    return text(raw, "keyword", MAX_KEYWORD_CHARS)


def note(raw: str | None) -> str | None:
    """A note on a manual change (opt-out, block, unblock)."""
    return optional_text(raw, "note", MAX_NOTE_CHARS)


def actor(raw: str, what: str = "actor") -> str:
    """Who makes a manual change (an API key's name, the CLI's ``--actor``): required."""
    name = text(raw.strip(), what, MAX_ACTOR_CHARS)
    if not name:
        raise BadInput(f"{what} is empty: say who makes the change")
    return name


def why(raw: str | None) -> str:
    """Why a reviewer dismissed a flagged reply: required."""
    reason = optional_text(raw.strip() if raw else raw, "reason", MAX_NOTE_CHARS)
    if not reason:
        raise BadInput("reason is empty: say why the reply is not a revocation")
    return reason


def evidence(raw: str | None) -> str | None:
    """Who gave consent, when and how (a manual or imported opt-in)."""
    return optional_text(raw, "evidence", MAX_EVIDENCE_CHARS)


def subscription_url(url: str) -> str:
    """Where event webhooks are POSTed: an absolute http or https URL with a host, no
    whitespace or control characters, read as the delivering worker's HTTP client
    reads it (so that a URL kept here is one the worker can send to)."""
    text(url, "url", MAX_URL_CHARS)
    if any(char.isspace() or not char.isprintable() for char in url):
        raise BadInput("url: the URL contains whitespace or control characters")
    try:
        parsed = httpx.URL(url)
        port, host = parsed.port, parsed.host
    except (httpx.InvalidURL, ValueError) as exc:  # a bad IDNA host is a ValueError
        raise BadInput(f"url: not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise BadInput("url: not an absolute http or https URL with a host")
    if port is not None and not 0 < port < 65536:
        raise BadInput(f"url: port {port} is out of range")
    return url
