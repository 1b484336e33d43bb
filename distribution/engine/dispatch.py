"""Sending a release: a distribution and its delivery rows, recorded before anything leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from distribution.audience import recipients as audience
from distribution.audience import segments
from distribution.audience.segments import Conditions
from distribution.errors import InvalidInput, NotFound
from distribution.releases import languages
from distribution.releases.families import family_of
from distribution.store.models import (
    Distribution,
    DistributionKind,
    DistributionStatus,
    MailingList,
    Release,
    ReleaseStatus,
)

# A send time this far in the past is a typo, not "now".
PAST_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class Plan:
    release: Release
    lists: list[MailingList]
    recipients: int | None  # None when not counted (see `plan`)
    where: Conditions | None = None  # narrows the lists' members (audience.segments)


def get_release(session: Session, release_id: int) -> Release:
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release with id {release_id}")
    return release


def get_lists(session: Session, names: list[str]) -> list[MailingList]:
    if not names:
        raise InvalidInput("name at least one list with --list")
    found = {m.name: m for m in session.scalars(
        select(MailingList).where(MailingList.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise NotFound(f"no list named '{missing[0]}'")
    return [found[n] for n in dict.fromkeys(names)]


def check_sendable(session: Session, release: Release) -> None:
    """A withdrawn release, or one superseded by a correction, is never sent again."""
    if release.status == ReleaseStatus.WITHDRAWN:
        raise InvalidInput(f"release {release.id} was withdrawn and cannot be sent")
    newer = session.scalar(select(Release.id).where(Release.corrects_id == release.id))
    if newer is not None:
        raise InvalidInput(f"release {release.id} was corrected by release {newer}; "
                           "send that one")


def plan(session: Session, release_id: int, list_names: list[str], *,
         count: bool = True, where: Conditions | None = None) -> Plan:
    """Check a send before it is recorded: release, lists, and who would receive it.

    Counting takes a while on large lists (half a second at 100,000): without `count`,
    `recipients` is None, and `schedule` still refuses an empty audience.
    """
    # A language version is sent as its family's original text: one distribution carries
    # every language's current text.
    release = get_release(session, release_id)
    if release.version_of_id is not None:
        release = family_of(session, release_id).main.head
    check_sendable(session, release)
    lists = get_lists(session, list_names)
    if not count:
        return Plan(release, lists, None, where)
    recipients = audience.count_audience(session, [m.id for m in lists], where)
    if recipients == 0:
        raise _nobody(lists, where)
    return Plan(release, lists, recipients, where)


def count_by_version(session: Session, p: Plan) -> dict[str, int]:
    """How many recipients get each language version: {language of the version: count}."""
    original = p.release.language
    codes = [line.language for line in family_of(session, p.release.id).versions]
    counts: dict[str, int] = {}
    ids = [m.id for m in p.lists]
    for language, n in audience.count_by_language(session, ids, p.where).items():
        code = languages.pick(language, codes, fallback=original)
        counts[code] = counts.get(code, 0) + n
    return counts


def _nobody(lists: list[MailingList], where: Conditions | None = None) -> InvalidInput:
    names = ", ".join(m.name for m in lists)
    if where:
        return InvalidInput(f"no one to send to: no subscribed, unsuppressed member of {names} "
                            f"whose {segments.describe(where)}")
    return InvalidInput(f"no one to send to: {names} has no subscribed, unsuppressed members")


class EveryoneHasIt(InvalidInput):
    """Everyone on the lists has the release already (sent, on its way, or held)."""

    def __init__(self, message: str, unfinished: int | None) -> None:
        super().__init__(message)
        self.unfinished = unfinished  # a distribution of it still to finish, if any


def unfinished_distribution(session: Session, release_id: int, *,
                            besides: int | None = None) -> int | None:
    """The latest distribution of the release that is not over (an interrupted send)."""
    return session.scalar(
        select(Distribution.id)
        .where(Distribution.release_id == release_id, Distribution.id != (besides or 0),
               Distribution.kind == DistributionKind.RELEASE.value,
               Distribution.status.in_([DistributionStatus.SCHEDULED.value,
                                        DistributionStatus.SENDING.value,
                                        DistributionStatus.PAUSED.value]))
        .order_by(Distribution.id.desc()).limit(1))


def schedule(session: Session, p: Plan, *, now: datetime, send_at: datetime | None = None,
             send_zone: str | None = None, again: bool = False) -> tuple[Distribution, int]:
    """Record the distribution and a delivery row for everyone who does not have the
    release yet (everyone, with `again`); the caller commits, then enqueues."""
    when = send_at or now
    if when < now - PAST_TOLERANCE:
        raise InvalidInput(f"the send time {when.isoformat()} is in the past")
    dist = Distribution(release_id=p.release.id, kind=DistributionKind.RELEASE,
                        status=DistributionStatus.SCHEDULED, list_names=[m.name for m in p.lists],
                        send_at=when, send_zone=send_zone, created_at=now)
    session.add(dist)
    session.flush()
    list_ids = [m.id for m in p.lists]
    rows = audience.create_deliveries(session, dist.id, list_ids, p.release.embargo_until,
                                      now, p.where, release_id=p.release.id, again=again)
    if rows == 0:  # the caller's transaction rolls the distribution back
        if audience.count_audience(session, list_ids, p.where) == 0:
            raise _nobody(p.lists, p.where)
        unfinished = unfinished_distribution(session, p.release.id, besides=dist.id)
        raise EveryoneHasIt(
            f"everyone on {', '.join(m.name for m in p.lists)} already has release "
            f"{p.release.id} (received, on its way or held); --again sends it to them "
            "anyway", unfinished)
    if p.release.status == ReleaseStatus.DRAFT:
        session.execute(
            update(Release)
            .where(Release.id.in_(family_of(session, p.release.id).ids),
                   Release.status == ReleaseStatus.DRAFT.value)
            .values(status=ReleaseStatus.SCHEDULED.value)
            .execution_options(synchronize_session="fetch"))
    return dist, rows
