"""The send-window rules as data: a policy's ``send_windows`` table, one row per place
(a country or a state of it), each citing the law it follows.

Belongs here: the row type, the shipped US table and the reading of a table from the
JSON an account override stores. The decision that applies them is
:mod:`optline.domain.windows`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from optline.domain.location import Location


@dataclass(frozen=True, slots=True)
class SendWindow:
    """One rule: texts to recipients in ``where`` (a country, ``US``, or a state of it,
    ``US-FL``) only from ``opens`` until ``closes`` local time, and at most ``per_day``
    of one purpose in any 24 hours (None: no cap)."""

    where: str
    opens: time
    closes: time
    per_day: int | None
    source: str

    def applies(self, location: Location) -> bool:
        country, _, state = self.where.partition("-")
        return location.country == country and (not state or location.state == state)

    def as_dict(self) -> dict[str, object]:
        return {
            "where": self.where,
            "opens": self.opens.strftime("%H:%M"),
            "closes": self.closes.strftime("%H:%M"),
            "per_day": self.per_day,
            "source": self.source,
        }


#: The US rules: federal telephone-solicitation hours everywhere, and the states whose
#: laws narrow them and cap solicitations of one subject at 3 per 24 hours.
US_SEND_WINDOWS: tuple[SendWindow, ...] = (
    SendWindow("US", time(8), time(21), None, "47 CFR 64.1200(c)(1)"),
    SendWindow("US-FL", time(8), time(20), 3, "Fla. Stat. 501.059"),
    SendWindow("US-OK", time(8), time(20), 3, "Okla. Stat. tit. 15 §775C"),
    SendWindow("US-MD", time(8), time(20), 3, "Maryland Stop the Spam Calls Act"),
)


def from_json(rows: Any) -> tuple[SendWindow, ...]:
    """A rule table from its JSON form (a list of :meth:`SendWindow.as_dict` objects);
    ValueError naming what is wrong."""
    if not isinstance(rows, list):
        raise ValueError("a list of rules")
    return tuple(_rule(i, row) for i, row in enumerate(rows))


def _rule(index: int, row: Any) -> SendWindow:
    where = f"rule {index}"
    if not isinstance(row, Mapping) or set(row) - _FIELDS or not set(row) >= _NEEDED:
        raise ValueError(f"{where}: an object of where, opens, closes, source (and per_day)")
    place, source, per_day = row["where"], row["source"], row.get("per_day")
    if not isinstance(place, str) or not isinstance(source, str) or not source:
        raise ValueError(f"{where}: where and source must be texts")
    if not _PLACE.fullmatch(place):
        raise ValueError(f"{where}: where is a country (US) or a state of it (US-FL)")
    if per_day is not None and (isinstance(per_day, bool) or not isinstance(per_day, int)):
        raise ValueError(f"{where}: per_day must be a whole number or null")
    if per_day is not None and per_day < 1:
        raise ValueError(f"{where}: per_day must be at least 1")
    opens, closes = _hour(where, row["opens"]), _hour(where, row["closes"])
    if opens >= closes:
        raise ValueError(f"{where}: opens must come before closes")
    return SendWindow(place, opens, closes, per_day, source)


# ISO 3166: a country, or a subdivision of one (US-FL).
_PLACE = re.compile(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?")
_NEEDED = frozenset({"where", "opens", "closes", "source"})
_FIELDS = _NEEDED | {"per_day"}


def _hour(where: str, value: Any) -> time:
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: opens and closes are local times written HH:MM") from None
