"""Datelines: the place and date that open, or close, the text of a press release.

Offices write them in many shapes; each pattern below names the convention it reads:
"Damascus, April 16, 2025 –", "BOSTON, MA —3 May 2021—", "TEGUCIGALPA (28 de diciembre de
2020) –", "(Nairobi) –", "Wien (OTS) –", "THE HAGUE, 31 October 2013. Today ...", "March 29,
2006 (The INTERNET).", "بيروت، 24 أكتوبر 2023 --", or a closing line of its own ("Geneva, 14
March 2025"). Dates are read by conventions.dates in any of its languages; web copies
often leave the year out ("Geneva, March 19 –").
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from distribution.releases.bodyformat import (
    Paragraph,
    is_list_item,
    is_pull_quote,
    without_leading_emphasis,
)
from distribution.releases.conventions.dates import DATE, fold, is_date, read_date, to_date

_DASH = r"(?:--|[-–—])"
# The place is checked by _looks_like_place; the regex only keeps it short.
_PLACE = r"(?P<place>[^\W\d_][^:;!?\"“”„«»()\[\]]{0,60}?)"
_D = rf"(?P<date>{DATE})"
_TEXT = r"(?P<rest>\S.*)"
_FLAGS = re.IGNORECASE
# Opening datelines, tried in order: (convention, pattern).
_OPENINGS = [
    # "Damascus, April 16, 2025 – ..." and the court style "THE HAGUE, 31 October 2013. Today"
    ("place, date –", re.compile(
        rf"(?P<text>{_PLACE},?\s+{_D})(?:\s*{_DASH}\s*|\.\s+(?=[^\W\d_]))(?P<rest>.*)", _FLAGS)),
    # "Ottawa, Canada - September 9, 2008 - ...", "BOSTON, MA —3 May 2021— ..."
    ("place – date –", re.compile(
        rf"(?P<text>{_PLACE}\s*{_DASH}\s*{_D})\s*{_DASH}\s*(?P<rest>.*)", _FLAGS)),
    # "TEGUCIGALPA (28 de diciembre de 2020) – ...", "WASHINGTON, D.C. (Oct. 4, 2022) –"
    ("place (date) –", re.compile(
        rf"(?P<text>{_PLACE},?\s*\({_D}\))\s*(?:{_DASH}\s*)?(?P<rest>.*)", _FLAGS)),
    # "March 29, 2006 (The INTERNET). The KDE Project ..."; "٢٤ تشرين الأول/أكتوبر ٢٠١٥ - ..."
    ("date (place) –", re.compile(
        rf"(?P<text>{_D}(?:\s*\({_PLACE}\))?)\s*(?:{_DASH}|\.)\s*{_TEXT}", _FLAGS)),
    # "http://www.apache.org/ -- June 30, 1999 -- ...": a web address where the place goes
    ("address – date –", re.compile(
        rf"(?P<text>(?:https?://|www\.)\S+\s*{_DASH}\s*{_D})\s*{_DASH}\s*(?P<rest>.*)", _FLAGS)),
    # Human Rights Watch: "(Nairobi) –Victims ..."
    ("(place) –", re.compile(rf"(?P<text>\({_PLACE}\))\s*{_DASH}\s*{_TEXT}", _FLAGS)),
    # Wire services: "Wien (OTS) – ...", "Geneva/Washington (ICRC) –", "Wien (OTS/RK) „Wir"
    ("place (agency) –", re.compile(
        rf"(?P<text>{_PLACE})\s*\((?P<agency>[^()\s]{{2,24}})\)\s*(?:{_DASH}\s*)?{_TEXT}")),
]
# Without a date: "Nairobi/Geneva/New York - The recent escalation ..."; first paragraph only.
_PLACE_DASH = re.compile(rf"(?P<text>{_PLACE})\s+{_DASH}\s+(?P<rest>[^\W\d_].*)")
_LINE = re.compile(rf"(?P<text>{_PLACE},?\s+{_D})\s*(?:\.|{_DASH})?", _FLAGS)

# Capitalised words that open sentences like "On 16 April – ..." rather than datelines.
_NOT_PLACES = frozenset({
    "on", "in", "at", "by", "since", "from", "until", "till", "before", "after", "during",
    "through", "between", "last", "next", "this", "that", "every", "each", "today", "as",
    "of", "for", "to", "a", "an", "and", "but", "le", "la", "les", "el", "los", "die",
    "der", "das", "am", "im", "il", "en", "au", "it", "we", "he", "she", "they", "our",
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
    place: str | None  # None where a web address or nothing stands for the place
    date: datetime.date | None  # None when no date, no year, or the day does not exist
    warning: str | None = None  # why `date` is None when a date was written


def split_opening_dateline(line: str, *, first: bool = True) -> tuple[Dateline, str] | None:
    """Split "Geneva, March 19 – The pain ..." into the dateline and the text after it."""
    line = without_leading_emphasis(line)
    folded = fold(line)
    for _name, pattern in _OPENINGS:
        match = pattern.fullmatch(folded)
        if match is not None and (dateline := _dateline(match, line)) is not None:
            return dateline, line[match.start("rest"):]
    if first and (match := _PLACE_DASH.fullmatch(folded)) and len(match["place"].split()) <= 4:
        dateline = _dateline(match, line)
        if dateline is not None:
            return dateline, line[match.start("rest"):]
    return None


def parse_dateline(line: str) -> Dateline | None:
    """Read a line that is only a dateline: "Geneva, 14 March 2025", "GENEVA, 16 April –"."""
    line = line.strip()
    line = without_leading_emphasis(line).strip()
    match = _LINE.fullmatch(fold(line))
    return None if match is None else _dateline(match, line)


def take_dateline(story: list[Paragraph]) -> Dateline | None:
    """Remove and return the dateline opening the story (after pull quotes, summary bullets
    and deck lines), or the closing line of a statement, which stays where it was written."""
    for index, paragraph in enumerate(story):
        if (split := split_dateline(story, index)) is not None:
            del story[index:index + 2]
            return split
        found = _opening_dateline(paragraph, first=index == 0)
        if found is not None:
            dateline, rest = found
            story[index] = [line for line in (rest, *paragraph[1:]) if line]
            if not story[index]:
                del story[index]
            return dateline
        if not _passed_over(paragraph):
            break
    # A statement ends with its place and date: read, and kept in the text where it stands.
    return parse_dateline(story[-1][-1]) if story else None


def split_dateline(story: list[Paragraph], index: int) -> Dateline | None:
    """A place on a line of its own and the date on the next ("بعبدا، لبنان" then
    "19 كانون الأول/ديسمبر 2021"), written as two one-line paragraphs."""
    if index + 1 >= len(story) or len(story[index]) != 1 or len(story[index + 1]) != 1:
        return None
    place, date_line = story[index][0], story[index + 1][0]
    if not (_is_place_line(place) and is_date(date_line)):
        return None
    found = read_date(date_line)
    date = to_date(*found) if found and found[2] else None  # type: ignore[arg-type]
    return Dateline(f"{place} {date_line}", place.strip(" ,،"), date)


def _passed_over(paragraph: Paragraph) -> bool:
    """Pull quotes, summary bullets and deck lines may stand between headline and dateline."""
    text = " ".join(paragraph)
    return (is_pull_quote(text) or all(map(is_list_item, paragraph))
            or all(len(line) <= 200 and not line.endswith((".", ":")) for line in paragraph))


def _opening_dateline(paragraph: Paragraph, *, first: bool) -> tuple[Dateline, str] | None:
    """A dateline opening a paragraph ("Geneva, March 19 – The ...") or alone on its line."""
    line = paragraph[0]
    if (alone := parse_dateline(line)) is not None:
        return alone, ""
    return split_opening_dateline(line, first=first)


def _is_place_line(line: str) -> bool:
    return len(line.split()) <= 4 and not re.search(r"[.:;!?\d]", line) and _looks_like_place(
        line.strip(" ,،"))


def _dateline(match: re.Match[str], original: str) -> Dateline | None:
    groups = match.groupdict()
    place = None
    if groups.get("place"):
        place = original[match.start("place"):match.end("place")].strip(" ,،-–—")
        if not _looks_like_place(place):
            return None
    text = original[match.start("text"):match.end("text")].strip(" -–—")
    if not groups.get("date"):
        return None if place is None else Dateline(text, place, None)
    found = read_date(original[match.start("date"):match.end("date")])
    if found is None:
        return None
    day, month, year = found
    if year is None:
        # 2000 is a leap year: it accepts every day that exists in some year.
        if to_date(day, month, 2000) is None:
            return Dateline(text, place, None, f"dateline {text!r} names a day that does not exist")
        return Dateline(
            text, place, None,
            f"dateline {text!r} has no year; set `date:` (YYYY-MM-DD) in the front matter",
        )
    date = to_date(day, month, year)
    if date is None:
        return Dateline(text, place, None, f"dateline {text!r} names a day that does not exist")
    return Dateline(text, place, date)


def _looks_like_place(place: str) -> bool:
    words = [word for word in re.split(r"[\s/,،.-]+", place) if word]
    if not words or len(words) > 7 or words[0].lower() in _NOT_PLACES:
        return False
    if words[-1] in _PLACE_PARTICLES:  # "Arrest Warrant of": a place ends with a name
        return False
    if not any(char.isupper() or char.islower() for char in place):
        return len(words) <= 4  # scripts without capitals (Arabic): the shape decides
    return place[:1].isupper() and all(
        word[:1].isupper() or word.isdigit() or word.lower() in _PLACE_PARTICLES
        or (len(word) <= 5 and word[:1].isalpha() and word.endswith(".")) for word in words
    )
