"""Send windows and frequency caps: the hours a text may reach a recipient at their
location, and how many texts of one purpose they may get in 24 hours.

Belongs here: which texts the rules apply to and the decision (:func:`held`, and
:meth:`Schedule.hold` for a location's rules folded together): ``now`` is always passed
in, never read; what is kept between calls (a table's schedule per number prefix, a
schedule's last open span) only saves work and never changes an answer. The rules are data
(:mod:`optline.domain.window_rules`, a policy field); where the recipient is comes from
:mod:`optline.domain.location`.
Today a text's purpose is ``campaign`` or not: campaign texts are the marketing purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from optline.domain.consent_codes import Reason
from optline.domain.decisions import Decision
from optline.domain.location import Location, calling_code, locate, number_location, prefix_of
from optline.domain.window_rules import SendWindow

DAY = timedelta(hours=24)
# How far ahead a next allowed moment is looked for: a week and a day covers every
# daily window across a DST change.
_HORIZON_DAYS = 8


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a text may not go now, and the first moment it may (None: no moment in the
    next week fits every rule in every zone the recipient may be in)."""

    reason: Reason
    next_allowed_at: datetime | None


def windowed(rules: Sequence[SendWindow], campaign: bool, informational: bool) -> bool:
    """Do the rules apply to this kind of text? Campaign (marketing) texts always; the
    others where the policy says so (``send_windows_informational``)."""
    return bool(rules) and (campaign or informational)


def rules_at(rules: Iterable[SendWindow], location: Location) -> tuple[SendWindow, ...]:
    return tuple(rule for rule in rules if rule.applies(location))


def replied_recently(wrote_at: datetime | None, now: datetime) -> bool:
    """Did the contact write in the 24 hours before ``now``? A 1:1 text to them is a
    reply, outside the rules unless the policy says otherwise."""
    return wrote_at is not None and now - wrote_at < DAY


class Schedule:
    """What every rule applying at one location allows together: the latest opening
    and the earliest closing (each rule is one daily interval, so all of them hold
    exactly inside that one), in every zone, and the smallest cap.

    It remembers the last span of time it found open, so that the many decisions of
    one batch cost two comparisons each rather than a zone conversion."""

    __slots__ = ("_open_span", "cap", "closes", "opens", "zones")

    def __init__(
        self, zones: tuple[ZoneInfo, ...], opens: time, closes: time, cap: int | None
    ) -> None:
        self.zones = zones
        self.opens = opens
        self.closes = closes
        self.cap = cap
        self._open_span: tuple[datetime, datetime] | None = None

    def hold(self, now: datetime, sent: Sequence[datetime] = ()) -> Hold | None:
        """None if a text may go at ``now``; else the hold, with the first moment it
        may go. ``sent``: the moments texts of the same purpose went to the recipient
        in the 24 hours before ``now`` (only read under a cap)."""
        window_open = self._open_at(now)
        if window_open and self._under_cap(now, sent):
            return None
        # The moments at which it may open: the window's opening in some zone, or an
        # earlier text leaving the last 24 hours.
        candidates = {at + DAY for at in sent if at + DAY > now}
        candidates.update(self._openings(now))
        first = next(
            (m for m in sorted(candidates) if self._open_at(m) and self._under_cap(m, sent)),
            None,
        )
        reason = Reason.FREQUENCY_CAP if window_open else Reason.OUTSIDE_SEND_WINDOW
        return Hold(reason, first)

    def _open_at(self, moment: datetime) -> bool:
        span = self._open_span
        if span is not None and span[0] <= moment < span[1]:
            return True
        # No zone known: no hour can be shown to be inside the window.
        if not self.zones:
            return False
        starts, ends = [], []
        for zone in self.zones:
            local = moment.astimezone(zone)
            if not self.opens <= local.time() < self.closes:
                return False
            day = local.date()
            starts.append(datetime.combine(day, self.opens, zone).astimezone(UTC))
            ends.append(end := datetime.combine(day, self.closes, zone).astimezone(UTC))
            if end.astimezone(zone).time() != self.closes:
                return True  # a closing hour a DST change skips: nothing remembered
        # Open in every zone from the latest opening until the earliest closing.
        self._open_span = (max(starts), min(ends))
        return True

    def _under_cap(self, moment: datetime, sent: Sequence[datetime]) -> bool:
        cap = self.cap
        return cap is None or sum(moment - DAY < at <= moment for at in sent) < cap

    def _openings(self, now: datetime) -> set[datetime]:
        found: set[datetime] = set()
        for zone in self.zones:
            today = now.astimezone(zone).date()
            for days in range(-1, _HORIZON_DAYS):
                local = datetime.combine(today + timedelta(days=days), self.opens, zone)
                if (moment := local.astimezone(UTC)) > now:
                    found.add(moment)
        return found


