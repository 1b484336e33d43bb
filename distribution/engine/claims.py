"""Claiming deliveries for a batch, and handing claims back.

The database is the queue: a claim is a conditional UPDATE whose returned rows are
the batch. PostgreSQL skips rows another worker has locked; SQLite serialises writers,
so its single UPDATE is atomic on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Update,
    and_,
    bindparam,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from distribution.engine.recovery.journal import Entry, Journal
from distribution.store.db import by_primary_key, database_started, one_of, rows_written
from distribution.store.models import (
    Delivery,
    DeliveryStatus,
    Distribution,
    DistributionStatus,
    UTCDateTime,
)

PENDING = DeliveryStatus.PENDING.value
SENDING = DeliveryStatus.SENDING.value
# The reply of a row marked sent from its batch's journal: the batch died before it wrote
# the server's own words.
JOURNALED = "accepted by the SMTP server (recorded from the batch journal)"


@dataclass(frozen=True)
class Claimed:
    id: int
    contact_id: int
    email: str
    trusted: bool
    list_id: int | None
    attempts: int


def due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Deliveries waiting to be sent whose time has come (a retry waits for its own)."""
    return and_(
        Delivery.status == PENDING,
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
    )


def claim(session: Session, distribution_id: int, limit: int, worker: str,
          now: datetime) -> list[Claimed]:
    """Take up to `limit` due deliveries of a distribution that is sending."""
    statement = _claim_statement(session.get_bind().dialect.name == "postgresql")
    rows = session.connection().execute(  # Core: no ORM objects to load
        statement, {"b_distribution_id": distribution_id, "b_limit": limit, "b_now": now,
                    "b_worker": worker}).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


@cache
def _claim_statement(postgresql: bool) -> Update:
    """Built once per dialect: a new statement object per batch cost its cache key."""
    distribution_id = bindparam("b_distribution_id", type_=Integer())
    now = bindparam("b_now", type_=UTCDateTime())
    pick = (
        select(Delivery.id)
        .where(Delivery.distribution_id == distribution_id, due(now))
        .order_by(Delivery.id)
        .limit(bindparam("b_limit", type_=Integer()))
    )
    picked = pick.scalar_subquery()
    if postgresql:
        # Materialised, so the LIMIT holds: as a plain IN (subquery) the planner may rescan
        # it once per row (a nested-loop semi-join), each rescan skipping the rows the
        # last one locked, and the UPDATE then claims every pending row.
        cte = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        picked = select(cte.c.id).scalar_subquery()
    active = exists().where(Distribution.id == distribution_id,
                            Distribution.status == DistributionStatus.SENDING.value)
    return (
        update(Delivery)
        .where(Delivery.id.in_(picked), Delivery.status == PENDING, active)
        .values(status=SENDING, claimed_at=now, claimed_by=bindparam("b_worker", type_=String()),
                attempts=Delivery.attempts + 1)
        .returning(Delivery.id, Delivery.contact_id, Delivery.email, Delivery.trusted,
                   Delivery.list_id, Delivery.attempts)
        .execution_options(synchronize_session=False)
    )


def unclaim(session: Session, ids: list[int], status: DeliveryStatus = DeliveryStatus.PENDING,
            *, owner: str, not_before: datetime | None = None) -> int:
    """Give claimed rows back without counting the attempt (nothing was sent)."""
    if not ids:
        return 0
    by_primary_key(session)
    stmt = (
        update(Delivery)
        .where(one_of(session, Delivery.id, ids), Delivery.status == SENDING,
               Delivery.claimed_by == owner)
        .values(status=status.value, claimed_at=None, claimed_by=None,
                attempts=Delivery.attempts - 1, next_attempt_at=not_before)
        .execution_options(synchronize_session=False)
    )
    return rows_written(session, stmt)


