"""A distribution's life: scheduled -> sending -> done, with pauses, late starts and cancels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Exists, Row, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from config import Settings
from distribution.accountability import record, system_actor
from distribution.engine import claims
from distribution.engine.ledger import Result, Tally
from distribution.errors import InvalidInput, NotFound
from distribution.releases.families import family_of
from distribution.store.db import rows_written
from distribution.store.models import (
    CARRIES_RELEASE,
    UNFINISHED_DELIVERIES,
    Delivery,
    DeliveryStatus,
    Distribution,
    DistributionKind,
    DistributionStatus,
    Release,
    ReleaseStatus,
    Suppression,
)

DS = DistributionStatus


def get_distribution(session: Session, distribution_id: int, *,
                     lock: bool = False) -> Distribution:
    # Locked for the control commands, so a pause racing a withdraw cannot undo it.
    dist = session.get(Distribution, distribution_id, with_for_update=lock)
    if dist is None:
        raise NotFound(f"no distribution with id {distribution_id}")
    return dist


# Built once: a new statement object per group cost its cache key (0.2 ms of CPU).
_FLOWING = select(Distribution.status, Distribution.consecutive_errors,
                  Distribution.waiting_reason).where(
                      Distribution.id == bindparam("distribution_id"))


def after_group(session: Session, distribution_id: int, tally: Tally, rejected: list[Result],
                settings: Settings, now: datetime) -> str | None:
    """Count errors, pause when the sender is refused or errors pile up; say why we stop."""
    if tally.sent and not rejected:
        # The usual group: mail flows. A plain read says whether anything is to change;
        # the locked read-modify-write below is for groups that change something.
        status, errors, waiting = session.execute(
            _FLOWING, {"distribution_id": distribution_id}).one()
        if not errors and waiting is None:
            return None if status == DS.SENDING else f"distribution is {DS(status).value}"
    dist = session.get(Distribution, distribution_id, with_for_update=True)
    assert dist is not None
    if rejected:
        outcome = rejected[0].outcome
        _pause_by_engine(session, dist, f"the SMTP server refused the sender: {outcome.code} "
                                        f"{outcome.text}")
    elif tally.sent:
        dist.consecutive_errors = 0
        dist.waiting_reason = dist.waiting_since = None  # mail flows again
    elif tally.sending_errors:
        dist.consecutive_errors += tally.sending_errors
        if dist.consecutive_errors >= settings.pause_after_errors > 0:
            _pause_by_engine(session, dist, f"{dist.consecutive_errors} consecutive delivery "
                                            "errors")
    if dist.status != DS.SENDING:
        return f"distribution is {dist.status.value}"
    return None


def _pause(dist: Distribution, reason: str) -> None:
    dist.status = DS.PAUSED
    dist.paused_reason = reason


def _pause_by_engine(session: Session, dist: Distribution, reason: str) -> None:
    if dist.status == DS.SENDING:
        record(session, system_actor(), "send.paused", f"distribution {dist.id}",
               f"paused by the engine: {reason}", release_id=dist.release_id)
    _pause(dist, reason)


def pause_for_server(session: Session, distribution_id: int, reason: str) -> None:
    """The SMTP server cannot be used as configured (login, TLS): an operator must act."""
    dist = get_distribution(session, distribution_id, lock=True)
    if dist.status == DS.SENDING:
        _pause_by_engine(session, dist, reason)


def pause_for_message(session: Session, distribution_id: int, reason: str) -> None:
    """The message cannot be made (a site template, a header value): an operator must act."""
    pause_for_server(session, distribution_id, reason)


def note_waiting(session: Session, distribution_id: int, reason: str, now: datetime) -> None:
    """Trouble the engine retries by itself: `status` says what it waits for, and since when."""
    dist = get_distribution(session, distribution_id, lock=True)
    dist.waiting_reason = reason
    dist.waiting_since = dist.waiting_since or now


def activate_due(session: Session, now: datetime, lateness_seconds: int) -> list[int]:
    """Scheduled distributions whose time has come start; very late ones wait for resume."""
    late_before = now - timedelta(seconds=lateness_seconds)
    late = (
        update(Distribution)
        .where(Distribution.status == DS.SCHEDULED.value, Distribution.send_at < late_before,
               # A notice ("do not publish") is urgent however late: only sends wait.
               Distribution.kind.in_([DistributionKind.RELEASE.value,
                                      DistributionKind.CORRECTION.value]))
        .values(status=DS.PAUSED.value,
                paused_reason="late: found more than the allowed lateness after its send time;"
                              " check it, then `pressroom resume`")
        .returning(Distribution.id, Distribution.release_id)
        .execution_options(synchronize_session=False)
    )
    _record_late(session, session.execute(late).all(), "its send time")
    stmt = (
        update(Distribution)
        .where(Distribution.status == DS.SCHEDULED.value, Distribution.send_at <= now)
        .values(status=DS.SENDING.value, started_at=now)
        .returning(Distribution.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in session.execute(stmt)]


def release_held(session: Session, now: datetime, lateness_seconds: int) -> int:
    """At the lift, public recipients held back become pending.

    A lift found long after it passed (the service was down) is late work: the
    distribution pauses so that an officer decides, as for a late scheduled send.
    """
    _pause_late_lifts(session, now - timedelta(seconds=lateness_seconds))
    lifted = (
        select(Distribution.id)
        .join(Release, Release.id == Distribution.release_id)
        .where(or_(Release.embargo_until.is_(None), Release.embargo_until <= now))
    )
    stmt = (
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.HELD.value,
               Delivery.distribution_id.in_(lifted.scalar_subquery()))
        .values(status=DeliveryStatus.PENDING.value)
        .execution_options(synchronize_session=False)
    )
    return rows_written(session, stmt)


def _pause_late_lifts(session: Session, late_before: datetime) -> None:
    held = exists().where(Delivery.distribution_id == Distribution.id,
                          Delivery.status == DeliveryStatus.HELD.value)
    lifted_long_ago = exists().where(Release.id == Distribution.release_id,
                                     Release.embargo_until < late_before)
    paused = session.execute(
        update(Distribution)
        .where(Distribution.status == DS.SENDING.value, held, lifted_long_ago)
        .values(status=DS.PAUSED.value,
                paused_reason="late: the embargo lifted more than the allowed lateness ago "
                              "and public recipients are still held; check it, then "
                              "`pressroom resume`")
        .returning(Distribution.id, Distribution.release_id)
        .execution_options(synchronize_session=False)).all()
    _record_late(session, paused, "the embargo's lift")


def _record_late(session: Session, paused: Sequence[Row[int, int]], what: str) -> None:
    for distribution_id, release_id in paused:
        record(session, system_actor(), "send.paused", f"distribution {distribution_id}",
               f"paused by the engine: found late after {what}; waits for `pressroom resume`",
               release_id=release_id)


def work_available(session: Session, now: datetime, cap: int | None = None) -> dict[int, int]:
    """Sending distributions with deliveries due now, and how many: counted up to `cap`.

    Every sweep asks, and the answer only decides how many batches to start: counting a
    distribution's 100,000 due rows took 50 ms of the database each time (the send's own
    start, and every few seconds while it sends).
    """
    sending = session.scalars(select(Distribution.id).where(
        Distribution.status == DS.SENDING.value)).all()
    found: dict[int, int] = {}
    for distribution_id in sending:
        rows = (select(Delivery.id)
                .where(Delivery.distribution_id == distribution_id, claims.due(now))
                .limit(cap).subquery())
        if count := session.scalar(select(func.count()).select_from(rows)):
            found[distribution_id] = count
    return found


def finish_done(session: Session, now: datetime) -> list[int]:
    """Sending distributions with nothing left to do are done; their release is sent."""
    unfinished = exists().where(Delivery.distribution_id == Distribution.id,
                                Delivery.status.in_(UNFINISHED_DELIVERIES))
    finished = (Distribution.status == DS.SENDING.value, ~unfinished)
    # Locked first, then checked again by a statement of its own. A statement that waits
    # for a row lock re-checks that row when it gets it, but not its subquery: an UPDATE
    # alone, waiting on a retry that made failed rows pending again, finished the
    # distribution anyway, and those rows were never sent.
    candidates = session.scalars(select(Distribution.id).where(*finished)
                                 .with_for_update()).all()
    if not candidates:
        return []
    stmt = (
        update(Distribution)
        .where(Distribution.id.in_(candidates), *finished)
        .values(status=DS.DONE.value, finished_at=now)
        .returning(Distribution.id, Distribution.release_id, Distribution.kind)
        .execution_options(synchronize_session=False)
    )
    done = session.execute(stmt).all()
    for distribution_id, release_id, kind in done:
        if not _anything_sent(session, distribution_id):
            continue    # every delivery failed or was cancelled: the public never got it
        # A correction is the release, as it now reads: it is public once sent too.
        if kind in CARRIES_RELEASE:
            mark_release_sent(session, release_id, now)
    return [row[0] for row in done]


def _anything_sent(session: Session, distribution_id: int) -> bool:
    return session.scalar(select(exists().where(
        Delivery.distribution_id == distribution_id,
        Delivery.status == DeliveryStatus.SENT.value))) or False


def mark_release_sent(session: Session, release_id: int, now: datetime) -> None:
    session.execute(
        update(Release)
        # Its language versions and corrections went out with it: one public fate for all.
        .where(Release.id.in_(family_of(session, release_id).ids),
               Release.status != ReleaseStatus.WITHDRAWN.value)
        .values(status=ReleaseStatus.SENT.value,
                first_sent_at=func.coalesce(Release.first_sent_at, now))
        .execution_options(synchronize_session=False))


def pause(session: Session, distribution_id: int,
          reason: str = "paused by an operator") -> Distribution:
    dist = get_distribution(session, distribution_id, lock=True)
    if dist.status not in (DS.SCHEDULED, DS.SENDING):
        raise InvalidInput(f"distribution {distribution_id} is {dist.status.value}; "
                           "only a scheduled or sending one can be paused")
    _pause(dist, reason)
    return dist


def resume(session: Session, distribution_id: int, now: datetime) -> None:
    dist = get_distribution(session, distribution_id, lock=True)
    if dist.status != DS.PAUSED:
        raise InvalidInput(f"distribution {distribution_id} is {dist.status.value}, not paused")
    dist.status = DS.SENDING if dist.send_at <= now else DS.SCHEDULED
    dist.started_at = dist.started_at or (now if dist.status == DS.SENDING else None)
    dist.paused_reason = None
    dist.consecutive_errors = 0


def cancel(session: Session, distribution_id: int, now: datetime) -> int:
    """Stop a distribution; deliveries not yet sent are cancelled. Returns how many."""
    dist = get_distribution(session, distribution_id, lock=True)
    if dist.status in (DS.DONE, DS.CANCELLED):
        raise InvalidInput(f"distribution {distribution_id} is already {dist.status.value}")
    dist.status = DS.CANCELLED
    dist.finished_at = now
    stmt = (
        update(Delivery)
        .where(Delivery.distribution_id == distribution_id,
               Delivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]))
        .values(status=DeliveryStatus.CANCELLED.value)
        .execution_options(synchronize_session=False)
    )
    return rows_written(session, stmt)


def cancel_leftovers(session: Session) -> int:
    """Rows handed back after a cancel (in flight when it came, or reclaimed) are cancelled."""
    cancelled = select(Distribution.id).where(Distribution.status == DS.CANCELLED.value)
    stmt = (
        update(Delivery)
        .where(Delivery.distribution_id.in_(cancelled.scalar_subquery()),
               Delivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]))
        .values(status=DeliveryStatus.CANCELLED.value)
        .execution_options(synchronize_session=False)
    )
    return rows_written(session, stmt)


def retry_failed(session: Session, distribution_id: int, now: datetime) -> int:
    """Send again to recipients that failed (not those suppressed since)."""
    dist = get_distribution(session, distribution_id, lock=True)
    if dist.status == DS.CANCELLED:
        raise InvalidInput(f"distribution {distribution_id} was cancelled")
    if dist.kind in CARRIES_RELEASE:
        from distribution.engine.dispatch import check_sendable

        check_sendable(session, dist.release)
    stmt = (
        update(Delivery)
        .where(Delivery.distribution_id == distribution_id,
               Delivery.status == DeliveryStatus.FAILED.value,
               ~_suppressed())
        .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    count = rows_written(session, stmt)
    if count and dist.status in (DS.DONE, DS.PAUSED):
        dist.status = DS.SENDING
        dist.finished_at = None
        dist.paused_reason = None
    return count


def _suppressed() -> Exists:
    return exists().where(and_(Suppression.email == Delivery.email))
