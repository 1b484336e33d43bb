"""Releases in the store: adding a parsed release, finding it, describing it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from distribution import times
from distribution.errors import InvalidInput
from distribution.releases import languages
from distribution.releases.conventions.embargo_lines import time_for_reading
from distribution.releases.endmatter import house_end_marker
from distribution.releases.families import Family, family_of
from distribution.releases.media_contacts import MediaContact, parse_contact_spec
from distribution.releases.parse import ParsedRelease
from distribution.store.models import (
    Delivery,
    DeliveryStatus,
    Distribution,
    Release,
    ReleaseStatus,
)


def embargo_to_use(parsed: ParsedRelease, flag: str | None,
                   no_embargo: bool) -> tuple[str | None, bool]:
    """(embargo text, whether it comes from the file). An embargo line that cannot be read
    never passes silently: the release is refused unless a flag says what to do."""
    if flag is not None and not flag.strip():
        # An empty $WHEN in a script must not publish a release early.
        raise InvalidInput("--embargo needs a time ('2025-04-16 09:00 Europe/Zurich'); "
                           "give --no-embargo for none")
    if flag and no_embargo:
        raise InvalidInput("--embargo and --no-embargo contradict each other; give one")
    if flag:
        return flag, False
    if no_embargo:
        return None, False
    if parsed.unreadable_embargo:
        raise InvalidInput(f"the line {parsed.unreadable_embargo!r} looks like an embargo but "
                           "its time cannot be read; give --embargo WHEN or --no-embargo")
    return parsed.embargo_text, True


def resolve_embargo(text: str | None, *, from_file: bool, settings: Settings,
                    now: datetime) -> times.WhenParsed | None:
    """Read an embargo time; refuse one that has already passed."""
    if not text:
        return None
    zone = settings.timezone or None
    when = _embargo_from_file(text, zone) if from_file else times.parse_when(text, zone, now=now)
    if when.utc <= now:
        raise InvalidInput(f"the embargo {times.format_in_zone(when.utc, when.zone)} is in the "
                           "past; a release cannot be embargoed to a time that has passed")
    return when


def _embargo_from_file(text: str, zone: str | None) -> times.WhenParsed:
    try:
        return times.parse_embargo_text(text, zone)
    except times.TimeError:
        pass
    try:  # French, Spanish, German or Arabic words, or a date the English reader lacks
        return times.parse_embargo_text(time_for_reading(text), zone)
    except times.TimeError as exc:
        raise InvalidInput(f"the embargo {text!r} in the file cannot be read ({exc}); give "
                           "--embargo WHEN or --no-embargo") from None


def checked_language(code: str | None) -> str | None:
    """A known language tag such as 'en', 'fr' or 'pt-BR' (it ends up in Content-Language)."""
    return None if code is None else languages.checked(code, what="--language")


def language_of(parsed: ParsedRelease, flag: str | None) -> str:
    """The flag, else the front matter, else what the text is written in, else English."""
    if flag:
        return flag
    if parsed.language:
        return languages.checked(parsed.language, what="the front matter's language")
    text = " ".join(filter(None, (parsed.headline, parsed.body)))
    return languages.detect(text) or "en"


def contacts_from_flags(specs: tuple[str, ...]) -> list[MediaContact]:
    found = []
    for spec in specs:
        try:
            found.append(parse_contact_spec(spec))
        except ValueError as exc:
            raise InvalidInput(f"--contact {spec!r}: {exc}") from None
    return found


def add_release(session: Session, parsed: ParsedRelease, *, embargo: times.WhenParsed | None,
                language: str | None, contacts: list[MediaContact], source_name: str | None,
                now: datetime) -> Release:
    """Store a parsed release as a draft; flags (embargo, language, contacts) win."""
    release = Release(source_name=source_name, created_at=now)
    fill_release(release, parsed, embargo=embargo, language=language, contacts=contacts)
    session.add(release)
    session.flush()
    return release


def fill_release(release: Release, parsed: ParsedRelease, *, embargo: times.WhenParsed | None,
                 language: str | None, contacts: list[MediaContact]) -> None:
    """Set every field a release file gives (a new draft, or a draft edited)."""
    language = language_of(parsed, language)
    release.headline = parsed.headline
    release.subheadline = parsed.subheadline
    release.language = language
    release.dateline_place = parsed.dateline_place
    release.dateline_date = parsed.dateline_date
    release.dateline_text = parsed.dateline_text
    release.body = parsed.body
    release.end_marker = parsed.end_marker or house_end_marker(language)
    release.end_marker_added = parsed.end_marker is None
    release.media_contacts = [asdict(c) for c in (contacts or parsed.media_contacts)]
    release.boilerplate_heading = parsed.boilerplate_heading
    release.boilerplate = parsed.boilerplate
    release.embargo_until = embargo.utc if embargo else None
    release.embargo_zone = embargo.zone if embargo else None


def add_version(session: Session, parsed: ParsedRelease, of_id: int, *,
                language: str | None, contacts: list[MediaContact], source_name: str | None,
                now: datetime) -> Release:
    """Another language version of release `of_id`'s family, sharing its embargo and sends.

    It names the family's root, whichever text of the family `of_id` is: a version added
    after a correction goes out with the corrected text."""
    family = _open_family(session, of_id)
    code = language_of(parsed, language)
    for line in family.lines:
        existing = line.language
        if languages.primary(existing) == languages.primary(code) and (
                existing.lower() == code.lower() or "-" not in existing + code):
            raise InvalidInput(f"release {of_id} already has a version in {code} "
                               f"(release {line.head.id})")
    original = family.main.head
    version = add_release(session, parsed, embargo=None, language=code, contacts=contacts,
                          source_name=source_name, now=now)
    version.version_of_id = family.root.id
    version.embargo_until, version.embargo_zone = original.embargo_until, original.embargo_zone
    version.status, version.first_sent_at = original.status, original.first_sent_at
    session.flush()
    return version


def _open_family(session: Session, release_id: int) -> Family:
    family = family_of(session, release_id)
    if family.main.head.status == ReleaseStatus.WITHDRAWN:
        raise InvalidInput(f"release {release_id} was withdrawn; it cannot have a new version")
    return family


def versions(session: Session, release: Release) -> list[Release]:
    """The current text in every language of the release's family, the original first."""
    return family_of(session, release.id).heads


