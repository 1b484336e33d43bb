"""Taking a release in: the parsed file and the officer's flags become a stored draft, and a
report of what was read and what was not found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from config import Settings
from distribution.releases import catalogue
from distribution.releases.media_contacts import MediaContact
from distribution.releases.parse import ParsedRelease, parse_release
from distribution.releases.summary import missing_field_warnings, summary
from distribution.store.db import database_now
from distribution.store.models import Release


@dataclass(frozen=True)
class Flags:
    embargo: str | None
    no_embargo: bool
    language: str | None
    contacts: list[MediaContact]


def add_parsed(session: Session, parsed: ParsedRelease, flags: Flags, settings: Settings, *,
               source_name: str | None) -> tuple[dict[str, Any], list[str]]:
    """Store the draft; return its description (with `read`, the summary) and the warnings."""
    text, from_file = catalogue.embargo_to_use(parsed, flags.embargo, flags.no_embargo)
    now = database_now(session)
    when = catalogue.resolve_embargo(text, from_file=from_file, settings=settings, now=now)
    item = catalogue.add_release(session, parsed, embargo=when, language=flags.language,
                                 contacts=flags.contacts, source_name=source_name, now=now)
    info = catalogue.describe(item, settings)
    read = summary(parsed)
    read["language"], read["end marker"] = info["language"], info["end_marker"]
    if flags.contacts:
        read["contacts"] = [", ".join(c.parts) for c in flags.contacts]
    info["read"] = read
    return info, warnings_for(parsed, flags, when)


def warnings_for(parsed: ParsedRelease, flags: Flags, when: Any) -> list[str]:
    warnings = list(parsed.warnings) + missing_field_warnings(parsed)
    if flags.contacts:
        warnings = [w for w in warnings if "contact" not in w.lower()]
    if flags.language:
        warnings = [w for w in warnings if "language" not in w]
    if flags.no_embargo and (parsed.embargo_text or parsed.unreadable_embargo):
        warnings.append("the file's embargo line is ignored (--no-embargo)")
    if when is not None and when.assumed_zone:
        warnings.append(f"the embargo time has no zone; read it in {when.zone}")
    return warnings


def report(info: dict[str, Any]) -> str:
    """The lines `release add` prints: what was read (the warnings go to stderr)."""
    lines = [f"Release {info['id']} added: {info['headline']}"]
    read = dict(info["read"])
    read["embargo"] = info["embargo_display"]
    if info["end_marker_added"]:
        read["end marker"] = f"{info['end_marker']} (added: none in the text)"
    for label, value in read.items():
        if label == "headline" or value in (None, "", [], 0):
            continue
        shown = "; ".join(value) if isinstance(value, list) else value
        lines.append(f"  {label}: {shown}")
    return "\n".join(lines)


def update_from_text(session: Session, release: Release, text: str,
                     settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """Save an edited draft, checked as `release add` checks a file; same id."""
    parsed = parse_release(text)
    flags = Flags(None, False, None, [])
    embargo_text, from_file = catalogue.embargo_to_use(parsed, None, False)
    when = catalogue.resolve_embargo(embargo_text, from_file=from_file, settings=settings,
                                     now=database_now(session))
    catalogue.fill_release(release, parsed, embargo=when, language=None, contacts=[])
    session.flush()
    info = catalogue.describe(release, settings)
    info["read"] = summary(parsed)
    info["read"]["end marker"] = info["end_marker"]
    return info, warnings_for(parsed, flags, when)
