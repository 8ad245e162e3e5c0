"""Which contacts a listing shows: the filters the API, the CLI and the web UI share,
and the reading of what is typed into their boxes: a partial phone number, a day or
a time a change was made.

Belongs here: the filter's shape and the checks of its parts that need no store
(whether a sender or a list is the account's is the engine's question).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from optline.domain.consent_codes import Method, Status
from optline.errors import BadInput

# Spaces, dashes, dots and brackets people type inside numbers: "(415) 555-26".
_SEPARATORS = re.compile(r"[\s().\-]")
_NUMBER_PART = re.compile(r"\+?[0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class ContactFilter:
    """Contacts kept by a listing; every part given must hold (None: any).

    ``status``, ``method`` and the change dates hold for one and the same scope of
    the contact's consent: the account's or a sender's own, or with ``sender`` the
    one that decides for that sender (its own, else the account's). With
    ``purpose``, the one that decides for a text of that purpose, as the send gate
    reads it (``ContactState.status_from``): the purpose's own consent, unless the
    sender's own opt-out stops every purpose, else as without a purpose, from
    ``sender`` or, with none, from the account. ``status`` BLOCKED is the blocked
    flag; another status keeps contacts not blocked. ``number`` is part of the
    phone: "+1415" its start, "2671" anywhere in it."""

    status: Status | None = None
    list_name: str | None = None
    sender: str | None = None
    number: str | None = None
    method: Method | None = None
    changed_since: datetime | None = None
    changed_before: datetime | None = None
    purpose: str | None = None

    def __post_init__(self) -> None:
        for name in ("changed_since", "changed_before"):
            at = getattr(self, name)
            if at is not None and at.tzinfo is None:
                raise BadInput(f"{name}: give a time with its time zone")

    @property
    def on_scope(self) -> bool:
        """Whether a scope of the contact's consent must match (status, method, dates)."""
        return (
            self.status not in (None, Status.BLOCKED)
            or self.method is not None
            or self.changed_since is not None
            or self.changed_before is not None
        )


#: The filter that keeps every contact.
EVERY_CONTACT: Final = ContactFilter()


def number_part(text: str) -> str | None:
    """The digits (with a leading "+" for a number's start) of a partial phone number
    as typed, None for an empty box; :class:`BadInput` for anything else."""
    compact = _SEPARATORS.sub("", text)
    if not compact:
        return None
    if not _NUMBER_PART.fullmatch(compact):
        raise BadInput(f"number: {text!r} is not part of a phone number (digits, a leading +)")
    return compact


def change_bound(text: str, name: str, end: bool = False) -> datetime | None:
    """A bound of the time a change was made, as typed: a day (YYYY-MM-DD, UTC: from
    its start, or with ``end`` up to its end, the day included) or an ISO 8601 time
    with its time zone (as given); None for an empty box, :class:`BadInput` else."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        start = datetime.combine(day, time.min, UTC)
        return start + timedelta(days=1) if end else start
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{name}: give a day (YYYY-MM-DD) or a time with its zone") from None
    if at.tzinfo is None:
        raise BadInput(f"{name}: give a time with its time zone")
    return at