def all_releases(session: Session) -> list[Release]:
    return list(session.scalars(select(Release).order_by(Release.id)))


def held_count(session: Session, release_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(
        select(func.count()).select_from(Delivery)
        .join(Distribution, Distribution.id == Delivery.distribution_id)
        .where(Distribution.release_id == release_id,
               Delivery.status == DeliveryStatus.HELD.value)) or 0


def describe(release: Release, settings: Settings) -> dict[str, Any]:
    """The fields a user or a script reads about a release."""
    embargo = release.embargo_until
    return {
        "id": release.id,
        "headline": release.headline,
        "subheadline": release.subheadline,
        "language": release.language,
        "version_of": release.version_of_id,
        "dateline_place": release.dateline_place,
        "dateline_date": release.dateline_date.isoformat() if release.dateline_date else None,
        "dateline_text": release.dateline_text,
        "embargo_until": _in_zone(embargo, release.embargo_zone) if embargo else None,
        "embargo_zone": release.embargo_zone,
        "embargo_display": times.embargo_display(embargo, settings.timezone, release.embargo_zone),
        "end_marker": release.end_marker,
        "end_marker_added": release.end_marker_added,
        "media_contacts": release.media_contacts,
        "boilerplate_heading": release.boilerplate_heading,
        "boilerplate": release.boilerplate,
        "body": release.body,
        "status": release.status.value,
        "created_at": release.created_at.isoformat(),
        "first_sent_at": release.first_sent_at.isoformat() if release.first_sent_at else None,
    }


def details(session: Session, release: Release, settings: Settings) -> dict[str, Any]:
    """describe(), and what the store knows around the release: `release show`."""
    family = family_of(session, release.id)
    line = family.line_of(release.id)
    return {
        **describe(release, settings),
        "held_deliveries": held_count(session, release.id),
        "withdrawn_at": release.withdrawn_at.isoformat() if release.withdrawn_at else None,
        "corrects_id": release.corrects_id,
        "corrected_by": [r.id for r in line.texts if r.id > release.id],
        "family_id": family.root.id,  # the public address: /releases/{family_id}
    }


def _in_zone(utc: datetime, zone: str | None) -> str:
    """ISO 8601 with the offset of the zone the embargo was given in (any form times reads)."""
    return times.to_zone(utc, zone).isoformat() if zone else utc.isoformat()
