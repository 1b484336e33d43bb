"""Correcting a release: a new text, sent as a CORRECTION to exactly those who had it.

The corrected text is a new Release row (corrects_id = the text it corrects), so what each
recipient was sent stays on record; the family keeps its address (releases.families).

Correcting the original's text tells everyone who received the release, each in the
language they were sent: a reader of a language version whose text was corrected too gets
that corrected version (unless they were already sent it); a reader of a version that was
never corrected gets the corrected original, the notice in their language. Correcting a
language version tells exactly those who were sent that language's text.

Copies not yet sent (held public rows, a send still in progress or scheduled) move to a
distribution of the corrected original: whoever has not had the release yet gets the
right text, once, and no correction. They always get each language's newest text.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distribution.embargo.notices import (
    NOT_YET_SENT,
    count_recipients,
    follow_up,
    office_words,
    with_office_words,
)
from distribution.errors import InvalidInput
from distribution.media import catalogue as media_catalogue
from distribution.media.catalogue import MediaUploads
from distribution.releases import catalogue
from distribution.releases.bodyformat import split_blocks
from distribution.releases.families import Family, Line, family_of
from distribution.releases.parse import ParsedRelease
from distribution.store.db import rows_written
from distribution.store.models import (
    UNFINISHED_DISTRIBUTIONS,
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


@dataclass(frozen=True)
class Plan:
    family: Family
    line: Line      # the language whose text is corrected
    changed: str    # "Changed: headline; paragraph 2."

    @property
    def of_original(self) -> bool:
        return self.line is self.family.main


def plan_correction(session: Session, release_id: int, parsed: ParsedRelease) -> Plan:
    """Check a correction before it is recorded: which text it corrects, and what changed."""
    family = family_of(session, release_id)
    line = family.line_of(release_id)
    if family.main.head.status == ReleaseStatus.WITHDRAWN:
        raise InvalidInput(f"release {release_id} was withdrawn; it cannot be corrected")
    if line.head.id != release_id:
        raise InvalidInput(f"release {release_id} was already corrected by release "
                           f"{line.head.id}; correct that one instead")
    if parsed.language and line is not family.main and (
            parsed.language.lower() != line.language.lower()):
        raise InvalidInput(f"release {release_id} is the {line.language} version; the file "
                           f"says it is in {parsed.language}")
    if parsed.photos and line is not family.main:
        raise InvalidInput("a language version shares its original's photos and files; "
                           "correct the original release to change them")
    changes = what_changed(line.head, parsed)
    if not changes:
        raise InvalidInput(f"the corrected text is the same as release {release_id}")
    return Plan(family, line, "Changed: " + "; ".join(changes) + ".")


def recipients(session: Session, plan: Plan) -> int:
    """How many people the correction would go to."""
    texts, unless = _audience(plan.family, plan.line)
    return count_recipients(session, plan.family.ids, texts=texts, unless_holding=unless)


def correct_release(session: Session, release_id: int, parsed: ParsedRelease, *,
                    now: datetime, source_name: str | None = None, note: str | None = None,
                    photos: MediaUploads | None = None,
                    ) -> tuple[Release, Distribution | None]:
    """Store the corrected text; schedule the correction (None: no one had the release).

    note: the office's own words, added after the list of what changed. The photos and
    files go with the original's text: the file's own (`photos`, read from its front
    matter) if it names any, else those of the text it corrects. A language version has
    none of its own.
    """
    words = office_words(note)
    plan = plan_correction(session, release_id, parsed)
    note = with_office_words(plan.changed, words)
    current = plan.line.head
    corrected = _new_text(session, plan, parsed, now, source_name)
    if plan.of_original and photos and photos.uploads:
        media_catalogue.attach_all(session, photos.settings, corrected, photos.uploads,
                                   new_version=True)
    elif plan.of_original:
        media_catalogue.copy_media(session, current.id, corrected.id)
    family = family_of(session, corrected.id)
    texts, unless = _audience(family, family.line_of(corrected.id))
    dist, _ = follow_up(session, corrected, DistributionKind.CORRECTION, note, now,
                        texts=texts, unless_holding=unless)
    if plan.of_original:
        _carry_over(session, plan.family.main.ids, corrected, now)
    return corrected, dist


def _audience(family: Family, line: Line) -> tuple[list[int] | None, list[int]]:
    """(who must have been sent one of these texts, or None: anyone; who is left out).

    A version's correction: its own readers. The original's: everyone but the readers of
    a corrected version who already hold its newest text.
    """
    if line is not family.main:
        return line.ids, []
    return None, [v.head.id for v in family.versions if v.corrected]


def carried_over(session: Session, corrected_id: int) -> list[int]:
    """Distributions of the corrected text that took over copies not yet sent."""
    return list(session.scalars(
        select(Distribution.id).where(Distribution.release_id == corrected_id,
                                      Distribution.kind == DistributionKind.RELEASE.value)))


def _new_text(session: Session, plan: Plan, parsed: ParsedRelease, now: datetime,
              source_name: str | None) -> Release:
    current = plan.line.head
    language = current.language if not plan.of_original else (parsed.language
                                                                or current.language)
    corrected = catalogue.add_release(
        session, parsed, embargo=None, language=language, contacts=[],
        source_name=source_name, now=now)
    if not parsed.media_contacts:  # a file without a contact block keeps the release's
        corrected.media_contacts = list(current.media_contacts)
    corrected.corrects_id = current.id
    if not plan.of_original:
        corrected.version_of_id = plan.family.root.id
    # The embargo is the family's, not the file's: moving it is `release embargo`'s job.
    corrected.embargo_until, corrected.embargo_zone = current.embargo_until, current.embargo_zone
    corrected.status = current.status
    corrected.first_sent_at = current.first_sent_at
    session.flush()
    return corrected


def _carry_over(session: Session, old_ids: list[int], corrected: Release,
                now: datetime) -> None:
    """Unsent copies of the old text move to a like distribution of the corrected one."""
    unfinished = session.scalars(
        select(Distribution).where(Distribution.release_id.in_(old_ids),
                                   Distribution.kind == DistributionKind.RELEASE.value,
                                   Distribution.status.in_(UNFINISHED_DISTRIBUTIONS))
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
        moved = rows_written(
            session,
            update(Delivery)
            .where(Delivery.distribution_id == old.id, Delivery.status.in_(NOT_YET_SENT))
            .values(distribution_id=new.id)
            .execution_options(synchronize_session=False))
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
    before, after = split_blocks(old), split_blocks(new)
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


def _numbered(start: int, end: int) -> str:
    if end - start <= 1:
        return f"paragraph {start + 1}"
    return f"paragraphs {start + 1}–{end}"


def _sorted(contacts: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    return [dict(sorted(c.items())) for c in contacts or []]
