"""Time zones as people write them, and wall times resolved in them.

A zone is one of: an IANA name ("Europe/Zurich"), "UTC", a fixed offset ("+02:00"), or a
known abbreviation ("CEST"); each has one canonical spelling. Wall times that a zone skips
(DST gap) or repeats (DST fold) are refused, never guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from distribution.errors import InvalidInput

# Abbreviations met in release files, each read as the one fixed offset it stands for. Someone
# who writes "CET" in April gets +01:00, i.e. a lift one hour later than CEST: late, never early.
ABBREVIATIONS: dict[str, timedelta] = {
    name: timedelta(hours=hours) for name, hours in {
        "UTC": 0, "GMT": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2,
        "EEST": 3, "EST": -5, "EDT": -4, "PST": -8, "PDT": -7, "JST": 9, "AEST": 10,
        "AEDT": 11,
    }.items()
}
# Abbreviations that name different offsets in different countries: refuse rather than guess.
AMBIGUOUS = {
    "CST": "'America/Chicago' or 'Asia/Shanghai'",
    "IST": "'Asia/Kolkata', 'Europe/Dublin' or 'Asia/Jerusalem'",
    "AST": "'America/Halifax' or 'Asia/Riyadh'",
}
MAX_OFFSET = timedelta(hours=14)

_OFFSET = re.compile(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


class TimeError(InvalidInput, ValueError):
    """A time the user gave cannot be used; the message is one line, meant for them."""


def normalize_zone(name: str) -> str:
    """The canonical spelling of a zone ("europe/zurich" -> "Europe/Zurich"), or TimeError."""
    return find_zone(name)[0]


def to_zone(utc: datetime, zone: str) -> datetime:
    """The instant as an aware datetime on the clock of `zone`, in any spelling it accepts."""
    return as_utc(utc).astimezone(find_zone(zone)[1])


def find_zone(name: str) -> tuple[str, tzinfo]:
    """Canonical name and tzinfo for any zone spelling this module accepts."""
    key = name.strip()
    if key.upper() in ABBREVIATIONS:
        upper = key.upper()
        return upper, UTC if upper == "UTC" else timezone(ABBREVIATIONS[upper], upper)
    if key.upper() in AMBIGUOUS:
        raise TimeError(f"'{key}' is ambiguous; write the zone ({AMBIGUOUS[key.upper()]}) "
                        "or a UTC offset")
    if (offset := read_offset(key)) is not None:
        return offset_name(offset), timezone(offset) if offset else UTC
    if canonical := iana_names().get(key.lower()):
        return canonical, ZoneInfo(canonical)
    raise TimeError(f"unknown time zone '{quote(key)}'; use e.g. 'Europe/Zurich', "
                    "'UTC' or '+02:00'")


@lru_cache(maxsize=1)
def iana_names() -> dict[str, str]:
    # Case-insensitive lookup that also stores the canonical spelling.
    return {key.lower(): key for key in available_timezones()}


def read_offset(text: str) -> timedelta | None:
    """The UTC offset that "+02:00", "-5" or "UTC+0530" names; None when it is not one."""
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    value = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if value > MAX_OFFSET or int(minutes or 0) >= 60:
        raise TimeError(f"UTC offset '{text}' is out of range")
    return -value if sign == "-" else value


def offset_name(offset: timedelta) -> str:
    if not offset:
        return "UTC"
    sign, size = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, rest = divmod(int(size.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def resolve(wall: datetime, name: str, tz: tzinfo, offset: timedelta | None) -> datetime:
    """The one UTC instant that `wall` names in `tz`; an offset picks a side of a fold."""
    candidates = [wall.replace(tzinfo=tz, fold=fold) for fold in (0, 1)]
    real = [c for c in candidates if as_utc(c).astimezone(tz).replace(tzinfo=None) == wall]
    if not real:
        start, end = _gap_edges(wall, tz, candidates)
        raise TimeError(f"{wall_text(wall)} {name} does not exist: "
                        f"clocks jump from {start} to {end}")
    options = {offset_of(c): c for c in real}
    if offset is not None:
        if offset not in options:
            actual = " or ".join(offset_name(o) for o in options)
            raise TimeError(f"{wall_text(wall)} {name} is at {actual}, "
                            f"not {offset_name(offset)}")
        return as_utc(options[offset])
    if len(options) > 1:
        names = [c.tzname() or "" for c in real]
        if len(set(names)) < 2:
            names = [offset_name(o) for o in options]
        raise TimeError(f"{wall_text(wall)} {name} is ambiguous ({names[0]} or {names[1]}); "
                        "give the UTC offset")
    return as_utc(real[0])


def offset_of(moment: datetime) -> timedelta:
    """The UTC offset of a moment that carries a zone."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"{moment!r} carries no zone")
    return offset


def _gap_edges(wall: datetime, tz: tzinfo, candidates: list[datetime]) -> tuple[str, str]:
    """The wall times just before and after the skipped stretch around `wall`."""
    before, after = (c.utcoffset() or timedelta(0) for c in candidates)
    low, high = (wall - after).replace(tzinfo=UTC), (wall - before).replace(tzinfo=UTC)
    while high - low > timedelta(seconds=1):  # bisect for the transition instant
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    high = high.replace(microsecond=0)  # transitions fall on whole seconds
    start = (high + before).replace(tzinfo=None)
    end = high.astimezone(tz).replace(tzinfo=None)
    if start.date() == end.date():
        return clock_text(start), clock_text(end)
    return wall_text(start), wall_text(end)


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
    return value.astimezone(UTC)


def clock_text(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def wall_text(wall: datetime) -> str:
    return f"{wall:%Y-%m-%d} {clock_text(wall)}"


def quote(text: str) -> str:
    """The user's text for an error message: on one line, and cut when long."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:59] + "…"
