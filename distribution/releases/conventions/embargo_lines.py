"""Embargo lines at the top of a release, in the forms offices write them.

Each pattern names its convention. A line that says "embargo" (or sperrfrist, حظر النشر, ...)
but matches none of them, or whose time cannot be read, is reported as unreadable: a release
must never lose its embargo silently (the caller refuses it unless told what to do).
"""

from __future__ import annotations

import re

from distribution.releases.conventions.dates import DATE, fold, read_date

_CONVENTIONS: list[tuple[str, str]] = [
    ("English 'embargoed until'",
     r"(?:strictly\s+)?(?:under\s+)?embargo(?:ed)?(?:\s+for\s+release)?\s+(?:until|till)\s*:?"),
    ("English 'embargo:'", r"(?:strictly\s+)?embargo(?:ed)?\s*:"),
    ("English 'not for publication before'",
     r"not\s+for\s+(?:publication|release|broadcast)(?:\s+or\s+broadcast)?\s+"
     r"(?:before|until)\s*:?"),
    ("English 'hold for release until'", r"hold\s+for\s+release\s+until\s*:?"),
    ("French 'sous embargo jusqu'au'",
     r"(?:sous\s+)?embargo\s+jusqu['’]\s*(?:au|à|a)\s*:?"),
    ("French 'ne pas publier avant'", r"ne\s+pas\s+(?:publier|diffuser)\s+avant\s*(?:le\s+)?:?"),
    ("Spanish 'embargo hasta'",
     r"(?:bajo\s+)?(?:embargo|embargado)\s+hasta\s*(?:el\s+)?:?"),
    ("Spanish 'no publicar antes de'", r"no\s+(?:publicar|difundir)\s+antes\s+de(?:l)?\s*:?"),
    ("German 'Sperrfrist'", r"sperrfrist\s*(?:bis\s*)?:?"),
    ("German 'Embargo bis'", r"embargo\s+bis\s*:?"),
    ("Arabic 'حظر النشر حتى'",
     r"(?:يحظر|محظور|ممنوع|حظر)\s+(?:ال)?نشر(?:ه)?\s+(?:حتى|قبل)\s*:?"),
    ("Arabic 'لا ينشر قبل'", r"لا\s+[يت]\S*نشر\S*\s+(?:قبل|حتى)\s*:?"),
]
_LINE = re.compile(
    "|".join(f"(?:{pattern})" for _, pattern in _CONVENTIONS), re.IGNORECASE
)
_PATTERNS = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _CONVENTIONS]
# Words that make a line look like an embargo even when no convention reads it.
_LOOKS = re.compile(
    r"\W*(?:strictly\s+|under\s+|sous\s+|bajo\s+)?(?:embarg\w*|sperrfrist|not\s+for\s+publication)"
    r"|\W*(?:يحظر|محظور|ممنوع|حظر|لا\s+[يت]\S*نشر)",
    re.IGNORECASE,
)
# "Embargo on arms lifted" is a headline: a line that looks like an embargo names a time.
_TIME_WORDS = re.compile(
    r"\d|until|till|before|jusqu|avant|hasta|antes|bis\b|vor\b|حتى|قبل", re.IGNORECASE)
# Words around the time that the time reader does not need.
_FILLER = re.compile(
    r"\b(?:à|a\s+las|a\s+la|um|uhr|heures?|horas?|hrs?|le|el|den|am|du|del|de)\b|الساعة|يوم",
    re.IGNORECASE,
)
_ZONES = {"غرينتش": "GMT", "جرينتش": "GMT", "mez": "CET", "mesz": "CEST", "hec": "CET",
          "hnec": "CET", "hae": "CEST", "بتوقيت": ""}
_CLOCK_H = re.compile(r"(\d{1,2})\s*h\s*(\d{2})?\b", re.IGNORECASE)  # French "9 h 30"


def read_embargo_line(line: str) -> tuple[str, str] | None:
    """(convention, time as written) for an embargo line, else None."""
    folded = fold(line.strip(" *[]"))
    for name, pattern in _PATTERNS:
        match = pattern.match(folded)
        if match is not None and folded[match.end():].strip(" :-–—"):
            return name, line.strip(" *[]")[match.end():].strip(" :-–—")
    return None


def looks_like_embargo(line: str) -> bool:
    """A short line that speaks of an embargo, read or not."""
    folded = fold(line)
    return (len(line) <= 160 and _LOOKS.match(folded) is not None
            and _TIME_WORDS.search(folded) is not None)


def time_for_reading(text: str) -> str:
    """The time of an embargo line in a form the English time reader takes: the date as
    ISO 8601, a French "9 h 30" as 9:30, local words and zone names dropped or translated."""
    folded = fold(text)
    date = re.search(DATE, folded, re.IGNORECASE)
    if date is not None and (found := read_date(date[0])) is not None and found[2] is not None:
        day, month, year = found
        folded = f"{folded[:date.start()]} {year:04d}-{month:02d}-{day:02d} {folded[date.end():]}"
    folded = _CLOCK_H.sub(lambda m: f"{m[1]}:{m[2] or '00'}", folded)
    words = []
    for word in _FILLER.sub(" ", folded).replace(",", " ").split():
        words.append(_ZONES.get(word.lower(), word))
    return " ".join(word for word in words if word)
