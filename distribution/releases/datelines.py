"""Datelines: the place and date that open, or close, the text of a press release.

"Damascus, April 16, 2025 – The ..." opens the first paragraph; some releases instead end
with a line of its own ("Geneva, 14 March 2025"). Months are English, full or abbreviated,
in day-month or month-day order; web copies often leave the year out ("Geneva, March 19 –").
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from distribution.releases.bodyformat import Paragraph, is_quote

_MONTH_NUMBERS: dict[str, int] = {}
for _number, _name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july",
     "august", "september", "october", "november", "december"),
    start=1,
):
    _MONTH_NUMBERS[_name] = _number
    _MONTH_NUMBERS[_name[:3]] = _number
_MONTH_NUMBERS["sept"] = 9

# Longest names first so that "june" is not read as "jun" + "e".
_MONTH = "|".join(sorted(_MONTH_NUMBERS, key=len, reverse=True))
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE = (
    rf"{_WEEKDAY}(?:(?P<day1>\d{{1,2}}){_ORDINAL}\s+(?P<month1>{_MONTH})\.?"
    rf"|(?P<month2>{_MONTH})\.?\s+(?P<day2>\d{{1,2}}){_ORDINAL})(?!\w)"
    r"(?:,?\s+(?P<year>\d{4})(?!\d))?"
)
# The place is checked by _looks_like_place; the regex only keeps it short and digit-free.
_PLACE = r"(?P<place>[^\W\d_][^\d:;!?\"“”()\[\]]{0,48}?)"
_OPENING = re.compile(
    rf"(?P<text>{_PLACE},?\s+{_DATE})\s*(?:--|[-–—])\s*(?P<rest>\S.*)", re.IGNORECASE
)
_LINE = re.compile(rf"(?P<text>{_PLACE},?\s+{_DATE})\s*(?:\.|--|[-–—])?", re.IGNORECASE)

# Capitalised words that open sentences like "On 16 April – ..." rather than datelines.
_NOT_PLACES = frozenset({
    "on", "in", "at", "by", "since", "from", "until", "till", "before", "after", "during",
    "through", "between", "last", "next", "this", "that", "every", "each", "today", "as",
    "of", "for", "to",
})
# Lower-case words that do occur inside place names ("Rio de Janeiro", "Frankfurt am Main").
_PLACE_PARTICLES = frozenset({
    "de", "la", "le", "les", "du", "des", "di", "da", "do", "dos", "das", "del", "della",
    "am", "an", "upon", "on", "sur", "en", "of", "al", "el", "bin", "van", "von", "der", "den",
})


@dataclass(frozen=True)
class Dateline:
    """A dateline as written, with what could be read from it."""

    text: str  # as written, without the dash that follows it: "Damascus, April 16, 2025"
    place: str
    date: datetime.date | None  # None when the year is missing or the day does not exist
    warning: str | None = None  # why `date` is None


def split_opening_dateline(line: str) -> tuple[Dateline, str] | None:
    """Split "Geneva, March 19 – The pain ..." into the dateline and the text after the dash."""
    match = _OPENING.fullmatch(line)
    if match is None:
        return None
    dateline = _dateline(match)
    return None if dateline is None else (dateline, match["rest"])


def parse_dateline(line: str) -> Dateline | None:
    """Read a line that is only a dateline: "Geneva, 14 March 2025", "GENEVA, 16 April –"."""
    match = _LINE.fullmatch(line.strip())
    return None if match is None else _dateline(match)


def take_dateline(story: list[Paragraph]) -> Dateline | None:
    """Remove and return the dateline opening the story (after pull quotes) or closing it."""
    for index, paragraph in enumerate(story):
        found = _opening_dateline(paragraph[0])
        if found is not None:
            dateline, rest = found
            story[index] = [line for line in (rest, *paragraph[1:]) if line]
            if not story[index]:
                del story[index]
            return dateline
        if not is_quote(" ".join(paragraph)):
            break
    closing = parse_dateline(story[-1][-1]) if story else None
    if closing is not None:
        story[-1].pop()
        if not story[-1]:
            story.pop()
    return closing


def _opening_dateline(line: str) -> tuple[Dateline, str] | None:
    """A dateline opening a line ("Geneva, March 19 – The ...") or alone on it."""
    alone = parse_dateline(line)
    return (alone, "") if alone is not None else split_opening_dateline(line)


def _dateline(match: re.Match[str]) -> Dateline | None:
    place = match["place"].strip(" ,")
    if not _looks_like_place(place):
        return None
    text = match["text"]
    month = _MONTH_NUMBERS[(match["month1"] or match["month2"]).lower()]
    day = int(match["day1"] or match["day2"])
    if match["year"] is None:
        # 2000 is a leap year: it accepts every day that exists in some year.
        if _date(2000, month, day) is None:
            return Dateline(text, place, None, f"dateline {text!r} names a day that does not exist")
        return Dateline(
            text, place, None,
            f"dateline {text!r} has no year; set `date:` (YYYY-MM-DD) in the front matter",
        )
    date = _date(int(match["year"]), month, day)
    if date is None:
        return Dateline(text, place, None, f"dateline {text!r} names a day that does not exist")
    return Dateline(text, place, date)


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _looks_like_place(place: str) -> bool:
    words = re.split(r"[\s/-]+", place)
    if not words or len(words) > 5 or words[0].lower() in _NOT_PLACES:
        return False
    return all(
        word[:1].isupper() or word.lower() in _PLACE_PARTICLES for word in words if word
    ) and place[:1].isupper()
