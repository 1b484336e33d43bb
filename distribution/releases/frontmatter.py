"""Front matter: an optional block of `key: value` lines between `---` lines atop a release.

It is not YAML, and deliberately tiny: one key per line, plain-text values, `contact` and
`photo` ("photo: site.jpg | caption | credit | alt text", path relative to the file) may
repeat, blank lines and `#` comments are skipped. Its values override what the release text
says, so a mistake in it is an error (with its line number), never a guess.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from distribution.releases.media_contacts import MediaContact, parse_contact_spec

KEYS = (
    "headline", "subheadline", "language", "dateline", "date", "place", "embargo",
    "contact", "end_marker", "boilerplate_heading", "photo",
)
_DELIMITER = "---"
_LINE = re.compile(r"(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*)")
# The store's column sizes: a longer value is a mistake, better reported here than there.
_MAX_LENGTH = {"language": 16, "end_marker": 20, "place": 200, "dateline": 200,
               "boilerplate_heading": 200}
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


class FrontMatterError(ValueError):
    """A front-matter line that cannot be read; the message names the line."""


@dataclass(frozen=True)
class PhotoSpec:
    """A photo named in front matter: its path (relative to the release file) and texts."""

    path: str
    caption: str | None = None
    credit: str | None = None
    alt: str | None = None


def parse_photo_spec(value: str) -> PhotoSpec:
    parts = [" ".join(p.split()) or None for p in value.split("|")]
    if len(parts) > 4:
        raise ValueError("expected 'path | caption | credit | alt text' (at most four parts)")
    path, *texts = parts
    if not path:
        raise ValueError("the photo's path is missing")
    return PhotoSpec(path, *texts)


@dataclass
class FrontMatter:
    values: dict[str, str] = field(default_factory=dict)  # repeated `contact` lines: "\n"-joined
    contacts: list[MediaContact] = field(default_factory=list)
    date: datetime.date | None = None
    photos: list[PhotoSpec] = field(default_factory=list)


def split_front_matter(lines: list[str]) -> tuple[FrontMatter, list[str]]:
    """The front matter at the top of `lines` (if any) and the lines after it."""
    if not lines or lines[0].rstrip() != _DELIMITER:
        return FrontMatter(), lines
    end = next((i for i, line in enumerate(lines) if i and line.rstrip() == _DELIMITER), None)
    if end is None:
        raise FrontMatterError("front matter opened on line 1 has no closing '---' line")
    front = FrontMatter()
    for number, line in enumerate(lines[1:end], start=2):
        _read_line(front, number, line)
    return front, lines[end + 1:]


def _read_line(front: FrontMatter, number: int, line: str) -> None:
    line = line.strip()
    if not line or line.startswith("#"):
        return
    match = _LINE.fullmatch(line)
    if match is None:
        raise FrontMatterError(f"front matter line {number}: expected 'key: value', got {line!r}")
    key, value = match["key"], _unquote(" ".join(match["value"].split()))
    if key not in KEYS:
        raise FrontMatterError(
            f"front matter line {number}: unknown key {key!r} (known: {', '.join(KEYS)})"
        )
    if not value:
        raise FrontMatterError(f"front matter line {number}: {key!r} has no value")
    if len(value) > _MAX_LENGTH.get(key, len(value)):
        raise FrontMatterError(
            f"front matter line {number}: {key!r} is longer than {_MAX_LENGTH[key]} characters"
        )
    if key not in ("contact", "photo") and key in front.values:
        raise FrontMatterError(f"front matter line {number}: {key!r} is given twice")
    try:
        _store(front, key, value)
    except ValueError as exc:
        raise FrontMatterError(f"front matter line {number}: {key}: {exc}") from None


def _store(front: FrontMatter, key: str, value: str) -> None:
    if key == "contact":
        front.contacts.append(parse_contact_spec(value))
        previous = front.values.get("contact")
        value = value if previous is None else f"{previous}\n{value}"
    elif key == "photo":
        front.photos.append(parse_photo_spec(value))
        previous = front.values.get("photo")
        value = value if previous is None else f"{previous}\n{value}"
    elif key == "date":
        front.date = _iso_date(value)
    elif key == "language" and not _LANGUAGE.fullmatch(value):
        raise ValueError(f"expected a language tag such as 'en' or 'fr-CH', got {value!r}")
    front.values[key] = value


def _iso_date(value: str) -> datetime.date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")


def _unquote(value: str) -> str:
    # People used to YAML quote values; the quotes are not part of the headline.
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value
