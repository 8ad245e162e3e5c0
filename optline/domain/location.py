"""Where a recipient is: the candidate time zones and the US state of a phone number,
for the send-window rules (:mod:`optline.domain.windows`).

Belongs here: reading a location from ``phonenumbers``' time-zone and geocoder data,
cached per number prefix, and a contact's stored time zone and state replacing what
the number says. Pure: the data ships with ``phonenumbers``; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import geocoder, timezone
from phonenumbers.geodata import GEOCODE_DATA
from phonenumbers.tzdata import TIMEZONE_DATA

# USPS codes of the states, DC and the territories whose numbers are in the NANP; the
# geocoder names a state ("Oklahoma") or a place in it ("Tulsa, OK").
US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Washington D.C.": "DC", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI",
    "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
    "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
    "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC",
    "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
    "Virginia": "VA", "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI",
    "Wyoming": "WY", "Puerto Rico": "PR", "US Virgin Islands": "VI", "Guam": "GU",
    "American Samoa": "AS", "Northern Mariana Islands": "MP",
}  # fmt: skip
STATE_CODES = frozenset(US_STATES.values())
# phonenumbers gives the NANP's US territories their own region codes; US law (47 CFR
# 64.1200) reaches them, so they are located in the US with the territory as state.
_US_TERRITORIES = frozenset({"PR", "VI", "GU", "AS", "MP"})
_UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a number may be: its country (ISO 3166-1, ``US``), its US state (USPS
    code, None when unknown) and every time zone it may be in (IANA names)."""

    country: str | None
    state: str | None
    zones: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"country": self.country, "state": self.state, "zones": list(self.zones)}


def locate(phone: str, time_zone: str | None = None, state: str | None = None) -> Location:
    """The location of the E.164 number ``phone``: the contact's stored ``time_zone``
    and ``state`` where set, else what the number's prefix says."""
    found = number_location(phone)
    if time_zone is None and state is None:
        return found
    return Location(
        found.country,
        state if state is not None else found.state,
        (time_zone,) if time_zone is not None else found.zones,
    )


def number_location(phone: str) -> Location:
    """What ``phonenumbers`` says of the E.164 number ``phone``, looked up once per
    prefix that its data tells apart (see :func:`_prefix`): every number sharing it
    shares the answer."""
    key = prefix_of(phone)
    if key is None:
        return Location(None, None, ())
    found = _by_prefix.get(key)
    if found is None:
        if len(_by_prefix) >= _CACHED_PREFIXES:
            _by_prefix.clear()
        found = _by_prefix[key] = _read_location(phone)
    return found


# Prefix -> location: a few thousand prefixes cover the NANP.
_CACHED_PREFIXES = 1 << 16
_by_prefix: dict[str, Location] = {}
_NANP = "1"
# The longest time-zone prefix in the NANP: area code and exchange.
_NANP_ZONE_DIGITS = 7


def prefix_of(phone: str) -> str | None:
    """The prefix of the E.164 number ``phone`` (its digits) that decides its location.

    In the NANP: the area code (which decides the country, and never crosses a state
    line) and, where the time-zone data splits the area by exchange, the exchange, so
    most numbers of an area share one entry. Elsewhere: as many digits as the longest
    prefix the data holds for the country code. None: no country code."""
    digits = phone[1:]
    if digits[:1] == _NANP:
        for size in range(_NANP_ZONE_DIGITS, 4, -1):
            if digits[:size] in TIMEZONE_DATA:
                return digits[:size]
        return digits[:4]
    code = _country_code(digits)
    return None if code is None else digits[: _longest_prefix(code)]


def _read_location(phone: str) -> Location:
    number = phonenumbers.parse(phone)
    region = phonenumbers.region_code_for_number(number)
    zones = tuple(z for z in timezone.time_zones_for_number(number) if z != _UNKNOWN_ZONE)
    if region in _US_TERRITORIES:
        return Location("US", region, zones)
    if region != "US":
        return Location(region, None, zones)
    return Location("US", _state_of(geocoder.description_for_number(number, "en")), zones)


def _state_of(description: str) -> str | None:
    """``Oklahoma`` -> OK, ``Tulsa, OK`` -> OK; None for anything else."""
    place, _, code = description.rpartition(", ")
    if place and code in STATE_CODES:
        return code
    return US_STATES.get(description)


@cache
def _longest_prefix(country_code: str) -> int:
    """The longest prefix (with the country code) that the time-zone or geocoder data
    holds for numbers of this country code."""
    longest = len(country_code)
    for table in (TIMEZONE_DATA, GEOCODE_DATA):
        for prefix in table:
            if len(prefix) > longest and prefix.startswith(country_code):
                longest = len(prefix)
    return longest


def _country_code(digits: str) -> str | None:
    for size in (1, 2, 3):
        if int(digits[:size] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:size]
    return None


def calling_code(country: str) -> str:
    """The E.164 prefix of a country's numbers (``US`` -> ``+1``)."""
    return f"+{phonenumbers.country_code_for_region(country)}"


def check_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone (``America/Chicago``), else ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name: America/Chicago)") from None
    return name


def check_state(code: str) -> str:
    """A US state's (or territory's) USPS code, upper-cased, else ValueError."""
    upper = code.strip().upper()
    if upper not in STATE_CODES:
        raise ValueError(f"unknown US state {code!r} (a USPS code: OK, FL, MD)")
    return upper
