"""Dates and times as a reader of a language writes them (Babel/CLDR), in a given zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_date, format_time

from distribution import zones
from distribution.locales import babel_locale, direction, translate
from distribution.times import label, to_zone


def date_text(moment: datetime | date, language: str | None) -> str:
    """ "16 April 2025", "16 avril 2025", "16 نيسان 2025" (the locale's month names)."""
    return format_date(moment, "d MMMM y", locale=babel_locale(language))


def moment(utc: datetime, zone: str, language: str | None) -> str:
    """ "09:00 CEST, 16 April 2025": the instant as a wall time in `zone`."""
    local = to_zone(utc, zone)
    clock = _isolated(f"{_clock(local, language)} {label(local)}", language)
    return f"{clock}{translate(language, ', ')}{date_text(local, language)}"


def embargo_short(utc: datetime, zone: str, language: str | None) -> str:
    """ "EMBARGOED 09:00 CET 8 Dec": the marking a phone shows in a subject line."""
    local = to_zone(zones.as_utc(utc), zone)
    clock = _isolated(f"{_clock(local, language)} {label(local)}", language)
    day = format_date(local, "d MMM", locale=babel_locale(language))
    return translate(language, "EMBARGOED %(moment)s", moment=f"{clock} {day}")


def moment_with_utc(utc: datetime, zone: str, language: str | None,
                    recipient_zone: str | None = None) -> str:
    """The moment, with UTC and the recipient's own time when they differ."""
    utc = zones.as_utc(utc)
    local = to_zone(utc, zone)
    notes = []
    if local.utcoffset():
        same_day = utc.date() == local.date()
        day = "" if same_day else translate(language, ", ") + date_text(utc, language)
        notes.append(_isolated(f"{_clock(utc, language)} UTC", language) + day)
    if recipient_zone:
        theirs = to_zone(utc, recipient_zone)
        if theirs.utcoffset() not in (local.utcoffset(), timedelta(0)):
            shown = moment(utc, recipient_zone, language)
            if "/" in recipient_zone:
                shown = translate(language, "%(moment)s in %(zone)s", moment=shown,
                                zone=recipient_zone)
            notes.append(shown)
    text = moment(utc, zone, language)
    return f"{text} ({translate(language, '; ').join(notes)})" if notes else text


def embargo_line(utc: datetime, zone: str, language: str | None,
                 recipient_zone: str | None = None) -> str:
    return translate(language, "STRICTLY EMBARGOED UNTIL %(moment)s",
                   moment=moment_with_utc(utc, zone, language, recipient_zone))


def _isolated(text: str, language: str | None) -> str:
    """A clock and its zone ("10:00 UTC+03:00") kept in order inside right-to-left text."""
    return f"\u2068{text}\u2069" if direction(language) == "rtl" else text


def _clock(moment: datetime, language: str | None) -> str:
    # Seconds only where they were given: an embargo is set to the minute.
    pattern = "HH:mm:ss" if moment.second else "HH:mm"
    return format_time(moment, pattern, locale=babel_locale(language))
