"""The dashboard's tallies of the ledger over a span of days: opt-outs and opt-ins a
day, each by method and by language, and refused sends by reason. Pure: it reads
events as the store gives them.

An opt-out counts once: a repeat STOP from a contact already opted out (``repeat``
on its event) is recorded, but is no new opt-out. A change the business made (by
hand, an import, the provider's report) was read in no language: it counts under
:data:`NO_LANGUAGE`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from optline.domain.consent_codes import EventType

#: The spans the dashboard offers, in days.
SPANS = (30, 90)
#: The language of a change that was no text of the contact's.
NO_LANGUAGE = "none"
#: The event types the tallies read.
TALLIED = (EventType.OPTED_OUT, EventType.OPTED_IN, EventType.SEND_REFUSED)


@dataclass(frozen=True)
class Tally:
    """Counts of one kind of change: in all, a day, by method, by language."""

    total: int = 0
    by_day: Mapping[date, int] = field(default_factory=dict)
    by_method: Mapping[str, int] = field(default_factory=dict)
    by_language: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Activity:
    """The ledger's tallies over ``days`` (oldest first, today last)."""

    days: tuple[date, ...]
    opt_outs: Tally
    opt_ins: Tally
    refused: Mapping[str, int]  # reason code -> refused sends

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())


def span(today: date, days: int) -> tuple[date, ...]:
    """The ``days`` days that end with ``today``, oldest first."""
    return tuple(today - timedelta(days=n) for n in range(days - 1, -1, -1))


def start_of(day: date) -> datetime:
    """The first moment of ``day`` (UTC): events from then on are tallied."""
    return datetime.combine(day, time(), tzinfo=UTC)


def tally(
    days: tuple[date, ...], facts: Iterable[tuple[str, Mapping[str, Any], datetime]]
) -> Activity:
    """Tally events (type, data, time) that fall on ``days``."""
    wanted = set(days)
    counts: dict[str, tuple[Counter[date], Counter[str], Counter[str]]] = {
        kind: (Counter(), Counter(), Counter())
        for kind in (EventType.OPTED_OUT, EventType.OPTED_IN)
    }
    refused: Counter[str] = Counter()
    for kind, data, at in facts:
        day = at.astimezone(UTC).date()
        if day not in wanted:
            continue
        if kind == EventType.SEND_REFUSED:
            refused[str(data.get("reason"))] += 1
        elif kind in counts and not data.get("repeat"):
            per_day, methods, languages = counts[kind]
            per_day[day] += 1
            methods[str(data.get("method") or data.get("source"))] += 1
            languages[str(data.get("language") or NO_LANGUAGE)] += 1
    out, in_ = (_tally(*counts[k]) for k in (EventType.OPTED_OUT, EventType.OPTED_IN))
    return Activity(days, out, in_, dict(refused.most_common()))


def _tally(per_day: Counter[date], methods: Counter[str], languages: Counter[str]) -> Tally:
    return Tally(
        sum(per_day.values()),
        dict(per_day),
        dict(methods.most_common()),
        dict(languages.most_common()),
    )
