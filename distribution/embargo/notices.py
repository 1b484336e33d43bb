"""Changing an embargo after copies went out, and telling exactly those who received them.

A release, its language versions and the corrections of each are one family
(releases.families): they share one embargo and one fate, and "who received the release"
means who was sent any text of it. Every follow-up (a notice, a correction) is an ordinary
distribution whose delivery rows are copied, set-based, from the family's sent deliveries;
the engine then delivers it like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, case, exists, func, literal, select, update
from sqlalchemy.orm import Session

from distribution import times
from distribution.audience.recipients import DELIVERY_COLUMNS
from distribution.embargo import lifted
from distribution.errors import InvalidInput
from distribution.releases.families import family_of
from distribution.store.db import insert_from, rows_written
from distribution.store.models import (
    CARRIES_RELEASE,
    UNFINISHED_DISTRIBUTIONS,
    Delivery,
    DeliveryStatus,
    Distribution,
    DistributionKind,
    DistributionStatus,
    Release,
    ReleaseStatus,
    Suppression,
)

DK, DS = DistributionKind, DistributionStatus
# A claimed row is on its way out: its recipient will hold a copy, so they must hear too.
RECEIVED = [DeliveryStatus.SENT.value, DeliveryStatus.SENDING.value]
NOT_YET_SENT = [DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]



@dataclass(frozen=True)
class Impact:
    """What a change would touch, for the confirmation prompt."""

    recipients: int      # distinct people who received the release: they get the notice
    held: int            # public deliveries waiting for the lift
    pending: int         # deliveries due but not yet sent


@dataclass(frozen=True)
class ChangeReport:
    release_id: int
    change: str                          # "moved" | "lifted" | "withdrawn"
    embargo_until: datetime | None
    embargo_zone: str | None
    note: str
    notice_id: int | None                # None when no one had received the release
    notified: int
    held: int                            # held rows: they follow the new time (lift: now)
    cancelled_deliveries: int = 0
    cancelled_distributions: tuple[int, ...] = ()
    released_from: tuple[int, ...] = ()  # distributions whose held rows go out at a lift


def impact(session: Session, release_id: int) -> Impact:
    ids = family_of(session, release_id).ids
    rows = session.execute(
        select(Delivery.status, func.count())
        .join(Distribution, Distribution.id == Delivery.distribution_id)
        .where(Distribution.release_id.in_(ids), Delivery.status.in_(NOT_YET_SENT))
        .group_by(Delivery.status))
    counts = {DeliveryStatus(status).value: n for status, n in rows}
    return Impact(recipients=count_recipients(session, ids), held=counts.get("held", 0),
                  pending=counts.get("pending", 0))


Ts = TypeVarTuple("Ts")


def recipients_query(release_ids: list[int], *, texts: list[int] | None = None,
                     unless_holding: list[int] | None = None,
                     ) -> Select[int, str, int, int | None]:
    """Who holds a copy of any text: one row per contact.

    `texts`: only those who were sent one of these texts (a language's line);
    `unless_holding`: leave out whoever was sent one of these.

    Suppressed addresses are left out, whatever the reason: a hard bounce cannot be reached,
    and a complaint or "unsubscribe from all" is a promise never to mail again. Someone who
    only left the list since still hears: a notice about a text they hold is operational,
    not marketing (a "do not publish" above all).
    """
    trusted = func.max(case((Delivery.trusted, 1), else_=0))
    suppressed = exists().where(Suppression.email == Delivery.email)
    stmt = (
        _received(select(Delivery.contact_id, func.min(Delivery.email).label("email"),
                         trusted.label("trusted"), func.min(Delivery.list_id).label("list_id")),
                  release_ids)
        .where(~suppressed)
        .group_by(Delivery.contact_id)
    )
    if texts is not None:
        stmt = stmt.where(sent_text().in_(texts))
    if unless_holding:
        stmt = stmt.having(func.max(case((sent_text().in_(unless_holding), 1), else_=0)) == 0)
    return stmt


def sent_text() -> ColumnElement[int]:
    """The text a delivery carried: the language version or correction it was sent, else
    (rows written before that was kept) its distribution's release."""
    return func.coalesce(Delivery.version_id, Distribution.release_id)


def _received(stmt: Select[*Ts], release_ids: list[int]) -> Select[*Ts]:
    """Deliveries of the release text, sent or on their way."""
    return (stmt.select_from(Delivery)
            .join(Distribution, Distribution.id == Delivery.distribution_id)
            .where(Distribution.release_id.in_(release_ids),
                   Distribution.kind.in_(CARRIES_RELEASE), Delivery.status.in_(RECEIVED)))


def count_recipients(session: Session, release_ids: list[int], *,
                     texts: list[int] | None = None,
                     unless_holding: list[int] | None = None) -> int:
    sub = recipients_query(release_ids, texts=texts, unless_holding=unless_holding).subquery()
    return session.execute(select(func.count()).select_from(sub)).scalar_one()


def follow_up(session: Session, release: Release, kind: DistributionKind, note: str,
              now: datetime, *, texts: list[int] | None = None,
              unless_holding: list[int] | None = None) -> tuple[Distribution | None, int]:
    """A distribution of `kind` to everyone who received the release's family (narrowed as
    recipients_query says), due now."""
    ids = family_of(session, release.id).ids
    sub = recipients_query(ids, texts=texts, unless_holding=unless_holding).subquery()
    count = session.execute(select(func.count()).select_from(sub)).scalar_one()
    if not count:
        return None, 0
    # The first distribution that reached anyone is the one the follow-up answers.
    first = session.scalar(_received(select(func.min(Delivery.distribution_id)), ids))
    parent = session.get_one(Distribution, first)
    dist = Distribution(release_id=release.id, kind=kind, status=DS.SCHEDULED,
                        list_names=list(parent.list_names), send_at=now, parent_id=parent.id,
                        note=note, created_at=now)
    session.add(dist)
    session.flush()
    source = select(literal(dist.id), sub.c.contact_id, sub.c.email, sub.c.trusted == 1,
                    sub.c.list_id, literal(DeliveryStatus.PENDING.value), literal(0))
    insert_from(session, Delivery, DELIVERY_COLUMNS, source)
    return dist, count


def change_embargo(session: Session, release_id: int, *, until: times.WhenParsed | None = None,
                   lift: bool = False, withdraw: bool = False, now: datetime,
                   reason: str | None = None) -> ChangeReport:
    """Move, lift or withdraw; held rows follow by themselves (the sweep reads the release).

    reason: the office's own words, added to a withdrawal notice."""
    if sum((until is not None, lift, withdraw)) != 1:
        raise InvalidInput("give exactly one of --until, --lift or --withdraw")
    if reason is not None and not withdraw:
        raise InvalidInput("a reason goes with --withdraw only")
    words = office_words(reason)
    family = family_of(session, release_id)
    versions = _lock(session, family.members)
    current = next(v for v in versions if v.id == family.main.head.id)
    if current.status == ReleaseStatus.WITHDRAWN:
        raise InvalidInput(f"release {release_id} was withdrawn; it cannot be changed again")
    held = impact(session, release_id).held
    if withdraw:
        return _withdraw(session, release_id, versions, current, held, now, words)
    zone: str | None
    if until is not None:
        _check_move(session, current, until, now)
        note = _moved_note(current, until)
        kind, change, new_time, zone = DK.NOTICE_MOVED, "moved", until.utc, until.zone
    else:
        if lifted(current.embargo_until, now):
            raise InvalidInput(f"release {release_id} is not under embargo")
        note, kind, change = _lifted_note(current, now), DK.NOTICE_LIFTED, "lifted"
        new_time, zone = now, current.embargo_zone
    for version in versions:
        version.embargo_until, version.embargo_zone = new_time, zone
    session.flush()
    notice, notified = follow_up(session, current, kind, note, now)
    released = _holding(session, versions) if lift else ()
    return ChangeReport(release_id, change, new_time, zone, note,
                        notice.id if notice else None, notified, held, released_from=released)


def _lock(session: Session, versions: list[Release]) -> list[Release]:
    """Two officers changing one release at once: the second waits, then sees the first."""
    ids = [r.id for r in versions]
    stmt = select(Release).where(Release.id.in_(ids)).order_by(Release.id)
    return list(session.scalars(stmt.with_for_update().execution_options(populate_existing=True)))


def _check_move(session: Session, release: Release, until: times.WhenParsed,
                now: datetime) -> None:
    shown = times.format_in_zone(until.utc, until.zone)
    if until.utc <= now:
        raise InvalidInput(f"the new embargo {shown} is in the past; pick a time to come")
    if release.embargo_until == until.utc:
        raise InvalidInput(f"release {release.id} is already embargoed until {shown}")
    # Once the public may have it, an embargo cannot be put back.
    ids = family_of(session, release.id).ids
    went_out = session.scalar(_received(select(func.count()), ids))
    if lifted(release.embargo_until, now) and went_out:
        raise InvalidInput(f"release {release.id} is no longer under embargo and copies went "
                           "out; an embargo cannot be put back on it")


# Notes add the facts to what the notice templates already say ("EMBARGO MOVED: ...",
# "DO NOT PUBLISH: ..."); they are also what `status` and --json show an operator.
def _moved_note(release: Release, until: times.WhenParsed) -> str:
    note = f"The embargo has moved to {_moment(until.utc, until.zone)}."
    if release.embargo_until is not None:
        note += f" It was {_moment(release.embargo_until, _zone(release))}."
    return note


MAX_OFFICE_WORDS = 2_000
_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def office_words(text: str | None) -> str | None:
    """The office's own words for a notice, on their own paragraphs, without control
    characters; refused past MAX_OFFICE_WORDS characters."""
    if text is None:
        return None
    cleaned = _CONTROLS.sub(" ", text.replace("\r\n", "\n")).strip()
    if len(cleaned) > MAX_OFFICE_WORDS:
        raise InvalidInput(f"the note may be at most {MAX_OFFICE_WORDS:,} characters")
    return cleaned or None


def with_office_words(note: str, words: str | None) -> str:
    return f"{note}\n\n{words}" if words else note


def _lifted_note(release: Release, now: datetime) -> str:
    assert release.embargo_until is not None
    return (f"Lifted at {_moment(now, _zone(release))}, ahead of the planned "
            f"{_moment(release.embargo_until, _zone(release))}: you may publish now.")


def _withdrawn_note(release: Release, now: datetime) -> str:
    return (f"Withdrawn at {_moment(now, _zone(release))}. Do not publish it, in whole or in "
            "part, and delete any copy you hold.")


def _zone(release: Release) -> str:
    return release.embargo_zone or "UTC"


def _moment(utc: datetime, zone: str) -> str:
    """ "10:00 CEST, 17 April 2025 (08:00 UTC)", as the embargo marks write it."""
    return times.embargo_line(utc, zone).removeprefix("STRICTLY EMBARGOED UNTIL ")


def _holding(session: Session, versions: list[Release]) -> tuple[int, ...]:
    stmt = (select(Delivery.distribution_id).distinct()
            .join(Distribution, Distribution.id == Delivery.distribution_id)
            .where(Distribution.release_id.in_([r.id for r in versions]),
                   Delivery.status == DeliveryStatus.HELD.value))
    return tuple(sorted(session.scalars(stmt)))


def _withdraw(session: Session, release_id: int, versions: list[Release], current: Release,
              held: int, now: datetime, words: str | None) -> ChangeReport:
    """Nothing more of the release leaves; those who hold it are told not to publish."""
    ids = [r.id for r in versions]
    cancelled = rows_written(
        session,
        update(Delivery)
        .where(Delivery.status.in_(NOT_YET_SENT),
               Delivery.distribution_id.in_(
                   select(Distribution.id).where(Distribution.release_id.in_(ids))))
        .values(status=DeliveryStatus.CANCELLED.value)
        .execution_options(synchronize_session=False))
    # Paused and sending ones too: a paused send resumed later would deliver the release.
    stopped = session.execute(
        update(Distribution)
        .where(Distribution.release_id.in_(ids), Distribution.status.in_(UNFINISHED_DISTRIBUTIONS))
        .values(status=DS.CANCELLED.value, finished_at=now)
        .returning(Distribution.id)
        .execution_options(synchronize_session=False)).scalars().all()
    for version in versions:
        version.status, version.withdrawn_at = ReleaseStatus.WITHDRAWN, now
    session.flush()
    note = with_office_words(_withdrawn_note(current, now), words)
    notice, notified = follow_up(session, current, DK.NOTICE_WITHDRAWN, note, now)
    return ChangeReport(release_id, "withdrawn", current.embargo_until, current.embargo_zone,
                        note, notice.id if notice else None, notified, held,
                        cancelled_deliveries=cancelled,
                        cancelled_distributions=tuple(sorted(stopped)))
