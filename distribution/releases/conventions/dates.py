"""Dates as press offices write them, in English, French, Spanish, German, Italian, Dutch and
Arabic: "16 April 2025", "April 16, 2025", "1er mars 2024", "28 de diciembre de 2020",
"4. April 2020", "31.07.2002", "12 / 07 / 2021", "٧ تشرين الثاني/نوفمبر ٢٠٢٣".

Arabic offices name months two ways, Levantine (كانون الثاني، شباط، آذار…) and Gulf/Egyptian
(يناير، فبراير…), often both at once ("آذار/مارس"), and may write Arabic-Indic digits. Text
is read through `fold`, a one-to-one character mapping, so positions found in the folded text
are positions in the original.
"""

from __future__ import annotations

import datetime
import re

_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "janvier", "enero", "januar", "jänner", "gennaio", "januari",
        "كانون الثاني", "يناير", "جانفي"),
    2: ("february", "feb", "février", "fevrier", "febrero", "februar", "feber", "febbraio",
        "februari", "شباط", "فبراير", "فيفري"),
    3: ("march", "mar", "mars", "marzo", "märz", "maerz", "maart", "اذار", "مارس"),
    4: ("april", "apr", "avril", "abril", "aprile", "نيسان", "ابريل", "افريل"),
    5: ("may", "mai", "mayo", "maggio", "mei", "ايار", "مايو", "ماي"),
    6: ("june", "jun", "juin", "junio", "juni", "giugno", "حزيران", "يونيو", "يونيه", "جوان"),
    7: ("july", "jul", "juillet", "julio", "juli", "luglio", "تموز", "يوليو", "يوليه",
        "جويلية"),
    8: ("august", "aug", "août", "aout", "agosto", "augustus", "اب", "اغسطس", "أوت", "اوت"),
    9: ("september", "sept", "sep", "septembre", "septiembre", "setiembre", "settembre",
        "ايلول", "سبتمبر"),
    10: ("october", "oct", "octobre", "octubre", "oktober", "ottobre", "تشرين الاول",
         "اكتوبر"),
    11: ("november", "nov", "novembre", "noviembre", "تشرين الثاني", "نوفمبر"),
    12: ("december", "dec", "décembre", "decembre", "diciembre", "dezember", "dicembre",
         "كانون الاول", "ديسمبر"),
}
# Arabic-Indic and Persian digits read as digits; the forms of alef read as bare alef.
_FOLD = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹أإآ،", "0123456789" "0123456789" "ااا,"
)


def fold(text: str) -> str:
    """Digits and alef forms made plain; same length as `text`, character for character."""
    return text.translate(_FOLD)


MONTH_NUMBERS = {fold(name): number for number, names in _MONTHS.items() for name in names}
# Longest first, so that "june" is not read as "jun" + "e"; no letter may follow a name.
_NAMES = "|".join(re.escape(n) for n in sorted(MONTH_NUMBERS, key=len, reverse=True))
_MONTH_NAME = rf"(?:{_NAMES})(?![^\W\d_])\.?"
# "تشرين الثاني/نوفمبر": the second name repeats the first.
MONTH = rf"{_MONTH_NAME}(?:\s*/\s*{_MONTH_NAME})?"
_WEEKDAY = (
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|lundi|mardi|mercredi|jeudi|vendredi"
    r"|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|montag|dienstag"
    r"|mittwoch|donnerstag|freitag|samstag|sonntag)\.?,?\s+"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|º|°|\.)?"
_YEAR = r"(?:,?\s*(?:de\s+|del\s+)?\d{4}(?!\d))"
# A date as a regular expression without groups, to be embedded in larger patterns.
DATE = (
    rf"(?:{_WEEKDAY})?(?:{_DAY}\s*(?:de\s+)?{MONTH}{_YEAR}?"
    rf"|{MONTH}\s+{_DAY}(?!\d){_YEAR}?"
    r"|\d{1,2}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{4}(?!\d)"
    r"|\d{4}-\d{2}-\d{2}(?!\d))"
)
_NUMERIC = re.compile(r"(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4})|(\d{4})-(\d{2})-(\d{2})")
_DAY_MONTH = re.compile(rf"(?P<day>\d{{1,2}})\D*?(?P<month>{_NAMES})", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"(?P<month>{_NAMES})\.?\s+(?P<day>\d{{1,2}})", re.IGNORECASE)
_DATE_ONLY = re.compile(rf"\s*{DATE}\s*[.,]?\s*", re.IGNORECASE)


def is_date(text: str) -> bool:
    """Whether text is a date and nothing else ("٠٧ نوفمبر ٢٠٢٣", "Wednesday, 5 May 2021")."""
    return _DATE_ONLY.fullmatch(fold(text)) is not None


def read_date(text: str) -> tuple[int, int, int | None] | None:
    """(day, month, year or None) of the date written in `text`, day first or month first."""
    folded = fold(text)
    numeric = _NUMERIC.search(folded)
    if numeric:
        if numeric[4]:
            return int(numeric[6]), int(numeric[5]), int(numeric[4])
        return int(numeric[1]), int(numeric[2]), int(numeric[3])  # day first, as in Europe
    match = _MONTH_DAY.search(folded)
    day_first = _DAY_MONTH.search(folded)
    if day_first and (match is None or day_first.start() < match.start()):
        match = day_first
    if match is None:
        return None
    year = re.search(r"\d{4}(?!\d)", folded[match.end():])
    month = MONTH_NUMBERS[match["month"].lower()]
    return int(match["day"]), month, int(year[0]) if year else None


def to_date(day: int, month: int, year: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def find_date(text: str) -> datetime.date | None:
    """The complete date written in text, if it names day, month and year."""
    found = read_date(text)
    if found is None or found[2] is None:
        return None
    return to_date(found[0], found[1], found[2])
