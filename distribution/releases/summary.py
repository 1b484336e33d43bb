"""What `release add` tells the officer: the fields it read, and a warning for each field it
did not find or is unsure of, so that nothing a journalist relies on goes out by guesswork."""

from __future__ import annotations

import re

from distribution.releases.endmatter import house_end_marker
from distribution.releases.parse import ParsedRelease

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_PHOTO = re.compile(r"^(?:©|\(c\)\s|photo(?:\s+credit)?s?\s*:)", re.IGNORECASE | re.MULTILINE)


def summary(parsed: ParsedRelease) -> dict[str, object]:
    """The fields read, by name, as a person reads them (None: not found)."""
    dateline = parsed.dateline_text
    if dateline is not None and parsed.dateline_date is not None:
        dateline = f"{dateline} ({parsed.dateline_date.isoformat()})"
    elif dateline is None and parsed.dateline_date is not None:
        dateline = f"dated {parsed.dateline_date.isoformat()}"
    text = f"{parsed.body}\n{parsed.boilerplate or ''}"
    return {
        "headline": parsed.headline,
        "subheadline": parsed.subheadline,
        "dateline": dateline,
        "embargo": parsed.embargo_text,
        "contacts": [", ".join(c.parts) for c in parsed.media_contacts],
        "end marker": parsed.end_marker,
        "boilerplate": parsed.boilerplate_heading,
        "language": parsed.language,
        "links": len(_URL.findall(text)),
        "photos": len(_PHOTO.findall(text)),
    }


def missing_field_warnings(parsed: ParsedRelease) -> list[str]:
    """A warning for every field not found, or only guessed."""
    warnings = []
    if parsed.dateline_text is None and parsed.dateline_date is None:
        warnings.append("no dateline found (place and date); set `dateline:` or `date:` in the "
                        "front matter")
    if not parsed.media_contacts:
        warnings.append("no media contact found; set one with --contact")
    if parsed.end_marker is None:
        warnings.append(f"no end marker found; the house marker "
                        f"{house_end_marker(parsed.language)} is added")
    if parsed.boilerplate_heading is None:
        warnings.append("no boilerplate heading found (such as 'About ...')")
    if parsed.language is None:
        warnings.append("language not recognised; 'en' is assumed unless --language says")
    elif parsed.language_guessed:
        warnings.append(f"language guessed from the text as {parsed.language!r}; "
                        "--language sets it")
    return warnings