def cancel(session: Session, ids: list[int], *, owner: str, reason: str) -> int:
    """Claimed rows that must not be sent after all (the address was suppressed since):
    cancelled, saying why; the attempt is not counted, nothing was sent."""
    if not ids:
        return 0
    by_primary_key(session)
    stmt = (
        update(Delivery)
        .where(one_of(session, Delivery.id, ids), Delivery.status == SENDING,
               Delivery.claimed_by == owner)
        .values(status=DeliveryStatus.CANCELLED.value, claimed_at=None, claimed_by=None,
                attempts=Delivery.attempts - 1, last_error=reason[:1000])
        .execution_options(synchronize_session=False)
    )
    return rows_written(session, stmt)


def renew(session: Session, distribution_id: int, owner: str, now: datetime) -> set[int]:
    """The heartbeat of a live batch (a slow server, a rate limit): its lease goes on.

    Returns the ids still claimed by `owner`: the others were recorded, or taken back by
    the sweep and may be another worker's by now.
    """
    stmt = (
        update(Delivery)
        .where(Delivery.distribution_id == distribution_id, Delivery.status == SENDING,
               Delivery.claimed_by == owner)
        .values(claimed_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return set(session.execute(stmt).scalars())


def mark_journaled(session: Session, entries: list[Entry], owners: dict[int, str]) -> int:
    """Rows whose message the server accepted, by the journal, are sent: never again."""
    if not entries:
        return 0
    rows = [{"b_id": e.delivery_id, "b_owner": owners[e.delivery_id],
             "b_message_id": e.message_id, "b_marked": e.marked, "b_text": e.text_id,
             "b_sent_at": datetime.fromtimestamp(e.at, UTC)} for e in entries]
    return session.connection().execute(_MARK_JOURNALED, rows).rowcount


_MARK_JOURNALED = (
    update(Delivery)
    .where(Delivery.id == bindparam("b_id"), Delivery.status == SENDING,
           Delivery.claimed_by == bindparam("b_owner"))
    .values(status=DeliveryStatus.SENT.value, sent_at=bindparam("b_sent_at"),
            message_id=bindparam("b_message_id"), embargo_marked=bindparam("b_marked"),
            version_id=bindparam("b_text"),
            smtp_reply=JOURNALED, last_error=None, next_attempt_at=None,
            claimed_at=None, claimed_by=None)
    .execution_options(synchronize_session=False)
)


def in_flight(session: Session, distribution_id: int) -> bool:
    """Whether any batch holds claims on the distribution."""
    found = session.scalar(select(Delivery.id).where(
        Delivery.distribution_id == distribution_id, Delivery.status == SENDING).limit(1))
    return found is not None


def return_stale(session: Session, now: datetime, lease_seconds: int,
                 journal: Journal) -> tuple[int, list[str]]:
    """Leases older than this belong to dead batches: take their rows back.

    What the batch's journal says the server accepted is sent; the rest is pending again
    (the attempt stays counted: the message in flight may have left). Returns how many
    rows were taken back, and the batches whose journals may go once this commits.

    No lease lapses while the database is away: none can be renewed then. So leases count
    from the server's start too, and a live batch that waited out a restart records what
    it sent before its rows may be taken (and sent again by a batch that cannot know).
    """
    lapsed_before = now - timedelta(seconds=lease_seconds)
    started = database_started(session)
    if started is not None and started > lapsed_before:
        return 0, []
    # By distribution: the rows of those not done are found through the claim index,
    # however large the table (a finished distribution has no claims left). Their ids as
    # values, so that the planner knows how few they are, statistics or not.
    unfinished = session.scalars(select(Distribution.id).where(
        Distribution.status != DistributionStatus.DONE.value)).all()
    if not unfinished:
        return 0, []
    lapsed = and_(Delivery.distribution_id.in_(unfinished), Delivery.status == SENDING,
                  Delivery.claimed_at < lapsed_before)
    stale = session.execute(select(Delivery.id, Delivery.claimed_by).where(lapsed)).all()
    if not stale:
        return 0, []
    owners = {row.id: row.claimed_by or "" for row in stale}
    batches = sorted(set(owners.values()))
    journaled = [e for e in journal.read(batches).values() if e.delivery_id in owners]
    sent = mark_journaled(session, journaled, owners)
    stmt = (
        update(Delivery)
        .where(lapsed)
        .values(status=PENDING, claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return sent + rows_written(session, stmt), batches
