"""Release files: a plain-text press release parsed into structured fields.

A release reads: headline; an optional subheadline; the story, whose first paragraph may open
with a dateline ("Damascus, April 16, 2025 – ..."); then its end matter (end marker, media
contact, boilerplate) in any order. An optional front matter on top overrides what the text
says. Parsing is pure, text in and fields out: doubts become `warnings`; what a user must fix
raises `ReleaseError`. `body` and `boilerplate` follow distribution.releases.bodyformat.
"""

from __future__ import annotations

import codecs
import datetime
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from distribution.errors import InvalidInput
from distribution.releases.bodyformat import (
    Paragraph,
    format_body,
    is_list_item,
    is_photo_credit,
    is_quote,
    normalise_line,
)
from distribution.releases.datelines import (
    Dateline,
    parse_dateline,
    split_opening_dateline,
    take_dateline,
)
from distribution.releases.endmatter import is_boilerplate_heading, is_end_marker, split_end_matter
from distribution.releases.frontmatter import (
    FrontMatter,
    FrontMatterError,
    PhotoSpec,
    split_front_matter,
)
from distribution.releases.media_contacts import (
    MediaContact,
    parse_contact_block,
    split_contact_heading,
)

__all__ = ["MediaContact", "ParsedRelease", "ReleaseError", "parse_release", "read_release_file"]


class ReleaseError(InvalidInput, ValueError):
    """A release that cannot be used as given; the message is one line for the user."""


@dataclass
class ParsedRelease:
    headline: str
    subheadline: str | None = None
    language: str | None = None  # from front matter only
    dateline_place: str | None = None
    dateline_date: datetime.date | None = None  # None when the year is not written
    dateline_text: str | None = None  # as written: "Damascus, April 16, 2025"
    body: str = ""
    end_marker: str | None = None  # as written: "-ENDS-", "###", ...
    media_contacts: list[MediaContact] = field(default_factory=list)
    media_contact_text: str | None = None  # the contact block as written
    boilerplate_heading: str | None = None
    boilerplate: str | None = None
    embargo_text: str | None = None  # raw, e.g. "09:00 CET, 16 April 2025"
    front_matter: dict[str, str] = field(default_factory=dict)
    photos: list[PhotoSpec] = field(default_factory=list)  # from front matter only
    warnings: list[str] = field(default_factory=list)


_EMBARGO = re.compile(
    r"(?:strictly\s+)?(?:(?:under\s+)?embargo(?:ed)?\s+until\s*:?|embargo(?:ed)?\s*:)"
    r"\s*(?P<time>.+)",
    re.IGNORECASE,
)
# Labels some offices put above the headline; they are not the headline.
_RELEASE_LABEL = re.compile(
    r"(?:for\s+immediate\s+release|(?:press|news|media)\s+release)\W*", re.IGNORECASE
)
_ITALIC = re.compile(r"([*_])(\S(?:.*\S)?)\1")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_DANGLING_LINK = re.compile(
    r"\b(?:read|see|click|find|watch|listen)\b[^.!?]{0,80}?\bhere\b[^.!?]*[.!?]?", re.IGNORECASE
)
_LONG_HEADLINE = 200
_OVERRIDES = {  # front-matter key -> field
    "headline": "headline",
    "subheadline": "subheadline",
    "language": "language",
    "embargo": "embargo_text",
    "end_marker": "end_marker",
    "boilerplate_heading": "boilerplate_heading",
}


# A press release is a few pages; a file past this is a mistake (a PDF, a log, a video)
# that would be sent to every recipient. Documented in the README.
MAX_RELEASE_BYTES = 1_000_000