class Table:
    """A policy's rule table, with the schedule of each location asked about (kept:
    a few thousand locations cover the NANP)."""

    __slots__ = ("_at", "_by_prefix", "_codes", "rules")

    def __init__(self, rules: tuple[SendWindow, ...]) -> None:
        self.rules = rules
        self._codes = tuple({calling_code(rule.where.partition("-")[0]) for rule in rules})
        self._at: dict[Location, Schedule | None] = {}
        self._by_prefix: dict[str | None, Schedule | None] = {}

    def may_apply(self, phone: str) -> bool:
        """Could a rule apply to the E.164 number ``phone``? Not to one whose calling
        code no rule's country has (a +44 number under US rules): no lookup needed."""
        return phone.startswith(self._codes)

    def for_number(
        self, phone: str, time_zone: str | None = None, state: str | None = None
    ) -> Schedule | None:
        """The schedule of the E.164 number ``phone`` (with the contact's stored time
        zone and state, if any): kept per number prefix, as its location is."""
        if time_zone is not None or state is not None:
            return self.at(locate(phone, time_zone, state))
        key = prefix_of(phone)
        try:
            return self._by_prefix[key]
        except KeyError:
            pass
        if len(self._by_prefix) >= _KEPT_LOCATIONS:
            self._by_prefix.clear()
        found = self._by_prefix[key] = self.at(number_location(phone))
        return found

    def at(self, location: Location) -> Schedule | None:
        """The rules applying at ``location`` together; None where none applies."""
        try:
            return self._at[location]
        except KeyError:
            pass
        if len(self._at) >= _KEPT_LOCATIONS:
            self._at.clear()
        found = self._at[location] = _schedule(rules_at(self.rules, location), location)
        return found


_KEPT_LOCATIONS = 1 << 14


@lru_cache(maxsize=64)
def table(rules: tuple[SendWindow, ...]) -> Table:
    """The table of a policy's rules, one per distinct table in this process."""
    return Table(rules)


def _schedule(applying: tuple[SendWindow, ...], location: Location) -> Schedule | None:
    if not applying:
        return None
    return Schedule(
        tuple(ZoneInfo(name) for name in location.zones),
        max(rule.opens for rule in applying),
        min(rule.closes for rule in applying),
        min((r.per_day for r in applying if r.per_day is not None), default=None),
    )


def held(
    rules: tuple[SendWindow, ...],
    location: Location,
    now: datetime,
    sent: Sequence[datetime] = (),
) -> Hold | None:
    """None if a text may go at ``now`` under every rule that applies at ``location``,
    in every zone it may be in; else the hold, with the first moment it may go."""
    schedule = table(rules).at(location)
    return None if schedule is None else schedule.hold(now, sent)


def hold(decision: Decision, why: Hold) -> Decision:
    """``decision`` refused for ``why``: a held text sends no first-text notice either."""
    return replace(
        decision,
        allowed=False,
        reason=why.reason,
        next_allowed_at=why.next_allowed_at,
        notice=None,
    )
