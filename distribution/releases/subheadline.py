"""The subheadline: a short line (or standfirst) between the headline and the story.

Conservative on purpose, since a wrong guess takes a paragraph out of the story: see
take_subheadline for the conventions read.
"""

from __future__ import annotations

import re

from distribution.releases.bodyformat import (
    Paragraph,
    is_list_item,
    is_photo_credit,
    is_pull_quote,
)
from distribution.releases.conventions.datelines import (
    parse_dateline,
    split_dateline,
    split_opening_dateline,
)
from distribution.releases.conventions.head import is_head_item
from distribution.releases.endmatter import is_boilerplate_heading, is_end_marker
from distribution.releases.media_contacts import split_contact_heading

_ITALIC = re.compile(r"([*_])(\S(?:.*\S)?)\1")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

# The 1990s UN layout prefixes the subheadline with a stamp: "19960813 MATIN AG/L/162 ".
_DATE_STAMP = re.compile(
    r"\d{8}\s+(?:(?:MATIN|APR[EÈ]S-MIDI|SOIR|AM|PM)\s+)?(?:[A-Z]{1,6}(?:/[A-Z0-9.]{1,12})+\s+)?"
)
_BULLET = re.compile(r"[•●▪◦‣·]\s*")


def take_subheadline(paragraphs: list[Paragraph]) -> str | None:
    # Conservative on purpose: a short line right after the headline, with more text after
    # it, and no final period unless set in *italics* or followed by the dateline (a
    # standfirst). A quotation set apart is a pull quote (samples 03, 04 and 08 open with
    # one; 04's lost its opening mark) and stays in the body as a paragraph of its own.
    if len(paragraphs) < 2:
        return None
    first = paragraphs[0]
    standfirst = len(first) == 1 and _opens_with_dateline(paragraphs[1])
    if len(first) != 1 and not all(_is_title_line(line) for line in first):
        return None
    if split_dateline(paragraphs, 0) is not None:
        return None
    line = _DATE_STAMP.sub("", first[0], count=1)
    text = _BULLET.sub("", line, count=1)
    if standfirst and len(text) <= 400 and not (_has_a_role(text) or is_pull_quote(text)):
        paragraphs.pop(0)
        return text
    italic = _ITALIC.fullmatch(line)
    text = italic[2] if italic else line
    if (is_pull_quote(text) or _has_a_role(line) or _URL.search(text) or len(text) > 200
            or (text.startswith("(") and text.endswith(")"))):
        return None
    if not italic and text.endswith((".", ":")):
        return None
    first.pop(0)
    if not first:
        paragraphs.pop(0)
    return text


def _is_title_line(line: str) -> bool:
    return len(line) <= 200 and not line.endswith((".", ":")) and not _has_a_role(line)


def _opens_with_dateline(paragraph: Paragraph) -> bool:
    return split_opening_dateline(paragraph[0], first=False) is not None


def _has_a_role(line: str) -> bool:
    """Whether a line is something other than prose: marker, heading, dateline, list, ..."""
    return bool(
        is_end_marker(line)
        or is_boilerplate_heading(line)
        or is_head_item(line)
        or split_contact_heading(line) is not None
        or split_opening_dateline(line)
        or parse_dateline(line)
        or is_list_item(line)
        or is_photo_credit(line)
    )
