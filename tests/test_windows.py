"""Send windows and caps in the domain: where a number is (optline.domain.location), the
rule table (window_rules) and the pure decision (windows.held), with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optline.domain import location, window_rules, windows
from optline.domain.consent_codes import Reason
from optline.domain.decisions import Decision
from optline.domain.location import Location, locate, number_location
from optline.domain.profiles import PROFILES
from optline.domain.window_rules import US_SEND_WINDOWS, SendWindow

TULSA = "+19185550123"  # 918: Oklahoma, America/Chicago
MIAMI = "+13055550123"  # 305: Florida, America/New_York
BALTIMORE = "+14105550123"  # 410: Maryland
NEW_YORK = "+12125550123"  # 212: New York, no state rule
BOISE = "+12085550123"  # 208: Idaho, Mountain or Pacific
LONDON = "+447911123456"

CHICAGO = ZoneInfo("America/Chicago")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[arg-type,misc]


# -- where a number is ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "state", "zones"),
    [
        (TULSA, "OK", ("America/Chicago",)),
        (MIAMI, "FL", ("America/New_York",)),
        (BALTIMORE, "MD", ("America/New_York",)),
        (NEW_YORK, "NY", ("America/New_York",)),  # the geocoder says "New York, NY"
        (BOISE, "ID", ("America/Boise", "America/Los_Angeles")),
        ("+17875550123", "PR", ("America/Puerto_Rico",)),  # a territory: in the US
    ],
)
def test_a_us_number_is_located_by_its_prefix(
    number: str, state: str, zones: tuple[str, ...]
) -> None:
    assert number_location(number) == Location("US", state, zones)


def test_a_number_outside_the_us_has_no_state() -> None:
    found = number_location(LONDON)
    assert found.country == "GG" and found.state is None and "Europe/London" in found.zones


def test_an_exchange_with_its_own_zone_is_told_apart_from_its_area() -> None:
    # 850 is Florida's panhandle: the area code says Eastern, exchange 200 Central.
    assert number_location("+18505550123").zones == ("America/New_York",)
    assert number_location("+18502000000").zones == ("America/Chicago",)


def test_lookups_are_cached_per_prefix() -> None:
    location._by_prefix.clear()
    number_location("+19185550123")
    number_location("+19185560199")  # same area code, one zone: no second lookup
    number_location("+18505550123")
    number_location("+18502000000")  # an exchange the zone data tells apart
    assert set(location._by_prefix) == {"1918", "1850", "1850200"}
    assert number_location(LONDON) is number_location("+447911123457")


def test_a_stored_time_zone_and_state_replace_the_numbers() -> None:
    assert locate(TULSA, "America/Los_Angeles", None) == Location(
        "US", "OK", ("America/Los_Angeles",)
    )
    assert locate(TULSA, None, "CA") == Location("US", "CA", ("America/Chicago",))


def test_stored_values_are_checked() -> None:
    assert location.check_time_zone("America/Chicago") == "America/Chicago"
    assert location.check_state(" ok ") == "OK"
    with pytest.raises(ValueError, match="time zone"):
        location.check_time_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="state"):
        location.check_state("ZZ")


# -- the rule table ---------------------------------------------------------------------


def test_the_default_profile_has_the_us_table_and_the_vendor_profiles_none() -> None:
    assert PROFILES["default"].send_windows == US_SEND_WINDOWS
    for name, policy in PROFILES.items():
        if name != "default":
            assert policy.send_windows == (), name
    places = {rule.where: rule for rule in US_SEND_WINDOWS}
    assert places["US"].opens == time(8) and places["US"].closes == time(21)
    for state in ("US-FL", "US-OK", "US-MD"):
        assert (places[state].closes, places[state].per_day) == (time(20), 3)
    assert all(rule.source for rule in US_SEND_WINDOWS)


def test_a_table_reads_back_from_its_json_form() -> None:
    rows = [rule.as_dict() for rule in US_SEND_WINDOWS]
    assert window_rules.from_json(rows) == US_SEND_WINDOWS


def test_a_state_row_can_be_added() -> None:
    austin = number_location("+15125550123")
    rows = [*(rule.as_dict() for rule in US_SEND_WINDOWS)]
    rows.append({"where": "US-TX", "opens": "09:00", "closes": "21:00", "source": "a rule"})
    table = window_rules.from_json(rows)
    at_0830 = local("America/Chicago", 2026, 12, 7, 8, 30)
    assert windows.held(US_SEND_WINDOWS, austin, at_0830) is None
    hold = windows.held(table, austin, at_0830)
    assert hold is not None and hold.next_allowed_at == local("America/Chicago", 2026, 12, 7, 9)


# -- the decision -----------------------------------------------------------------------


def test_an_oklahoma_number_at_0438_local_is_held_until_8() -> None:
    now = local("America/Chicago", 2026, 12, 7, 4, 38)
    hold = windows.held(US_SEND_WINDOWS, number_location(TULSA), now)
    assert hold == windows.Hold(
        Reason.OUTSIDE_SEND_WINDOW, local("America/Chicago", 2026, 12, 7, 8, 0)
    )


def test_a_state_closes_earlier_than_the_federal_window() -> None:
    at_2030 = local("America/Chicago", 2026, 12, 7, 20, 30)
    hold = windows.held(US_SEND_WINDOWS, number_location(TULSA), at_2030)
    assert hold is not None and hold.next_allowed_at == local("America/Chicago", 2026, 12, 8, 8)
    # New York has no state rule: the federal window is open until 21:00.
    new_york_2030 = local("America/New_York", 2026, 12, 7, 20, 30)
    assert windows.held(US_SEND_WINDOWS, number_location(NEW_YORK), new_york_2030) is None


def test_no_rule_applies_outside_the_us() -> None:
    night = utc(2026, 12, 7, 2, 0)
    assert windows.held(US_SEND_WINDOWS, number_location(LONDON), night) is None
    us = windows.table(US_SEND_WINDOWS)
    assert not us.may_apply(LONDON)
    assert us.may_apply(TULSA)
    assert us.may_apply("+14165550123")  # Canada: +1, located first
    assert us.at(number_location("+14165550123")) is None


def test_an_ambiguous_number_waits_for_the_window_in_every_zone() -> None:
    # 08:30 in Boise is 07:30 in Los Angeles (July: MDT and PDT).
    now = local("America/Boise", 2026, 7, 1, 8, 30)
    hold = windows.held(US_SEND_WINDOWS, number_location(BOISE), now)
    assert hold is not None and hold.reason is Reason.OUTSIDE_SEND_WINDOW
    assert hold.next_allowed_at == local("America/Los_Angeles", 2026, 7, 1, 8, 0)
    # And it closes at 21:00 in Boise, when Los Angeles is at 20:00.
    late = local("America/Boise", 2026, 7, 1, 21, 0)
    assert windows.held(US_SEND_WINDOWS, number_location(BOISE), late) is not None


def test_zones_whose_windows_never_meet_give_no_next_moment() -> None:
    # 09:00-12:00 in New York is over when it begins in Los Angeles.
    short = (SendWindow("US", time(9), time(12), None, "a test rule"),)
    coasts = Location("US", None, ("America/New_York", "America/Los_Angeles"))
    hold = windows.held(short, coasts, utc(2026, 12, 7, 12))
    assert hold == windows.Hold(Reason.OUTSIDE_SEND_WINDOW, None)


def test_a_location_with_no_zone_is_never_inside_a_window() -> None:
    hold = windows.held(US_SEND_WINDOWS, Location("US", "OK", ()), utc(2026, 12, 7, 18))
    assert hold == windows.Hold(Reason.OUTSIDE_SEND_WINDOW, None)


def test_spring_forward_moves_the_opening_an_hour_earlier_in_utc() -> None:
    where = number_location(TULSA)
    # Saturday 2026-03-07, 07:30 CST (13:30 UTC): closed until 08:00 CST = 14:00 UTC.
    hold = windows.held(US_SEND_WINDOWS, where, utc(2026, 3, 7, 13, 30))
    assert hold is not None and hold.next_allowed_at == utc(2026, 3, 7, 14, 0)
    # Sunday 2026-03-08, after the change: 13:30 UTC is 08:30 CDT, open.
    assert windows.held(US_SEND_WINDOWS, where, utc(2026, 3, 8, 13, 30)) is None
    # Held on the Saturday night, it may go at 08:00 CDT: 13:00 UTC, not 14:00.
    hold = windows.held(US_SEND_WINDOWS, where, utc(2026, 3, 8, 3, 0))
    assert hold is not None and hold.next_allowed_at == utc(2026, 3, 8, 13, 0)


def test_fall_back_moves_the_closing_an_hour_later_in_utc() -> None:
    where = number_location(TULSA)
    # Saturday 2026-10-31, 01:30 UTC is 20:30 CDT: closed (Oklahoma closes at 20:00).
    assert windows.held(US_SEND_WINDOWS, where, utc(2026, 11, 1, 1, 30)) is not None
    # Sunday 2026-11-01 after the change: 01:30 UTC on the 2nd is 19:30 CST, open.
    assert windows.held(US_SEND_WINDOWS, where, utc(2026, 11, 2, 1, 30)) is None


def test_a_closing_hour_the_clock_change_skips_is_not_remembered_past() -> None:
    # 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT, so 02:30 never comes.
    night = (SendWindow("US", time(0), time(2, 30), None, "a test rule"),)
    where = Location("US", None, ("America/New_York",))
    assert windows.held(night, where, utc(2026, 3, 8, 6, 0)) is None  # 01:00 EST
    assert windows.held(night, where, utc(2026, 3, 8, 7, 10)) is not None  # 03:10 EDT


def test_the_fourth_campaign_text_in_24_hours_is_capped_in_florida() -> None:
    where = number_location(MIAMI)
    now = local("America/New_York", 2026, 12, 7, 12, 0)
    sent = [now - timedelta(hours=h) for h in (20, 5, 1)]
    hold = windows.held(US_SEND_WINDOWS, where, now, sent)
    # Allowed again when the first of the three is 24 hours old: 16:00 the same day.
    assert hold == windows.Hold(Reason.FREQUENCY_CAP, sent[0] + windows.DAY)
    assert windows.held(US_SEND_WINDOWS, where, now, sent[1:]) is None
    # New York has no cap.
    assert windows.held(US_SEND_WINDOWS, number_location(NEW_YORK), now, sent) is None


def test_a_cap_that_frees_at_night_waits_for_the_morning() -> None:
    where = number_location(MIAMI)
    now = local("America/New_York", 2026, 12, 7, 19, 0)
    sent = [local("America/New_York", 2026, 12, 6, 22, 0), now - timedelta(hours=2)] * 2
    hold = windows.held(US_SEND_WINDOWS, where, now, sent[:3])
    assert hold is not None and hold.reason is Reason.FREQUENCY_CAP
    # The first text leaves the 24 hours at 22:00, after Florida's window closes.
    assert hold.next_allowed_at == local("America/New_York", 2026, 12, 8, 8, 0)


def test_which_texts_the_rules_apply_to() -> None:
    assert windows.windowed(US_SEND_WINDOWS, campaign=True, informational=False)
    assert not windows.windowed(US_SEND_WINDOWS, campaign=False, informational=False)
    assert windows.windowed(US_SEND_WINDOWS, campaign=False, informational=True)
    assert not windows.windowed((), campaign=True, informational=True)
    now = utc(2026, 12, 7, 12)
    assert windows.replied_recently(now - timedelta(hours=23), now)
    assert not windows.replied_recently(now - timedelta(hours=24), now)
    assert not windows.replied_recently(None, now)


def test_a_held_decision_keeps_its_body_and_says_when() -> None:
    at = utc(2026, 12, 7, 14)
    held = windows.hold(Decision(True, None, "Sale"), windows.Hold(Reason.FREQUENCY_CAP, at))
    assert held == Decision(False, Reason.FREQUENCY_CAP, "Sale", next_allowed_at=at)
    assert held.as_dict()["next_allowed_at"] == "2026-12-07T14:00:00+00:00"


# -- property: a send the rules allow is inside every candidate zone's window -----------

US_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Boise",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Adak",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)
STATES = (None, "FL", "OK", "MD", "NY", "TX")
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
locations = st.builds(
    Location,
    st.just("US"),
    st.sampled_from(STATES),
    st.lists(st.sampled_from(US_ZONES), min_size=1, max_size=3, unique=True).map(tuple),
)
sends = st.lists(st.integers(min_value=1, max_value=24 * 60 - 1), max_size=5)


def _inside(rules: tuple[SendWindow, ...], where: Location, moment: datetime) -> bool:
    return all(
        rule.opens <= moment.astimezone(ZoneInfo(zone)).time() < rule.closes
        for rule in windows.rules_at(rules, where)
        for zone in where.zones
    )


@settings(max_examples=300, deadline=None)
@given(now=moments, where=locations, minutes_ago=sends)
def test_a_send_the_rules_allow_is_inside_every_zones_window(
    now: datetime, where: Location, minutes_ago: list[int]
) -> None:
    sent = [now - timedelta(minutes=m) for m in minutes_ago]
    hold = windows.held(US_SEND_WINDOWS, where, now, sent)
    if hold is None:
        assert _inside(US_SEND_WINDOWS, where, now)
    else:
        # The moment it promises is itself allowed, and none before it was.
        assert hold.next_allowed_at is None or hold.next_allowed_at > now
        if hold.next_allowed_at is not None:
            assert windows.held(US_SEND_WINDOWS, where, hold.next_allowed_at, sent) is None
            assert _inside(US_SEND_WINDOWS, where, hold.next_allowed_at)
            earlier = hold.next_allowed_at - timedelta(minutes=1)
            if earlier > now:
                assert windows.held(US_SEND_WINDOWS, where, earlier, sent) is not None
