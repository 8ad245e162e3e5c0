"""The ``revoke_all`` policy field: does one revocation end every purpose of the
account, or only the purpose of the text it answered?

47 CFR 64.1200(a)(10)'s "revoke-all" sentence (a revocation covers every robocall and
robotext from that sender, not only the category the reply answered) was delayed to
2027-01-31 by the FCC order of 2026-01-06. ``on`` follows it today (the protective
choice), ``off`` ends the purpose of the text answered, and ``from <date>`` switches
from ``off`` to ``on`` on that date. Pure: the caller gives the moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

#: The date the FCC order of 2026-01-06 set for the revoke-all rule.
FCC_REVOKE_ALL_DATE = date(2027, 1, 31)


@dataclass(frozen=True, slots=True)
class RevokeAll:
    """``always``: on whatever the date; else on from ``starts`` (None: never)."""

    always: bool
    starts: date | None = None

    def covers_all(self, now: datetime) -> bool:
        """Does a revocation at ``now`` end every purpose? The date is read in UTC,
        which reaches it before any US time zone does (the earlier, safer side)."""
        if self.always:
            return True
        return self.starts is not None and now.astimezone(UTC).date() >= self.starts

    def as_json(self) -> str:
        if self.always:
            return "on"
        return "off" if self.starts is None else f"from {self.starts.isoformat()}"

    @classmethod
    def parse(cls, value: object) -> RevokeAll:
        """``"on"``, ``"off"`` or ``"from YYYY-MM-DD"``; ValueError for anything else."""
        if value == "on":
            return ON
        if value == "off":
            return OFF
        if isinstance(value, str) and value.startswith("from "):
            try:
                return cls(False, date.fromisoformat(value.removeprefix("from ").strip()))
            except ValueError:
                pass
        raise ValueError('must be "on", "off" or "from YYYY-MM-DD" (e.g. "from 2027-01-31")')


ON = RevokeAll(True)
OFF = RevokeAll(False)