def read_release_file(path: str | os.PathLike[str]) -> ParsedRelease:
    """Read and parse a release file: UTF-8 (a BOM is fine), any line endings."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RELEASE_BYTES + 1)
    except FileNotFoundError:
        raise ReleaseError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ReleaseError(f"not a file: {path}") from None
    except OSError as exc:
        raise ReleaseError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_RELEASE_BYTES:
        raise ReleaseError(f"{path} is larger than a release may be "
                           f"({MAX_RELEASE_BYTES:,} bytes)")
    text = _decode(data, path)
    try:
        return parse_release(text)
    except ReleaseError as exc:
        raise ReleaseError(f"{path}: {exc}") from None


def parse_release(text: str) -> ParsedRelease:
    """Parse the text of a release (see the module docstring for its shape)."""
    if len(text) > MAX_RELEASE_BYTES:
        raise ReleaseError(f"the release is larger than a release may be "
                           f"({MAX_RELEASE_BYTES:,} characters)")
    text, stripped = _without_controls(text)
    try:
        front, lines = split_front_matter(_lines(text))
    except FrontMatterError as exc:
        raise ReleaseError(str(exc)) from None
    paragraphs = _paragraphs(lines)
    headline, embargo = _read_head(paragraphs)
    if headline is not None and is_end_marker(headline.strip()):
        raise ReleaseError(f"release has no headline: it starts with the end marker "
                           f"{headline.strip()!r}")
    if headline is None and "headline" not in front.values:
        raise ReleaseError("release has no headline")
    subheadline = _take_subheadline(paragraphs)
    story, end = split_end_matter(paragraphs)
    dateline = take_dateline(story)
    contacts, contact_warnings = parse_contact_block(end.contact_lines())
    release = ParsedRelease(
        headline=headline or "",
        subheadline=subheadline,
        body=format_body(story),
        end_marker=end.end_marker,
        media_contacts=contacts,
        media_contact_text=end.contact_text(),
        boilerplate_heading=end.boilerplate_heading,
        boilerplate=format_body(end.boilerplate) or None,
        embargo_text=embargo,
    )
    dateline_warning = _set_dateline(release, dateline, front)
    _apply_front_matter(release, front)
    if front.contacts:  # the front matter settles what the contact block left in doubt
        contact_warnings = []
    release.warnings = _warnings(release, dateline_warning, contact_warnings)
    if stripped:
        release.warnings.append(f"{stripped} control character(s) removed from the text")
    if headline is not None and headline != release.headline:
        release.warnings.append(f"the front-matter headline replaces the first line {headline!r}")
    return release


def _decode(data: bytes, path: Path) -> str:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        raise ReleaseError(f"{path} is not UTF-8 (line {line})") from None


# C0 and C1 controls but tab and line ends, DEL, and the two noncharacters XML refuses: a
# feed with one is not well-formed, a terminal acts on them, PostgreSQL refuses NUL.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _without_controls(text: str) -> tuple[str, int]:
    """The text without control characters (a form feed or vertical tab: a line end)."""
    text = text.replace("\x0c", "\n").replace("\x0b", "\n")
    return _CONTROLS.subn("", text)


def _lines(text: str) -> list[str]:
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _paragraphs(lines: list[str]) -> list[Paragraph]:
    """Blank-line separated paragraphs of whitespace-normalised lines."""
    paragraphs: list[Paragraph] = []
    current: Paragraph = []
    for raw in lines:
        line = normalise_line(raw)
        if line:
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return [part for paragraph in paragraphs for part in _split_at_markers(paragraph)]


def _split_at_markers(paragraph: Paragraph) -> list[Paragraph]:
    # A marker written right under the last line still ends the story; a lower-case "end"
    # alone on a line of wrapped prose counts only as a paragraph of its own.
    if len(paragraph) == 1:
        return [paragraph]
    parts: list[Paragraph] = []
    current: Paragraph = []
    for line in paragraph:
        if is_end_marker(line) and not (line.isalpha() and line.islower()):
            parts += [current, [line]] if current else [[line]]
            current = []
        else:
            current.append(line)
    return parts + [current] if current else parts


def _first_line(paragraphs: list[Paragraph]) -> str | None:
    return paragraphs[0][0] if paragraphs else None


def _pop_line(paragraphs: list[Paragraph]) -> str | None:
    if not paragraphs:
        return None
    line = paragraphs[0].pop(0)
    if not paragraphs[0]:
        paragraphs.pop(0)
    return line


def _read_head(paragraphs: list[Paragraph]) -> tuple[str | None, str | None]:
    """Take the headline, and the embargo line found before it or right after it."""
    embargo = None
    while (line := _first_line(paragraphs)) is not None and (
        _EMBARGO.fullmatch(line) or _RELEASE_LABEL.fullmatch(line)
    ):
        embargo = embargo or _embargo_time(line)
        _pop_line(paragraphs)
    headline = _pop_line(paragraphs)
    line = _first_line(paragraphs)
    if line is not None and _EMBARGO.fullmatch(line):
        embargo = embargo or _embargo_time(line)
        _pop_line(paragraphs)
    return headline, embargo


def _embargo_time(line: str) -> str | None:
    match = _EMBARGO.fullmatch(line)
    return match["time"] if match else None


def _take_subheadline(paragraphs: list[Paragraph]) -> str | None:
    # Conservative on purpose: a short single line right after the headline, with more text
    # after it, and no final period unless set in *italics*. A line with quotation marks is
    # a pull quote (samples 03, 04 and 08 open with one; 04's lost its opening mark) and
    # stays in the body as a paragraph of its own.
    if len(paragraphs) < 2 or len(paragraphs[0]) != 1:
        return None
    line = paragraphs[0][0]
    italic = _ITALIC.fullmatch(line)
    text = italic[2] if italic else line
    if is_quote(text) or _has_a_role(line) or _URL.search(text) or len(text) > 200:
        return None
    if not italic and text.endswith((".", ":")):
        return None
    paragraphs.pop(0)
    return text


def _has_a_role(line: str) -> bool:
    """Whether a line is something other than prose: marker, heading, dateline, list, ..."""
    return bool(
        is_end_marker(line)
        or is_boilerplate_heading(line)
        or _EMBARGO.fullmatch(line)
        or split_contact_heading(line) is not None
        or split_opening_dateline(line)
        or parse_dateline(line)
        or is_list_item(line)
        or is_photo_credit(line)
    )


def _set_dateline(release: ParsedRelease, found: Dateline | None, front: FrontMatter) -> str | None:
    """Fill the dateline fields, front matter first; return the warning that still applies."""
    written = front.values.get("dateline")
    if written is not None:
        release.dateline_text = written
        found = parse_dateline(written) or found
    elif found is not None:
        release.dateline_text = found.text
    if found is not None:
        release.dateline_place, release.dateline_date = found.place, found.date
    if "place" in front.values:
        release.dateline_place = front.values["place"]
    if front.date is not None:
        release.dateline_date = front.date
        return None
    return found.warning if found is not None else None


def _apply_front_matter(release: ParsedRelease, front: FrontMatter) -> None:
    release.front_matter = dict(front.values)
    for key, attribute in _OVERRIDES.items():
        if key in front.values:
            setattr(release, attribute, front.values[key])
    if front.contacts:
        release.media_contacts = list(front.contacts)
    release.photos = list(front.photos)


def _warnings(
    release: ParsedRelease, dateline_warning: str | None, contact_warnings: list[str]
) -> list[str]:
    warnings: list[str] = []
    if len(release.headline) > _LONG_HEADLINE:
        warnings.append(
            f"headline is {len(release.headline)} characters long; is its first line the headline?"
        )
    if dateline_warning:
        warnings.append(dateline_warning)
    warnings += contact_warnings
    if not release.body:
        warnings.append("release has no body text")
    if not _URL.search(release.body):
        # Web copies keep "Read the full article here." but lose the link itself.
        warnings += [
            f"{match[0]!r} refers to a link the text does not contain; add the URL"
            for match in _DANGLING_LINK.finditer(release.body)
        ]
    return warnings
