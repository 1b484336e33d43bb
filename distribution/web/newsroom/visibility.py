"""What the public newsroom may show: every public surface goes through `public_view`.

The rule itself is embargo.publicly_visible: sent (a release distribution reached it) and
lifted at `now`; a withdrawn release shows as withdrawn only if it had been public.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from distribution.embargo import Visibility, lifted, publicly_visible
from distribution.store.models import (
    RELEASE_KINDS,
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

    @property
    def withdrawn(self) -> bool:
        return self.visibility is Visibility.WITHDRAWN


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


def public_release(session: Session, release_id: int, now: datetime) -> PublicRelease | None:
    """One release's page (and its media): public from the first copy delivered, since
    the emails link to it, not only once the whole distribution has finished."""
    release = session.get(Release, release_id)
    if release is None:
        return None
    view = public_view(release, now)
    if view is None and release.first_sent_at is None and lifted(release.embargo_until, now):
        view = public_view(release, now, copies_out=copies_delivered(session, release_id))
    return view


def copies_delivered(session: Session, release_id: int) -> bool:
    """Has any copy of the release itself (or a correction of it) been delivered?"""
    return bool(session.scalar(select(exists().where(
        Delivery.distribution_id == Distribution.id, Distribution.release_id == release_id,
        Distribution.kind.in_([k.value for k in RELEASE_KINDS]),
        Delivery.status == DeliveryStatus.SENT.value))))


def public_releases(session: Session, now: datetime) -> list[PublicRelease]:
    """Every release the public may see at `now`, newest first."""
    # Only narrows the rows read (drafts cannot be visible); public_view decides.
    candidates = session.scalars(select(Release).where(
        or_(Release.status.in_([ReleaseStatus.SENT, ReleaseStatus.WITHDRAWN]),
            Release.first_sent_at.is_not(None))))
    views = [view for release in candidates if (view := public_view(release, now))]
    # A corrected release is listed once, as its newest public version.
    superseded = {v.release.corrects_id for v in views if v.release.corrects_id}
    views = [v for v in views if v.release.id not in superseded]
    return sorted(views, key=lambda v: (v.published_at, v.release.id), reverse=True)
