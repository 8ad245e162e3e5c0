"""Send windows and frequency caps: the hours a text may reach a recipient at their
location, and how many texts of one purpose they may get in 24 hours.

Belongs here: which texts the rules apply to and the pure decision (:func:`held`):
``now`` is always passed in, never read. The rules themselves are data
(:mod:`optline.domain.window_rules`, a policy field); where the recipient is comes from
:mod:`optline.domain.location`.
Today a text's purpose is ``campaign`` or not: campaign texts are the marketing purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from optline.domain.consent import Reason
from optline.domain.decisions import Decision
from optline.domain.location import Location
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


def capped(rules: Iterable[SendWindow]) -> bool:
    return any(rule.per_day is not None for rule in rules)


def replied_recently(wrote_at: datetime | None, now: datetime) -> bool:
    """Did the contact write in the 24 hours before ``now``? A 1:1 text to them is a
    reply, outside the rules unless the policy says otherwise."""
    return wrote_at is not None and now - wrote_at < DAY


def held(
    rules: Sequence[SendWindow],
    location: Location,
    now: datetime,
    sent: Sequence[datetime] = (),
) -> Hold | None:
    """None if a text may go at ``now`` under every rule that applies at ``location``,
    in every zone it may be in; else the hold, with the first moment it may go.

    ``sent``: the moments texts of the same purpose went to the recipient in the 24
    hours before ``now`` (only read where a rule caps them)."""
    applying = rules_at(rules, location)
    if not applying:
        return None
    zones = [ZoneInfo(name) for name in location.zones]
    cap = min((r.per_day for r in applying if r.per_day is not None), default=None)

    def open_at(moment: datetime) -> bool:
        # No zone known: no hour can be shown to be inside the window.
        return bool(zones) and all(
            rule.opens <= moment.astimezone(zone).time() < rule.closes
            for zone in zones
            for rule in applying
        )

    def under_cap(moment: datetime) -> bool:
        return cap is None or sum(moment - DAY < at <= moment for at in sent) < cap

    window_open = open_at(now)
    if window_open and under_cap(now):
        return None
    # The moments at which a closed rule may open: a window's opening in some zone, or
    # an earlier text leaving the last 24 hours.
    candidates = {at + DAY for at in sent if at + DAY > now}
    candidates.update(_openings(applying, zones, now))
    first = next((m for m in sorted(candidates) if open_at(m) and under_cap(m)), None)
    reason = Reason.FREQUENCY_CAP if window_open else Reason.OUTSIDE_SEND_WINDOW
    return Hold(reason, first)


def _openings(
    rules: Iterable[SendWindow], zones: Iterable[ZoneInfo], now: datetime
) -> set[datetime]:
    found: set[datetime] = set()
    for zone in zones:
        today = now.astimezone(zone).date()
        for rule in rules:
            for days in range(-1, _HORIZON_DAYS):
                local = datetime.combine(today + timedelta(days=days), rule.opens, zone)
                moment = local.astimezone(UTC)
                if moment > now:
                    found.add(moment)
    return found


def hold(decision: Decision, why: Hold) -> Decision:
    """``decision`` refused for ``why``."""
    return replace(decision, allowed=False, reason=why.reason, next_allowed_at=why.next_allowed_at)
