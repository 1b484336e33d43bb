"""Who receives a distribution: one delivery row per distinct, reachable contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Select,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from distribution.audience import segments
from distribution.audience.segments import Conditions
from distribution.store.db import dialect_insert, rows_written, table_of
from distribution.store.models import (
    Contact,
    Delivery,
    DeliveryStatus,
    MailingList,
    Subscription,
    SubscriptionStatus,
    Suppression,
)


def audience_query(list_ids: list[int],
                   where: Conditions | None = None) -> Select[int, str, int, int]:
    """Subscribed contacts of the lists, once each, suppressed addresses left out, narrowed
    by `where` (segments.parse_where).

    A contact on a trusted and a public list counts as trusted: the office vetted them.
    """
    trusted = func.max(case((MailingList.trusted, 1), else_=0))
    # Prefer a trusted list as the one named in List-Id and the unsubscribe link.
    list_pick = func.min(case((MailingList.trusted, -MailingList.id), else_=MailingList.id))
    suppressed = exists().where(Suppression.email == Contact.email)
    query = (
        select(Contact.id, Contact.email, trusted.label("trusted"), list_pick.label("list_pick"))
        .join(Subscription, Subscription.contact_id == Contact.id)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.list_id.in_(list_ids))
        .where(Subscription.status == SubscriptionStatus.SUBSCRIBED)
        .where(~suppressed)
        .group_by(Contact.id, Contact.email)
    )
    narrowed = segments.matches(where)
    return query if narrowed is None else query.where(narrowed)


# What a SELECT that makes delivery rows gives, in this order.
DELIVERY_COLUMNS = ("distribution_id", "contact_id", "email", "trusted", "list_id", "status",
                    "attempts")


def count_audience(session: Session, list_ids: list[int],
                   where: Conditions | None = None) -> int:
    sub = audience_query(list_ids, where).subquery()
    return session.execute(select(func.count()).select_from(sub)).scalar_one()


def count_by_language(session: Session, list_ids: list[int],
                      where: Conditions | None = None) -> dict[str | None, int]:
    """How many of the audience read each language (None: no language on record)."""
    sub = audience_query(list_ids, where).subquery()
    rows = session.execute(select(Contact.language, func.count())
                           .select_from(sub).join(Contact, Contact.id == sub.c.id)
                           .group_by(Contact.language))
    return {language: n for language, n in rows}


def preview_audience(session: Session, list_ids: list[int], limit: int,
                     where: Conditions | None = None) -> list[str]:
    sub = audience_query(list_ids, where).subquery()
    rows = session.execute(select(sub.c.email).order_by(sub.c.id).limit(limit))
    return [r[0] for r in rows]


# A person "has" a release while a copy is sent, on its way or held for the lift: a new
# send skips them (failed and cancelled copies do not count).
HAS_IT = [DeliveryStatus.SENT.value, DeliveryStatus.PENDING.value,
          DeliveryStatus.SENDING.value, DeliveryStatus.HELD.value]


def create_deliveries(session: Session, distribution_id: int, list_ids: list[int],
                      embargo_until: datetime | None, now: datetime,
                      where: Conditions | None = None, *, release_id: int,
                      again: bool = False) -> int:
    """Insert the delivery rows in one INSERT ... SELECT; returns how many.

    Who has the release already is skipped (unless `again`); the unique index on (release,
    contact, copy) skips whom a concurrent send of the same release took first.
    """
    sub = audience_query(list_ids, where).subquery()
    embargoed = embargo_until is not None and embargo_until > now
    # Public recipients of an embargoed release wait, as rows, until the lift.
    status = case((sub.c.trusted == 1, DeliveryStatus.PENDING.value),
                  else_=DeliveryStatus.HELD.value) if embargoed else literal(
                      DeliveryStatus.PENDING.value)
    list_id = case((sub.c.list_pick < 0, -sub.c.list_pick), else_=sub.c.list_pick)
    earlier = aliased(Delivery)
    mine = (earlier.release_id == release_id, earlier.contact_id == sub.c.id)
    copy: ColumnElement[int]
    keep: ColumnElement[bool]
    first = not _sent_before(session, release_id)
    if first:  # the usual first send: no look-ups per row
        copy, keep = literal(1), true()
    else:
        copy = select(func.coalesce(func.max(earlier.copy), 0) + 1).where(
            *mine).scalar_subquery()
        keep = true() if again else ~exists().where(*mine, earlier.status.in_(HAS_IT))
    source = select(
        literal(distribution_id), sub.c.id, sub.c.email, sub.c.trusted == 1, list_id,
        status, literal(0), literal(release_id), copy,
    ).where(keep)  # a WHERE, so that SQLite reads ON CONFLICT as the upsert clause
    columns = [*DELIVERY_COLUMNS, "release_id", "copy"]
    if first and session.get_bind().dialect.name == "postgresql":
        written = _insert_unless_raced(session, columns, source)
        if written is not None:
            return written
    stmt = dialect_insert(session, table_of(Delivery)).from_select(
        columns, source,
    ).on_conflict_do_nothing(index_elements=["release_id", "contact_id", "copy"])
    return rows_written(session, stmt)


def _insert_unless_raced(session: Session, columns: list[str], source: Select[Any],
                         ) -> int | None:
    """The rows of a release's first send as a plain INSERT, or None if a send of the same
    release committed first. ON CONFLICT checks the unique index before writing each row:
    at 100,000 rows, a sixth of the INSERT's time, spent on the rare race. The race still
    meets the index: the INSERT fails whole, and the caller skips whom the other took."""
    try:
        with session.begin_nested():
            return rows_written(session, insert(table_of(Delivery)).from_select(columns, source))
    except IntegrityError:
        return None


def _sent_before(session: Session, release_id: int) -> bool:
    return session.scalar(select(exists().where(Delivery.release_id == release_id))) or False


def split_audience(session: Session, list_ids: list[int], release_id: int,
                   where: Conditions | None = None) -> dict[str, int]:
    """The audience by what it has of the release: new, received, on its way, held."""
    sub = audience_query(list_ids, where).subquery()
    earlier = aliased(Delivery)

    def having(*statuses: DeliveryStatus) -> Exists:
        return exists().where(earlier.release_id == release_id,
                              earlier.contact_id == sub.c.id,
                              earlier.status.in_([s.value for s in statuses]))

    kind = case((having(DeliveryStatus.SENT), "received"),
                (having(DeliveryStatus.PENDING, DeliveryStatus.SENDING), "on_its_way"),
                (having(DeliveryStatus.HELD), "held"), else_="new")
    kinds = select(kind.label("kind")).select_from(sub).subquery()
    found: dict[str, int] = {kind: n for kind, n in session.execute(
        select(kinds.c.kind, func.count()).group_by(kinds.c.kind))}
    return {k: found.get(k, 0) for k in ("new", "received", "on_its_way", "held")}
