"""Release files: a plain-text press release parsed into structured fields.

A release reads: headline; an optional subheadline; the story, whose first paragraph may open
with a dateline ("Damascus, April 16, 2025 – ..."); then its end matter (end marker, media
contact, boilerplate) in any order. An optional front matter on top overrides what the text
says. Parsing is pure, text in and fields out: doubts become `warnings`; what a user must fix
raises `ReleaseError`. `body` and `boilerplate` follow distribution.releases.bodyformat.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from distribution.errors import InvalidInput
from distribution.releases.bodyformat import (
    CONTROLS,
    Paragraph,
    format_body,
    normalise_line,
)
from distribution.releases.conventions.datelines import (
    Dateline,
    parse_dateline,
    take_dateline,
)
from distribution.releases.conventions.head import Head, read_head, skip_head_items
from distribution.releases.conventions.language import detect_language
from distribution.releases.endmatter import (
    is_end_marker,
    split_end_matter,
    split_trailing_marker,
)
from distribution.releases.formats import MAX_WORD_BYTES, is_word, release_text
from distribution.releases.frontmatter import (
    FrontMatter,
    FrontMatterError,
    PhotoSpec,
    split_front_matter,
)
from distribution.releases.media_contacts import (
    MediaContact,
    parse_contact_block,
)
from distribution.releases.subheadline import take_subheadline

__all__ = ["MediaContact", "ParsedRelease", "ReleaseError", "parse_release", "read_release_file"]


class ReleaseError(InvalidInput, ValueError):
    """A release that cannot be used as given; the message is one line for the user."""


@dataclass
class ParsedRelease:
    headline: str
    subheadline: str | None = None
    language: str | None = None  # front matter, else a guess from the text (language_guessed)
    language_guessed: bool = False
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
    embargo_convention: str | None = None  # which form of embargo line was read
    unreadable_embargo: str | None = None  # a line that looks like an embargo, not read
    kickers: list[str] = field(default_factory=list)  # labels above or under the headline
    source_format: str = "text"  # "text", "markdown" or "word"
    front_matter: dict[str, str] = field(default_factory=dict)
    photos: list[PhotoSpec] = field(default_factory=list)  # from front matter only
    warnings: list[str] = field(default_factory=list)


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


# A press release is a few pages; text past this is a mistake (a PDF, a log, a video) that
# would be sent to every recipient. Documented in the README. (A Word file may be larger on
# disk, with its photos; the text read from it is held to the same limit.)
MAX_RELEASE_BYTES = 1_000_000


def read_release_file(path: str | os.PathLike[str]) -> ParsedRelease:
    """Read and parse a release file: plain text, Markdown or Word (chosen by content)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_WORD_BYTES + 1)
    except FileNotFoundError:
        raise ReleaseError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ReleaseError(f"not a file: {path}") from None
    except OSError as exc:
        raise ReleaseError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_RELEASE_BYTES and not is_word(data):
        raise ReleaseError(f"{path} is larger than a release may be "
                           f"({MAX_RELEASE_BYTES:,} bytes)")
    try:
        text, source_format = release_text(data, path)
    except InvalidInput as exc:
        raise ReleaseError(str(exc)) from None
    try:
        release = parse_release(text)
    except ReleaseError as exc:
        raise ReleaseError(f"{path}: {exc}") from None
    release.source_format = source_format
    return release


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
    head = read_head(paragraphs)
    headline = head.headline
    if headline is not None and is_end_marker(headline.strip()):
        raise ReleaseError(f"release has no headline: it starts with the end marker "
                           f"{headline.strip()!r}")
    if headline is None and "headline" not in front.values:
        raise ReleaseError("release has no headline")
    # A subheadline given in the front matter: the text's first paragraph is text.
    subheadline = None if "subheadline" in front.values else take_subheadline(paragraphs)
    skip_head_items(paragraphs, head)
    story, end = split_end_matter(paragraphs)
    dateline = take_dateline(story) or head.dateline
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
        embargo_text=head.embargo,
        embargo_convention=head.embargo_convention,
        unreadable_embargo=head.unreadable_embargo,
        kickers=head.kickers,
    )
    dateline_warning = _set_dateline(release, dateline, front, head)
    _apply_front_matter(release, front)
    if release.language is None:
        release.language = detect_language(f"{release.headline}\n{release.body}")
        release.language_guessed = release.language is not None
    if front.contacts:  # the front matter settles what the contact block left in doubt
        contact_warnings = []
    release.warnings = _warnings(release, dateline_warning, contact_warnings)
    if stripped:
        release.warnings.append(f"{stripped} control character(s) removed from the text")
    if headline is not None and headline != release.headline:
        release.warnings.append(f"the front-matter headline replaces the first line {headline!r}")
    return release


def _without_controls(text: str) -> tuple[str, int]:
    """The text without control characters (a form feed or vertical tab: a line end)."""
    text = text.replace("\x0c", "\n").replace("\x0b", "\n")
    return CONTROLS.subn("", text)


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
    if len(paragraph) == 1 and split_trailing_marker(paragraph[0]) is None:
        return [paragraph]
    parts: list[Paragraph] = []
    current: Paragraph = []
    for line in paragraph:
        if (trailing := split_trailing_marker(line)) is not None:
            parts += [[*current, trailing[0]], [trailing[1]]]
            current = []
        elif is_end_marker(line) and not (line.isalpha() and line.islower()):
            parts += [current, [line]] if current else [[line]]
            current = []
        else:
            current.append(line)
    return parts + [current] if current else parts


def _set_dateline(release: ParsedRelease, found: Dateline | None, front: FrontMatter,
                  head: Head) -> str | None:
    """Fill the dateline fields, front matter first; return the warning that still applies.
    A date from the head (a kicker's date, a date line) dates a release whose dateline has
    none."""
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
    if release.dateline_date is None and head.date is not None:
        release.dateline_date = head.date
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
