"""Times that people type (--embargo, --at) or write in release files, and how we show them.

Every instant leaves this module as an aware UTC datetime together with the zone it was
given in, so it can be shown back the way the officer wrote it. Zones, and wall times in
them, are distribution.zones' part; its TimeError, normalize_zone and to_zone are here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from distribution import zones
from distribution.zones import TimeError, normalize_zone, to_zone

__all__ = ["MONTHS", "TimeError", "WhenParsed", "embargo_line",
           "format_in_zone", "normalize_zone", "parse_embargo_text", "parse_when", "to_zone"]

EXAMPLE = "'2025-04-16 09:00 Europe/Zurich'"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
_HOUR = re.compile(r"\d{1,2}")
_AMPM = re.compile(r"([ap])\.?m\.?", re.IGNORECASE)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")
_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?", re.IGNORECASE)
_MONTH_WORDS = {w: i + 1 for i, m in enumerate(MONTHS) for w in (m.lower(), m[:3].lower())}
_MONTH_WORDS["sept"] = 9
_WEEKDAY_WORDS = {w: i for i, d in enumerate(WEEKDAYS) for w in (d.lower(), d[:3].lower())}
_WEEKDAY_WORDS.update(tues=1, thur=3, thurs=3)
_FILLER = frozenset({"at", "on", "hrs", "hours", "h", "-", "–", "—"})


@dataclass(frozen=True)
class WhenParsed:
    utc: datetime  # aware, tzinfo=UTC
    zone: str  # canonical zone name, as distribution.zones spells it
    assumed_zone: bool  # no zone was written: the default zone was used


@dataclass
class _Parts:
    """What the tokens of a time said, before any zone arithmetic."""

    clock: time | None = None
    iso_date: date | None = None
    words: dict[str, int] = field(default_factory=dict)  # year, month, day, weekday
    zone: str | None = None
    offset: timedelta | None = None


def parse_when(text: str, default_zone: str | None = None, *,
               now: datetime | None = None) -> WhenParsed:
    """Read a time typed on the command line; "now" is the current instant."""
    cleaned = " ".join(text.split())
    if cleaned.lower() == "now":
        instant = zones.as_utc(now) if now is not None else datetime.now(UTC)
        return WhenParsed(instant, normalize_zone(default_zone) if default_zone else "UTC", False)
    return _parse(cleaned, default_zone)


def parse_embargo_text(text: str, default_zone: str | None) -> WhenParsed:
    """Read the words after "EMBARGOED UNTIL" in a release file."""
    cleaned = " ".join(text.replace("*", " ").split()).strip(" :.[]")
    # A trailing "(07:00 UTC)" repeats the time (our own embargo lines have one): drop it.
    cleaned = re.sub(r"\s*\([^()]*\)$", "", cleaned)
    return _parse(cleaned, default_zone)


def format_in_zone(utc: datetime, zone: str) -> str:
    """ "09:00 CEST, 16 April 2025": the instant as a wall time in `zone`."""
    local = to_zone(utc, zone)
    return f"{zones.clock_text(local)} {_label(local)}, {_date_text(local)}"


def embargo_display(embargo: datetime | None, org_zone: str, given_zone: str | None,
                    ) -> str | None:
    """The lift in the organisation's zone (else the zone it was given in) and in UTC."""
    if embargo is None:
        return None
    zone = org_zone or given_zone or "UTC"
    return f"{format_in_zone(embargo, zone)} ({format_in_zone(embargo, 'UTC')})"


def embargo_line(utc: datetime, zone: str, recipient_zone: str | None = None) -> str:
    """The embargo notice, with UTC and the recipient's own time when they differ."""
    utc = zones.as_utc(utc)
    local = to_zone(utc, zone)
    notes = []
    if local.utcoffset():
        same_day = utc.date() == local.date()
        notes.append(f"{zones.clock_text(utc)} UTC" + ("" if same_day else f", {_date_text(utc)}"))
    if recipient_zone:
        theirs = to_zone(utc, recipient_zone)
        if theirs.utcoffset() not in (local.utcoffset(), timedelta(0)):
            where = f" in {recipient_zone}" if "/" in recipient_zone else ""
            notes.append(format_in_zone(utc, recipient_zone) + where)
    line = f"STRICTLY EMBARGOED UNTIL {format_in_zone(utc, zone)}"
    return f"{line} ({'; '.join(notes)})" if notes else line


# --- reading -------------------------------------------------------------------------------

def _parse(text: str, default_zone: str | None) -> WhenParsed:
    try:
        parsed = _interpret(text, default_zone)
    except OverflowError:  # 0001-01-01 00:00 +02:00 is before the first representable instant
        parsed = None
    # Shown later in every zone, a day either side: 9999-12-31 in Kiritimati is past the
    # last representable instant.
    if parsed is None or not 1 < parsed.utc.year < 9999:
        raise TimeError(f"'{zones.quote(text)}' is out of range")
    return parsed


