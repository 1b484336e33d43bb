"""Contacts: importing a CSV file (validated, merged, upserted in bulk) and listing them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import Insert as PGInsert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from distribution.audience.forget import forgotten_key, forgotten_keys
from distribution.audience.lists import CHUNK, add_subscriptions, get_list, subscribe
from distribution.audience.rows import (
    FIELDS,
    ImportReport,
    Progress,
    Row,
    Smtputf8Check,
    Source,
    read_contacts,
)
from distribution.store.db import (
    dialect_insert,
    json_rows,
    one_of,
    refresh_statistics,
    table_of,
)
from distribution.store.models import (
    Contact,
    MailingList,
    Subscription,
    SubscriptionStatus,
    Suppression,
    UTCDateTime,
    utcnow,
)

__all__ = ["ContactRow", "ImportReport", "Progress", "all_contacts", "import_contacts"]

DETAILS = FIELDS[1:]  # what a row may change on an existing contact
Returning = ReturningInsert[str, int]  # a bulk statement returning (email, id)


@dataclass(frozen=True)
class ContactRow:
    email: str
    name: str | None
    outlet: str | None
    beat: str | None
    language: str | None
    country: str | None
    timezone: str | None
    lists: list[str]                # the lists the contact is subscribed to
    suppressed: str | None = None   # why no mail reaches them (a bounce, a complaint...)


def import_contacts(session: Session, source: Source, *, list_name: str | None = None,
                    check_deliverability: bool = False,
                    on_progress: Progress | None = None,
                    smtputf8: Smtputf8Check | None = None) -> ImportReport:
    """Import a CSV file of contacts (a path or a binary/text stream); the caller commits.

    Good rows are imported even when others are rejected. Rows are merged on the case-folded
    address, as every mailing list manager does (the standard lets a server treat local
    parts case-sensitively; none that matters does, and two contacts for one person meant
    two copies, and an unsubscription that left the other subscribed): Bob@Example.ORG and
    bob@example.org are one contact, under the spelling seen first (in the database, else
    in the file). An existing contact takes the file's non-empty details and keeps the
    others. With a list, every good row is subscribed, except contacts
    who unsubscribed from it. People who asked to be forgotten are skipped, and suppressed
    addresses counted (`report`). An address with non-ASCII letters before the @ is taken
    when `smtputf8` finds that the transport carries it (asked once), else its row is
    refused saying why. on_progress gets the bytes read since its last call.
    """
    target = get_list(session, list_name) if list_name is not None else None
    report = ImportReport()
    contacts = read_contacts(source, report, check_deliverability=check_deliverability,
                             on_progress=on_progress, smtputf8=smtputf8)
    if forgotten := forgotten_keys(session):  # erased people never come back by an import
        kept = [c for c in contacts if forgotten_key(str(c[0])) not in forgotten]
        report.forgotten = len(contacts) - len(kept)
        contacts = kept
    contacts = _as_stored(session, contacts)
    report.suppressed = _suppressed(session, contacts)
    new, updated = _save(session, contacts, report)
    if target is not None:
        # Contacts the file left unchanged returned no id.
        known = updated | _ids_by_email(
            session, [str(c[0]) for c in contacts if c[0] not in new and c[0] not in updated])
        report.subscribed = (_subscribe_new(session, list(new.values()), target.id)
                             + subscribe(session, known.values(), target.id))
        report.unsubscribed = _left(session, list(known.values()), target.id)
    refresh_statistics(session, report.imported + report.subscribed, Contact, Subscription)
    return report


def _left(session: Session, contact_ids: list[int], list_id: int) -> int:
    """How many of these contacts unsubscribed from the list (an import never undoes it)."""
    left = 0
    for start in range(0, len(contact_ids), CHUNK):
        left += session.scalar(select(func.count()).select_from(Subscription).where(
            Subscription.list_id == list_id,
            Subscription.status == SubscriptionStatus.UNSUBSCRIBED,
            one_of(session, Subscription.contact_id, contact_ids[start:start + CHUNK]))) or 0
    return left


def all_contacts(session: Session, limit: int | None = None, *,
                 list_name: str | None = None) -> list[ContactRow]:
    """Contacts by email, each with its list names, in one query; optionally one list's."""
    subscribed = Subscription.status == SubscriptionStatus.SUBSCRIBED
    names = (select(func.aggregate_strings(MailingList.name, ","))
             .join_from(Subscription, MailingList, MailingList.id == Subscription.list_id)
             .where(Subscription.contact_id == Contact.id, subscribed).scalar_subquery())
    reason = (select(Suppression.reason).where(Suppression.email == Contact.email)
              .scalar_subquery())
    query = select(*(getattr(Contact, f) for f in FIELDS), reason, names).order_by(Contact.email)
    if list_name is not None:
        members = select(Subscription.contact_id).where(
            Subscription.list_id == get_list(session, list_name).id, subscribed)
        query = query.where(Contact.id.in_(members))
    return [ContactRow(**dict(zip(FIELDS, row[:-2], strict=True)),
                       lists=sorted(row[-1].split(",")) if row[-1] else [], suppressed=row[-2])
            for row in session.execute(query.limit(limit))]


