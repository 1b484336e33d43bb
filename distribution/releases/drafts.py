"""Drafts an officer can fix: a release written out as front matter and text for an editor,
read back and checked as `release add` checks a file, or deleted while nothing was sent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distribution import times
from distribution.errors import InvalidInput
from distribution.store.models import Distribution, Release, ReleaseStatus


def editable_text(release: Release) -> str:
    """The release as a file `release add` would read back into the same fields."""
    front = []
    if release.subheadline:
        front.append(f"subheadline: {_one_line(release.subheadline)}")
    front.append(f"language: {release.language}")
    if release.dateline_text:
        front.append(f"dateline: {_one_line(release.dateline_text)}")
    if release.dateline_place:
        front.append(f"place: {_one_line(release.dateline_place)}")
    if release.dateline_date:
        front.append(f"date: {release.dateline_date.isoformat()}")
    if release.embargo_until is not None:
        zone = release.embargo_zone or "UTC"
        local = times.to_zone(release.embargo_until, zone)
        front.append(f"embargo: {local:%Y-%m-%d %H:%M} {zone}")
    for contact in release.media_contacts or []:
        name, email, phone = (contact.get(key) or "" for key in ("name", "email", "phone"))
        front.append(f"contact: {name} <{email}> {phone}".rstrip())
    if not release.end_marker_added:
        front.append(f"end_marker: {release.end_marker}")
    if release.boilerplate_heading:
        front.append(f"boilerplate_heading: {_one_line(release.boilerplate_heading)}")
    parts = [release.headline, release.body]
    if not release.end_marker_added:
        parts.append(release.end_marker)
    if release.boilerplate_heading or release.boilerplate:
        parts += [release.boilerplate_heading or "Notes to editors", release.boilerplate or ""]
    text = "\n\n".join(part for part in parts if part)
    return "---\n" + "\n".join(front) + "\n---\n" + text + "\n"


def check_editable(release: Release) -> None:
    if release.status is not ReleaseStatus.DRAFT:
        raise InvalidInput(f"release {release.id} is {release.status.value}, not a draft; "
                           "a release that went out can only be corrected (release correct) "
                           "or withdrawn (release embargo --withdraw)")


def delete_draft(session: Session, release: Release) -> None:
    """Delete a draft nothing was ever sent or scheduled from."""
    check_editable(release)
    sends = session.scalar(select(func.count()).select_from(Distribution)
                           .where(Distribution.release_id == release.id)) or 0
    corrections = session.scalar(select(func.count()).select_from(Release)
                                 .where(Release.corrects_id == release.id)) or 0
    if sends or corrections:
        raise InvalidInput(f"release {release.id} has sends or corrections on record; cancel "
                           "or withdraw it instead of deleting it")
    session.delete(release)
    session.flush()


def _one_line(text: str) -> str:
    return " ".join(text.split())