def _interpret(text: str, default_zone: str | None) -> WhenParsed:
    parts = _read_parts(text)
    if parts.clock is None:
        if parts.iso_date is None and not parts.words:
            raise _malformed(text)
        raise TimeError(f"'{zones.quote(text)}' has no time of day; use e.g. {EXAMPLE}")
    wall = datetime.combine(_date_of(parts, text), parts.clock)
    weekday = parts.words.get("weekday")
    if weekday is not None and weekday != wall.weekday():
        raise TimeError(f"{_date_text(wall)} is a {WEEKDAYS[wall.weekday()]}, "
                        f"not a {WEEKDAYS[weekday]}")
    if parts.zone is None and parts.offset is not None:
        return WhenParsed(zones.as_utc(wall.replace(tzinfo=timezone(parts.offset))),
                          zones.offset_name(parts.offset), False)
    if parts.zone is None and not default_zone:
        raise TimeError(f"'{zones.quote(text)}' has no time zone; add one (e.g. 'Europe/Zurich') "
                        "or set the organisation's time zone")
    name, tz = zones.find_zone(parts.zone or default_zone or "")
    return WhenParsed(zones.resolve(wall, name, tz, parts.offset), name, parts.zone is None)


def _tokens(text: str) -> list[str]:
    text = re.sub(r"(\d{4}-\d{2}-\d{2})[Tt](?=\d)", r"\1 ", text)  # ISO "T" separator
    text = re.sub(r"(\d[:.]\d{2}(?::\d{2}(?:\.\d+)?)?)([zZ]|[+-]\d)", r"\1 \2", text)  # 09:00Z
    text = re.sub(r"(\d)([ap]\.?m\.?)(?=$|[\s,])", r"\1 \2", text, flags=re.IGNORECASE)  # 9am
    return [token for token in re.split(r"[\s,]+", text) if token]


def _read_parts(text: str) -> _Parts:
    """Sort each token into clock, date, zone or offset; anything else is unreadable."""
    parts, tokens = _Parts(), _tokens(text)
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.lower() in _FILLER or _AMPM.fullmatch(token):
            continue  # an am/pm token is read together with the hour before it
        if _TIME.fullmatch(token) or (_HOUR.fullmatch(token) and _AMPM.fullmatch(following)):
            _set(parts, "clock", _clock(token, following, text), text)
        elif _ISO_DATE.fullmatch(token):
            _set(parts, "iso_date", _iso_date(token, text), text)
        elif word := _date_word(token):
            if word[0] in parts.words:
                raise _malformed(text)
            parts.words[word[0]] = word[1]
        else:
            zone, offset = _zone_token(token, text)
            if offset is not None:
                _set(parts, "offset", offset, text)
            else:
                _set(parts, "zone", zone, text)
    return parts


def _date_word(token: str) -> tuple[str, int] | None:
    word = token.lower().rstrip(".")
    if _YEAR.fullmatch(token):
        return "year", int(token)
    if match := _DAY.fullmatch(token):
        return "day", int(match.group(1))
    if word in _MONTH_WORDS:
        return "month", _MONTH_WORDS[word]
    if word in _WEEKDAY_WORDS:
        return "weekday", _WEEKDAY_WORDS[word]
    return None


def _set(parts: _Parts, name: str, value: object, text: str) -> None:
    if getattr(parts, name) is not None:
        raise _malformed(text)  # two times, two dates or two zones
    setattr(parts, name, value)


def _clock(token: str, following: str, text: str) -> time:
    match = _TIME.fullmatch(token)
    hour, minute, second, fraction = match.groups() if match else (token, "0", None, None)
    hour_value = int(hour)
    if _AMPM.fullmatch(following):
        if not 1 <= hour_value <= 12:
            raise _malformed(text)
        hour_value = hour_value % 12 + (12 if following[0].lower() == "p" else 0)
    try:
        return time(hour_value, int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError:
        raise _malformed(text) from None


def _iso_date(token: str, text: str) -> date:
    try:
        return date.fromisoformat(token)
    except ValueError:
        raise _malformed(text) from None


def _date_of(parts: _Parts, text: str) -> date:
    """Either an ISO date or day, month and year in words; not both, nothing missing."""
    dmy = {k: v for k, v in parts.words.items() if k != "weekday"}
    if parts.iso_date is not None and not dmy:
        return parts.iso_date
    if parts.iso_date is not None or set(dmy) != {"year", "month", "day"}:
        raise _malformed(text)
    try:
        return date(dmy["year"], dmy["month"], dmy["day"])
    except ValueError:
        raise _malformed(text) from None


def _zone_token(token: str, text: str) -> tuple[str | None, timedelta | None]:
    """A zone name or a UTC offset ("Z" is offset zero)."""
    if token in ("Z", "z"):
        return None, timedelta(0)
    if (offset := zones.read_offset(token)) is not None:
        return None, offset
    if "/" in token or token.upper() in zones.ABBREVIATIONS or token.upper() in zones.AMBIGUOUS \
            or token.lower() in zones.iana_names() or re.fullmatch(r"[A-Z]{2,5}", token):
        return token, None
    raise _malformed(text)


# --- showing -------------------------------------------------------------------------------

def label(local: datetime) -> str:
    """The zone's label at that moment: "CEST", or "UTC+05:30" where an abbreviation is
    ambiguous."""
    return _label(local)


def _label(local: datetime) -> str:
    # Only unambiguous abbreviations, so every label reads back the same; else "UTC+05:30".
    name, offset = local.tzname() or "", local.utcoffset()
    if zones.ABBREVIATIONS.get(name) == offset:
        return name
    return "UTC" if not offset else "UTC" + zones.offset_name(offset)


def date_text(moment: datetime | date) -> str:
    """ "16 April 2025", the same in every locale."""
    return _date_text(moment)


def _date_text(moment: datetime | date) -> str:
    # Month names from our own table: strftime("%B") follows the process locale.
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def _malformed(text: str) -> TimeError:
    return TimeError(f"cannot read '{zones.quote(text)}' as a time; use e.g. {EXAMPLE}")
