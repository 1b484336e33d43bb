"""The head of a release: what stands above the story, around the headline.

Offices put labels above (or under) the headline that are not the headline: kickers ("FOR
IMMEDIATE RELEASE", "MEDIA ALERT", "Communiqué de presse", "بيان صحفي", "Press Release: 14
May 2019 |", whose date dates the release), document symbols ("SG/SM/20001", "No. 2013/31"),
a date alone on its line, a place-and-date line, embargo lines, and a letterhead (the issuer's
name over its address, telephone and website). This module names each convention and reads
them off the top of the paragraphs, leaving the headline and what follows.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from distribution.releases.bodyformat import Paragraph
from distribution.releases.conventions.datelines import Dateline, parse_dateline
from distribution.releases.conventions.dates import DATE, find_date, fold, is_date
from distribution.releases.conventions.embargo_lines import looks_like_embargo, read_embargo_line

_LABELS = (
    # English
    r"(?:for\s+)?immediate\s+release|for\s+release|(?:press|news|media)\s+"
    r"(?:release|advisory|alert|statement|note|briefing|invitation|communiqu[ée])"
    r"|media\s+advisory|photo\s+(?:opportunity|op)|advisory|statement|daily\s+news"
    r"|midday\s+express|communiqu[ée]|unofficial|dateline"
    # French, Spanish, German, Italian, Dutch
    r"|communiqu[ée]\s+de\s+presse|avis\s+aux\s+m[ée]dias|note\s+aux\s+(?:r[ée]dactions|m[ée]dias)"
    r"|pour\s+(?:diffusion|publication)\s+imm[ée]diate|officieux|non\s+officiel"
    r"|comunicado(?:\s+de\s+prensa)?|nota\s+(?:de\s+prensa|informativa|a\s+los\s+medios)"
    r"|aviso\s+a\s+los\s+medios|para\s+(?:difusi[óo]n|publicaci[óo]n)\s+inmediata"
    r"|presse(?:mitteilung|meldung|information|aussendung|einladung)"
    r"|medien(?:information|mitteilung|-?einladung)|zur\s+sofortigen\s+ver[öo]ffentlichung"
    r"|comunicato(?:\s+stampa)?|nota\s+stampa|persbericht"
    # Arabic
    r"|بيان\s+(?:صحفي|صحافي|اعلامي)|بيان|مذكرة\s+اعلامية|خبر\s+صحفي|للنشر\s+الفوري"
)
_NUMBER = r"(?:\s*(?:n[o°º]?\.?|nr\.?|#|رقم)?\s*\d[\w/.-]*)"
# "European Commission - Daily News", "05-04-2007 News Release 07/47", "Press Release: 19
# March 2009 |", "Comunicato stampa n. 55", "For Immediate Release --"
_KICKER = re.compile(
    rf"(?:(?P<before>{DATE})\s+)?(?:[^\n]{{2,60}}?\s+[-–—|]\s+)?(?:{_LABELS}){_NUMBER}?"
    rf"(?:\s*[:|,–—-]?\s*(?P<date>{DATE}))?[\s:|,.–—-]*",
    re.IGNORECASE,
)
# A short label, a colon and a date: "Data comunicato: 30 agosto 2021", "Date: 5 May 2020".
_LABELLED_DATE = re.compile(rf"[^\W\d_][^:\d]{{0,30}}:\s*(?P<date>{DATE})\s*", re.IGNORECASE)
# Document symbols: UN "SG/SM/22174", "AG/L/162"; "ICC-OTP-20030709-24"; "No. 2013/31".
_SYMBOL = re.compile(
    r"[A-Z]{1,6}(?:/[A-Z0-9.]{1,12}){1,5}|[A-Z]{2,6}(?:-[A-Z0-9]{2,12}){2,5}"
    r"|(?:No|N°|Nº|Nr|Ref)\.?\s*\d{1,5}(?:/\d{1,5})?"
)
# A letterhead line carries the issuer's telephone, fax, address or website.
_LETTERHEAD = re.compile(
    r"\b(?:tel|phone|telephone|telefax|fax|website|internet\s+address|web)\b\s*[.:(]"
    r"|^(?:https?://|www\.)\S+$",
    re.IGNORECASE,
)


# Courts head a release with the case: its name, then the parties in parentheses, "Arrest
# Warrant of 11 April 2000" over "(Democratic Republic of the Congo v. Belgium)".
_PARTIES = re.compile(r"\([^()]{3,200}\s(?:v\.?|vs\.?|c\.|contre|versus)\s[^()]{2,200}\)")


@dataclass
class Head:
    headline: str | None = None
    kickers: list[str] = field(default_factory=list)
    date: datetime.date | None = None  # from a kicker or a date line: the release's date
    dateline: Dateline | None = None  # a place-and-date line of its own above the story
    embargo: str | None = None  # the time as written
    embargo_convention: str | None = None
    unreadable_embargo: str | None = None  # a line that looks like an embargo, not read


def read_kicker_date(line: str) -> tuple[bool, datetime.date | None]:
    """(whether the line is a kicker, the date it carries)."""
    folded = fold(line)
    match = _KICKER.fullmatch(folded) or _LABELLED_DATE.fullmatch(folded)
    if match is None:
        return False, None
    written = match.groupdict().get("date") or match.groupdict().get("before")
    return True, find_date(written) if written else None


def is_symbol(line: str) -> bool:
    return _SYMBOL.fullmatch(line.strip()) is not None


def is_letterhead(line: str) -> bool:
    return _LETTERHEAD.search(line) is not None and len(line) <= 120


def is_head_item(line: str) -> bool:
    """Whether a line is a label, symbol, date or embargo rather than a title."""
    return bool(read_kicker_date(line)[0] or is_symbol(line) or is_date(line)
                or read_embargo_line(line) or looks_like_embargo(line))


def read_head(paragraphs: list[Paragraph]) -> Head:
    """Take the headline and the labels around it off the top of `paragraphs`."""
    head = Head()
    after_letterhead = False
    for _ in range(24):  # a head is a few lines; the loop ends long before
        line = _first_line(paragraphs)
        if line is None:
            break
        if _take_item(head, line):
            _pop_line(paragraphs)
            continue
        if is_letterhead(line) and not _is_prose(line):
            head.headline = None  # the line above was the issuer's name
            after_letterhead = True
            _pop_line(paragraphs)
            continue
        if head.headline is not None:
            break
        _pop_line(paragraphs)
        following = _first_line(paragraphs)
        if following is not None and _PARTIES.fullmatch(following):
            head.kickers += [line, following]  # the case caption of a court's release
            _pop_line(paragraphs)
            continue
        if (after_letterhead and len(line.split()) <= 6 and following is not None
                and not _take_item(Head(), following) and not _is_prose(following)):
            continue  # the issuer's name under its letterhead
        if following is not None and read_kicker_date(following)[0] and not _is_symbol_kicker(
                following):
            continue  # an issuer's name above the kicker: "Ministero della Salute"
        head.headline = line
    return head


def skip_head_items(paragraphs: list[Paragraph], head: Head) -> None:
    """Labels written under the subheadline ("For Immediate Release --") are not text."""
    while (line := _first_line(paragraphs)) is not None and _take_item(head, line):
        _pop_line(paragraphs)


def _is_symbol_kicker(line: str) -> bool:
    # A dated release-type line right under the headline ("05-04-2007 News Release 07/47")
    # belongs to it; a bare label under a line makes that line the issuer's name.
    return bool(re.match(r"\s*\d", fold(line)))


def _take_item(head: Head, line: str) -> bool:
    """Record a head item found on `line`; False when the line is not one."""
    embargo = read_embargo_line(line)
    if embargo is not None:
        head.embargo_convention, head.embargo = embargo
        return True
    if looks_like_embargo(line) and not _is_prose(line):
        head.unreadable_embargo = line
        return True
    kicker, date = read_kicker_date(line)
    if kicker:
        head.kickers.append(line)
        head.date = head.date or date
        return True
    if is_symbol(line):
        head.kickers.append(line)
        return True
    if is_date(line):
        head.date = head.date or find_date(line)
        return True
    dateline = parse_dateline(line)
    if dateline is not None and head.dateline is None:
        head.dateline = dateline
        return True
    return False


def _is_prose(line: str) -> bool:
    return len(line) > 160


def _first_line(paragraphs: list[Paragraph]) -> str | None:
    return paragraphs[0][0] if paragraphs else None


def _pop_line(paragraphs: list[Paragraph]) -> str | None:
    if not paragraphs:
        return None
    line = paragraphs[0].pop(0)
    if not paragraphs[0]:
        paragraphs.pop(0)
    return line
