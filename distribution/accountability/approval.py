"""Four eyes: a release is approved by someone other than who wrote it, and any change voids it.

A release counts its revisions: adding it is revision 1, each change (edit, correction,
embargo move, attachment, new version) the next, through `release_changed`. It is approved
while `approved_revision` equals `revision`, so a change voids an approval by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from distribution.accountability.actors import Actor, Refused
from distribution.accountability.log import record
from distribution.errors import InvalidInput, NotFound
from distribution.store.models import (
    Distribution,
    DistributionKind,
    DistributionStatus,
    Release,
    ReleaseStatus,
)

DS = DistributionStatus
# Kinds that carry the release's text: they wait for approval. Notices (moved, lifted,
# withdrawn) are urgent and never wait.
GATED_KINDS = [DistributionKind.RELEASE.value, DistributionKind.CORRECTION.value]
AWAITING = "awaiting approval"


def release_added(session: Session, actor: Actor, release: Release, summary: str) -> None:
    """A new release (revision 1), written by `actor`."""
    release.changed_by = actor.name
    record(session, actor, "release.add", f"release {release.id}", summary,
           release_id=release.id)


def release_changed(session: Session, actor: Actor, release: Release, action: str,
                    summary: str) -> None:
    """Any change to a release's content or embargo: a new revision, approval voided."""
    # Counted by the database, under the row lock its UPDATE takes: two changes at once
    # make two revisions, and an approval racing a change approves the one it saw.
    release.revision = Release.revision + 1  # type: ignore[assignment]
    release.changed_by = actor.name
    session.flush()
    session.refresh(release, ["revision", "approved_revision"])
    was_approved = release.approved_revision == release.revision - 1
    voided = f"; approval of revision {release.approved_revision} voided" if was_approved else ""
    record(session, actor, action, f"release {release.id}",
           f"{summary} (revision {release.revision}){voided}", release_id=release.id)


def is_approved(release: Release) -> bool:
    return release.approved_revision is not None and release.approved_revision == release.revision


def approve(session: Session, actor: Actor, release_id: int, now: datetime) -> list[int]:
    """Approve the current revision; sends that waited for it go on. Returns the ids of
    those to deliver now: resumed ones, and scheduled ones already due."""
    release = session.get(Release, release_id, with_for_update=True)
    if release is None:
        raise NotFound(f"no release with id {release_id}")
    if release.status == ReleaseStatus.WITHDRAWN or (
            release.status == ReleaseStatus.SENT and not _waiting(session, release_id)):
        raise InvalidInput(f"release {release_id} was already {release.status.value}; "
                           "there is nothing to approve")
    if is_approved(release):
        raise InvalidInput(f"release {release_id} revision {release.revision} is already "
                           f"approved by {release.approved_by}")
    if release.changed_by == actor.name:
        raise Refused(f"'{actor.name}' added or last changed release {release_id}; another "
                      "approver must approve it", actor=actor, action="release.approve",
                      obj=f"release {release_id}", release_id=release_id)
    release.approved_revision, release.approved_by = release.revision, actor.name
    release.approved_at = now
    record(session, actor, "release.approve", f"release {release_id}",
           f"approved revision {release.revision}", release_id=release_id)
    resumed = _go_on(session, actor, release_id, now)
    due = session.scalars(select(Distribution.id).where(
        Distribution.release_id == release_id, Distribution.status == DS.SCHEDULED.value,
        Distribution.kind.in_(GATED_KINDS), Distribution.send_at <= now)).all()
    return [*resumed, *due]


def check_approved(release: Release, actor: Actor, required: bool) -> None:
    """Refuse to send a release whose current revision is not approved (when required)."""
    if required and not is_approved(release):
        raise Refused(_not_approved(release), actor=actor, action="send",
                      obj=f"release {release.id}", release_id=release.id)


def hold_unapproved(session: Session, now: datetime) -> list[tuple[int, int, str]]:
    """Scheduled sends due now whose release is not approved are paused, not started.

    For the sweep, before it starts what is due. Returns (distribution, release, why).
    """
    unapproved = (select(Release.id).where(or_(Release.approved_revision.is_(None),
                                               Release.approved_revision != Release.revision)))
    due = session.execute(
        select(Distribution.id, Distribution.release_id)
        .where(Distribution.status == DS.SCHEDULED.value, Distribution.send_at <= now,
               Distribution.kind.in_(GATED_KINDS),
               Distribution.release_id.in_(unapproved.scalar_subquery()))
        .with_for_update()).all()
    held = []
    for distribution_id, release_id in due:
        release = session.get(Release, release_id)
        assert release is not None
        why = f"{AWAITING}: {_not_approved(release)}"
        session.execute(update(Distribution).where(Distribution.id == distribution_id,
                                                   Distribution.status == DS.SCHEDULED.value)
                        .values(status=DS.PAUSED.value, paused_reason=why)
                        .execution_options(synchronize_session=False))
        held.append((distribution_id, release_id, why))
    return held


def describe(release: Release) -> dict[str, Any]:
    """What `release show` says about approval."""
    return {"revision": release.revision, "changed_by": release.changed_by,
            "approved": is_approved(release),
            "approved_revision": release.approved_revision,
            "approved_by": release.approved_by,
            "approved_at": release.approved_at.isoformat() if release.approved_at else None}


def _not_approved(release: Release) -> str:
    if release.approved_revision is None:
        return f"release {release.id} is not approved; an approver must run " \
               f"`pressroom release approve {release.id}`"
    return (f"release {release.id} changed after its approval (revision "
            f"{release.approved_revision} approved, now {release.revision}); an approver must "
            f"approve it again")


def _waiting(session: Session, release_id: int) -> bool:
    """A send of it not finished: a correction (which keeps the status of the release it
    corrects, sent) still has its copies to send."""
    return session.scalar(select(Distribution.id).where(
        Distribution.release_id == release_id, Distribution.kind.in_(GATED_KINDS),
        Distribution.status.in_([DS.SCHEDULED.value, DS.PAUSED.value, DS.SENDING.value]))
        .limit(1)) is not None


def _go_on(session: Session, actor: Actor, release_id: int, now: datetime) -> list[int]:
    """Sends paused for want of this approval resume, as `pressroom resume` would."""
    waiting = session.scalars(
        select(Distribution).where(Distribution.release_id == release_id,
                                   Distribution.status == DS.PAUSED.value,
                                   Distribution.paused_reason.startswith(AWAITING))
        .with_for_update()).all()
    for dist in waiting:
        dist.status = DS.SENDING if dist.send_at <= now else DS.SCHEDULED
        dist.started_at = dist.started_at or (now if dist.status == DS.SENDING else None)
        dist.paused_reason = None
        record(session, actor, "send.resumed", f"distribution {dist.id}",
               f"resumed on approval of release {release_id}", release_id=release_id)
    return [d.id for d in waiting]