@dataclass(frozen=True)
class SuppressedRow:
    email: str
    reason: str
    since: str  # ISO 8601, UTC


def all_suppressions(session: Session) -> list[SuppressedRow]:
    """Every address never mailed again, with why and since when."""
    return [SuppressedRow(s.email, s.reason, s.created_at.isoformat())
            for s in session.scalars(select(Suppression).order_by(Suppression.email))]


def _save(session: Session, contacts: list[Row],
          report: ImportReport) -> tuple[dict[str, int], dict[str, int]]:
    """Insert the new contacts, then update the others; returns each set's ids by email."""
    now = utcnow()
    inserted = _in_chunks(session, _insert_new, contacts, now)
    report.imported = len(inserted)
    updated = _in_chunks(session, _update_existing,
                         [c for c in contacts if c[0] not in inserted], now)
    report.updated = len(updated)
    return inserted, updated


def _subscribe_new(session: Session, contact_ids: list[int], list_id: int) -> int:
    """Subscribe contacts this transaction created; returns how many.

    A plain INSERT: no other transaction can see these contacts yet, and the key on
    subscriptions.contact_id keeps rows from naming a contact that does not exist, so none
    has a subscription. lists.subscribe's ON CONFLICT DO NOTHING made each row a speculative
    insertion (about 0.3 s per 100,000 rows on PostgreSQL).
    """
    return add_subscriptions(session, contact_ids, list_id, skip_existing=False)


def _in_chunks(session: Session, build: Callable[[Session, list[Row], datetime], Returning],
               contacts: list[Row], now: datetime) -> dict[str, int]:
    """Run a statement built for each chunk of rows; returns the (email, id) rows it returns."""
    returned: dict[str, int] = {}
    for start in range(0, len(contacts), CHUNK):
        chunk = contacts[start:start + CHUNK]
        returned.update(session.execute(build(session, chunk, now)).all())
    return returned


def _insert_new(session: Session, contacts: list[Row], now: datetime) -> Returning:
    table = table_of(Contact)
    return (_insert(session, contacts, now).on_conflict_do_nothing(index_elements=[table.c.email])
            .returning(table.c.email, table.c.id))


def _update_existing(session: Session, contacts: list[Row], now: datetime) -> Returning:
    """ON CONFLICT (email) DO UPDATE: a non-empty new detail replaces the old one."""
    table = table_of(Contact)
    stmt = _insert(session, contacts, now)
    new = stmt.excluded
    # A contact the file would not change is not rewritten, nor counted as updated.
    changed = or_(*(and_(new[name].is_not(None), new[name].is_distinct_from(table.c[name]))
                    for name in DETAILS))
    return stmt.on_conflict_do_update(
        index_elements=[table.c.email], where=changed,
        set_={name: func.coalesce(new[name], table.c[name]) for name in DETAILS},
    ).returning(table.c.email, table.c.id)


def _insert(session: Session, contacts: list[Row], now: datetime) -> SQLiteInsert | PGInsert:
    rows = json_rows(session, dict.fromkeys(FIELDS, String()), contacts)
    return dialect_insert(session, table_of(Contact)).from_select(
        [*FIELDS, "created_at"], rows.add_columns(literal(now, UTCDateTime())))


def _as_stored(session: Session, contacts: list[Row]) -> list[Row]:
    """Rows of a contact stored under another spelling of the address take that spelling:
    the import then finds it as it is (the unique index is on the folded address)."""
    stored: dict[str, str] = {}
    for start in range(0, len(contacts), CHUNK):
        wanted = json_rows(session, {"email": String()},
                           [[str(c[0]).lower()] for c in contacts[start:start + CHUNK]])
        query = select(Contact.email).where(func.lower(Contact.email).in_(wanted))
        stored.update((email.lower(), email) for email in session.scalars(query))
    if not stored:
        return contacts
    return [(stored.get(str(c[0]).lower(), c[0]), *c[1:]) for c in contacts]


def _suppressed(session: Session, contacts: list[Row]) -> int:
    """How many of the rows name a suppressed address (unsubscribed from everything,
    bounced, complained): imported, and never mailed, as every send decides."""
    found = 0
    for start in range(0, len(contacts), CHUNK):
        wanted = json_rows(session, {"email": String()},
                           [[c[0]] for c in contacts[start:start + CHUNK]])
        found += session.scalar(select(func.count()).select_from(Suppression)
                                .where(Suppression.email.in_(wanted))) or 0
    return found


def _ids_by_email(session: Session, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(emails), CHUNK):
        wanted = json_rows(session, {"email": String()}, [[e] for e in emails[start:start + CHUNK]])
        query = select(Contact.email, Contact.id).where(Contact.email.in_(wanted))
        found.update(session.execute(query).all())
    return found
