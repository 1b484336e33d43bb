"""What the public newsroom may show: every public surface goes through `public_view`.

The rule itself is embargo.publicly_visible: sent (a release distribution reached it) and
lifted at `now`; a withdrawn release shows as withdrawn only if it had been public. A
release's family (its language versions, the corrections of each: releases.families) is
judged as one, by its first release: an earlier text or a version is public exactly when
the family is. Where approval is required, a correction waiting for it is not yet public:
it is not yet the office's text (its mail waits too).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from distribution.embargo import Visibility, lifted, publicly_visible
from distribution.errors import NotFound
from distribution.releases.families import Family, Line, families, family_of
from distribution.store.models import (
    CARRIES_RELEASE,
    Delivery,
    DeliveryStatus,
    Distribution,
    Release,
    ReleaseStatus,
)


@dataclass(frozen=True)
class PublicRelease:
    release: Release  # detached; read only
    visibility: Visibility  # VISIBLE or WITHDRAWN, never HIDDEN
    published_at: datetime
    corrected_at: datetime | None = None  # when the text shown replaced an earlier one

    @property
    def withdrawn(self) -> bool:
        return self.visibility is Visibility.WITHDRAWN


@dataclass(frozen=True)
class PublicFamily:
    """A release the public may see, with every text of it in every language."""

    family: Family
    visibility: Visibility
    published_at: datetime  # of the family: when its first text became public

    @property
    def id(self) -> int:
        """The family's public address: /releases/{id}."""
        return self.family.root.id

    @property
    def withdrawn(self) -> bool:
        return self.visibility is Visibility.WITHDRAWN

    def current(self, line: Line) -> PublicRelease:
        """The line's newest text, as the public sees it."""
        return self.text(line, len(line.texts))

    def text(self, line: Line, number: int) -> PublicRelease:
        """The line's text `number` (1: its first)."""
        release = line.texts[number - 1]
        corrected = release.created_at if number > 1 else None
        return PublicRelease(release, self.visibility, self.published_at, corrected)


def public_view(release: Release, now: datetime, *,
                copies_out: bool = False) -> PublicRelease | None:
    """The release as the public may see it at `now`, or None while it must stay hidden.

    `copies_out`: a copy has been delivered though the distribution has not finished.
    """
    sent = (release.status is ReleaseStatus.SENT or release.first_sent_at is not None
            or copies_out)
    withdrawn = release.status is ReleaseStatus.WITHDRAWN or release.withdrawn_at is not None
    # A withdrawn release is judged as it stood when it was withdrawn: one withdrawn before
    # its embargo lifted was never public, so its headline must not appear after the lift.
    moment = min(now, release.withdrawn_at) if withdrawn and release.withdrawn_at else now
    visibility = publicly_visible(sent, release.embargo_until, withdrawn, moment)
    if visibility is Visibility.HIDDEN:
        return None
    return PublicRelease(release, visibility, published_at(release))


def published_at(release: Release) -> datetime:
    """When the public could first see it: the later of the first send and the lift."""
    moments = [m for m in (release.first_sent_at, release.embargo_until) if m is not None]
    return max(moments, default=release.created_at)


def public_family(session: Session, release_id: int, now: datetime, *,
                  require_approval: bool = False) -> PublicFamily | None:
    """The family of any of its rows, if the public may see it at `now`: from the first copy
    delivered, since the emails link to it, not only once the whole distribution finished.
    None too for a row of it that is not public (a correction waiting for approval)."""
    try:
        family = released(family_of(session, release_id), require_approval)
    except NotFound:
        return None
    if release_id not in family.ids:
        return None
    root = family.root
    view = public_view(root, now)
    if view is None and root.first_sent_at is None and lifted(root.embargo_until, now):
        view = public_view(root, now, copies_out=copies_delivered(session, family.ids))
    if view is None:
        return None
    return PublicFamily(family, view.visibility, view.published_at)


def copies_delivered(session: Session, release_ids: list[int]) -> bool:
    """Has any copy of the release itself (or a correction of it) been delivered?"""
    return bool(session.scalar(select(exists().where(
        Delivery.distribution_id == Distribution.id, Distribution.release_id.in_(release_ids),
        Distribution.kind.in_([k.value for k in CARRIES_RELEASE]),
        Delivery.status == DeliveryStatus.SENT.value))))


def released(family: Family, require_approval: bool) -> Family:
    """The family without the corrections still waiting for approval, where it is required
    (approved once is enough: a sent correction stays public)."""
    if not require_approval:
        return family

    def line(texts: Line) -> Line:
        return Line((texts.first, *(t for t in texts.texts[1:]
                                    if t.approved_revision is not None)))

    return Family(line(family.main), tuple(line(v) for v in family.versions))


def public_families(session: Session, now: datetime, *,
                    require_approval: bool = False) -> list[PublicFamily]:
    """Every release the public may see at `now`, newest first: one entry per family."""
    # Only narrows the rows read (drafts cannot be visible); public_view decides.
    candidates = session.scalars(select(Release).where(
        or_(Release.status.in_([ReleaseStatus.SENT, ReleaseStatus.WITHDRAWN]),
            Release.first_sent_at.is_not(None))))
    found = []
    for found_family in families(candidates):
        family = released(found_family, require_approval)
        view = public_view(family.root, now)
        if view is not None:
            found.append(PublicFamily(family, view.visibility, view.published_at))
    return sorted(found, key=lambda f: (f.published_at, f.id), reverse=True)
