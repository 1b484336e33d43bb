"""Correcting a release: a new version, sent as a CORRECTION to exactly those who had it.

The corrected text is a new Release row (corrects_id = the version it corrects), so what each
recipient was sent stays on record. Copies not yet sent (held public rows, a send still in
progress or scheduled) move to a distribution of the corrected version: whoever has not had
the release yet gets the right text, once, and no correction.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distribution.embargo.notices import (
    NOT_YET_SENT,
    UNFINISHED,
    family,
    follow_up,
    office_words,
    with_office_words,
)
from distribution.errors import InvalidInput
from distribution.media import catalogue as media_catalogue
from distribution.media.catalogue import MediaUploads
from distribution.releases import catalogue
from distribution.releases.parse import ParsedRelease
from distribution.store.models import (
    Delivery,
    Distribution,
    DistributionKind,
    DistributionStatus,
    Release,
    ReleaseStatus,
)

DS = DistributionStatus
_FIELDS = (("headline", "headline"), ("subheadline", "subheadline"),
           ("dateline", "dateline_text"))


def plan_correction(session: Session, release_id: int,
                    parsed: ParsedRelease) -> tuple[list[Release], str]:
    """Check a correction before it is recorded: the release's versions, and what changed."""
    versions = family(session, release_id)
    original = next(r for r in versions if r.id == release_id)
    if original.status == ReleaseStatus.WITHDRAWN:
        raise InvalidInput(f"release {release_id} was withdrawn; it cannot be corrected")
    if versions[-1].id != release_id:
        raise InvalidInput(f"release {release_id} was already corrected by release "
                           f"{versions[-1].id}; correct that one instead")
    changes = what_changed(original, parsed)
    if not changes:
        raise InvalidInput(f"the corrected text is the same as release {release_id}")
    return versions, "Changed: " + "; ".join(changes) + "."


def correct_release(session: Session, release_id: int, parsed: ParsedRelease, *,
                    now: datetime, source_name: str | None = None, note: str | None = None,
                    photos: MediaUploads | None = None,
                    ) -> tuple[Release, Distribution | None]:
    """Store the corrected version; schedule the correction (None: no one had the release).

    note: the office's own words, added after the list of what changed. The photos and
    files go with it: the file's own (`photos`, read from its front matter) if it names
    any, else the corrected release's.
    """
    words = office_words(note)
    versions, changed = plan_correction(session, release_id, parsed)
    note = with_office_words(changed, words)
    original = next(r for r in versions if r.id == release_id)
    corrected = _new_version(session, original, parsed, now, source_name)
    if photos and photos.uploads:
        media_catalogue.attach_all(session, photos.settings, corrected, photos.uploads,
                                   new_version=True)
    else:
        media_catalogue.copy_media(session, original.id, corrected.id)
    dist, _ = follow_up(session, corrected, DistributionKind.CORRECTION, note, now)
    _carry_over(session, [r.id for r in versions], corrected, now)
    return corrected, dist


def carried_over(session: Session, corrected_id: int) -> list[int]:
    """Distributions of the corrected text that took over copies not yet sent."""
    return list(session.scalars(
        select(Distribution.id).where(Distribution.release_id == corrected_id,
                                      Distribution.kind == DistributionKind.RELEASE.value)))


def _new_version(session: Session, original: Release, parsed: ParsedRelease, now: datetime,
                 source_name: str | None) -> Release:
    corrected = catalogue.add_release(
        session, parsed, embargo=None, language=parsed.language or original.language,
        contacts=[], source_name=source_name, now=now)
    if not parsed.media_contacts:  # a file without a contact block keeps the release's
        corrected.media_contacts = list(original.media_contacts)
    corrected.corrects_id = original.id
    # The embargo is the family's, not the file's: moving it is `release embargo`'s job.
    corrected.embargo_until, corrected.embargo_zone = original.embargo_until, original.embargo_zone
    corrected.status = original.status
    corrected.first_sent_at = original.first_sent_at
    session.flush()
    return corrected


def _carry_over(session: Session, old_ids: list[int], corrected: Release,
                now: datetime) -> None:
    """Unsent copies of the old text move to a like distribution of the corrected one."""
    unfinished = session.scalars(
        select(Distribution).where(Distribution.release_id.in_(old_ids),
                                   Distribution.kind == DistributionKind.RELEASE.value,
                                   Distribution.status.in_(UNFINISHED))
        .order_by(Distribution.id)).all()
    for old in unfinished:
        new = Distribution(
            release_id=corrected.id, kind=DistributionKind.RELEASE, list_names=old.list_names,
            # A send under way goes on now; a scheduled or paused one keeps its state.
            status=DS.PAUSED if old.status == DS.PAUSED else DS.SCHEDULED,
            paused_reason=old.paused_reason, send_at=max(old.send_at, now),
            send_zone=old.send_zone, created_at=now)
        session.add(new)
        session.flush()
        moved = session.execute(
            update(Delivery)
            .where(Delivery.distribution_id == old.id, Delivery.status.in_(NOT_YET_SENT))
            .values(distribution_id=new.id)
            .execution_options(synchronize_session=False)).rowcount
        if not moved:
            session.delete(new)
        elif old.status != DS.SENDING:
            # Nothing of it is left to send; a sending one finishes by itself in the sweep.
            old.status, old.finished_at = DS.CANCELLED, now
    session.flush()


def what_changed(old: Release, new: ParsedRelease) -> list[str]:
    """What a reader should look at again: "headline", "paragraph 3", "media contact"..."""
    changes = [label for label, attr in _FIELDS
               if (getattr(old, attr) or "") != (getattr(new, attr) or "")]
    changes += _paragraphs_changed(old.body or "", new.body or "")
    # A file without a contact block keeps the release's contacts (see _new_version).
    theirs = [asdict(c) for c in new.media_contacts]
    if theirs and _sorted(old.media_contacts) != _sorted(theirs):
        changes.append("media contact" if len(theirs) == 1 else "media contacts")
    if (old.boilerplate or "") != (new.boilerplate or ""):
        heading = old.boilerplate_heading or new.boilerplate_heading
        changes.append(f"the “{heading}” section" if heading else "boilerplate")
    return changes


def _paragraphs_changed(old: str, new: str) -> list[str]:
    """Paragraphs numbered as in the corrected text (removed ones: as in the original)."""
    before, after = _blocks(old), _blocks(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    found = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace":
            found.append(_numbered(j1, j2))
        elif tag == "insert":
            found.append(_numbered(j1, j2) + " added")
        elif tag == "delete":
            found.append(_numbered(i1, i2) + " removed")
    return found


def _blocks(body: str) -> list[str]:
    # bodyformat separates blocks by exactly one blank line.
    return [block for block in body.split("\n\n") if block.strip()]


def _numbered(start: int, end: int) -> str:
    if end - start <= 1:
        return f"paragraph {start + 1}"
    return f"paragraphs {start + 1}–{end}"


def _sorted(contacts: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    return [dict(sorted(c.items())) for c in contacts or []]
