"""Mailing lists: creating them, counting their members, subscribing contacts in bulk."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, Select, and_, delete, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from distribution.errors import InvalidInput, NotFound
from distribution.store.db import dialect_insert, json_rows
from distribution.store.models import (
    MailingList,
    Subscription,
    SubscriptionStatus,
    UTCDateTime,
    utcnow,
)

LIST_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}\Z")
# Rows per statement in bulk writes: one JSON document each, small enough to stay cheap.
CHUNK = 5000


@dataclass(frozen=True)
class ListSummary:
    id: int
    name: str
    title: str | None
    trusted: bool
    open_signup: bool
    description: str | None
    members: int            # subscribed contacts (not pending, not unsubscribed)
    created_at: datetime


def create_list(session: Session, name: str, *, trusted: bool = False, open_signup: bool = False,
                description: str | None = None, title: str | None = None) -> MailingList:
    if not LIST_NAME.match(name):
        raise InvalidInput(f"invalid list name '{name}': use 1-100 letters, digits, "
                           "'-', '_' or '.', without spaces")
    if trusted and open_signup:
        # Anyone could sign up to receive embargoed copies: trusted means vetted by the office.
        raise InvalidInput(f"list '{name}' cannot be both trusted and open to public sign-up")
    if session.scalar(select(MailingList.id).where(MailingList.name == name)) is not None:
        raise InvalidInput(f"list '{name}' already exists")
    mailing_list = MailingList(name=name, trusted=trusted, open_signup=open_signup,
                               description=description or None, title=checked_title(title),
                               created_at=utcnow())
    session.add(mailing_list)
    try:
        session.flush()
    except IntegrityError:  # created by someone else since the check above
        raise InvalidInput(f"list '{name}' already exists") from None
    return mailing_list


def _check_name(session: Session, name: str) -> None:
    if not LIST_NAME.match(name):
        raise InvalidInput(f"invalid list name '{name}': use 1-100 letters, digits, "
                           "'-', '_' or '.', without spaces")
    if session.scalar(select(MailingList.id).where(MailingList.name == name)) is not None:
        raise InvalidInput(f"list '{name}' already exists")


def checked_title(title: str | None) -> str | None:
    """A list's public title: one line of at most 200 characters."""
    if title is None:
        return None
    cleaned = " ".join(title.split())
    if not cleaned.isprintable() or len(cleaned) > 200:
        raise InvalidInput("a list title is one line of at most 200 printable characters")
    return cleaned or None


def rename_list(session: Session, name: str, new_name: str | None, *,
                title: str | None = None) -> MailingList:
    """A new name (the slug commands use) and/or title (what the public reads); members,
    sign-up page and history follow the list's id."""
    mailing_list = get_list(session, name)
    if title is not None:
        mailing_list.title = checked_title(title)
    if new_name is None or new_name == name:
        return mailing_list
    _check_name(session, new_name)
    mailing_list.name = new_name
    try:
        session.flush()
    except IntegrityError:
        raise InvalidInput(f"list '{new_name}' already exists") from None
    return mailing_list


def delete_list(session: Session, name: str) -> int:
    """Delete the list and its memberships; returns how many there were. Suppressions stay:
    an address never to be mailed again stays so whatever list it came from."""
    mailing_list = get_list(session, name)
    # No foreign key from subscriptions to lists (see Subscription): deleted here.
    members = session.execute(delete(Subscription).where(
        Subscription.list_id == mailing_list.id)
        .execution_options(synchronize_session=False)).rowcount
    session.delete(mailing_list)
    session.flush()
    return members


def get_list(session: Session, name: str) -> MailingList:
    found = session.scalar(select(MailingList).where(MailingList.name == name))
    if found is None:
        raise NotFound(f"no list named '{name}'")
    return found


def all_lists(session: Session) -> list[ListSummary]:
    """Every list with its member count, in one query."""
    return [_summary(*row) for row in session.execute(_with_members().order_by(MailingList.name))]


def list_summary(session: Session, name: str) -> ListSummary:
    row = session.execute(_with_members().where(MailingList.name == name)).first()
    if row is None:
        raise NotFound(f"no list named '{name}'")
    return _summary(*row)


def subscribe(session: Session, contact_ids: Iterable[int], list_id: int) -> int:
    """Subscribe contacts to a list; returns how many subscriptions are new.

    Set-based, INSERT ... ON CONFLICT DO NOTHING: an existing subscription is left exactly
    as it is. In particular an UNSUBSCRIBED contact stays unsubscribed (re-importing a
    spreadsheet must not resubscribe someone who left), and a PENDING double opt-in stays
    pending until the contact confirms.
    """
    table = Subscription.__table__
    ids = list(dict.fromkeys(contact_ids))
    constants = (literal(list_id, Integer()),
                 literal(SubscriptionStatus.SUBSCRIBED, table.c.status.type),
                 literal(utcnow(), UTCDateTime()))
    columns = ["contact_id", "list_id", "status", "created_at"]
    added = 0
    for start in range(0, len(ids), CHUNK):
        chunk = [[contact_id] for contact_id in ids[start:start + CHUNK]]
        rows = json_rows(session, {"contact_id": Integer()}, chunk)
        stmt = dialect_insert(session, table).from_select(columns, rows.add_columns(*constants))
        # rowcount of an INSERT is kept only on request (SQLAlchemy 2).
        done = session.execute(stmt.on_conflict_do_nothing().execution_options(
            preserve_rowcount=True))
        added += done.rowcount
    return added


def _with_members() -> Select:
    members = func.count(Subscription.contact_id)
    subscribed = and_(Subscription.list_id == MailingList.id,
                      Subscription.status == SubscriptionStatus.SUBSCRIBED)
    return (select(MailingList, members).outerjoin(Subscription, subscribed)
            .group_by(MailingList.id))


def _summary(mailing_list: MailingList, members: int) -> ListSummary:
    return ListSummary(id=mailing_list.id, name=mailing_list.name, title=mailing_list.title,
                       trusted=mailing_list.trusted,
                       open_signup=mailing_list.open_signup,
                       description=mailing_list.description, members=members,
                       created_at=mailing_list.created_at)
