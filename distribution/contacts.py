"""Contacts: importing a CSV file (validated, merged, upserted in bulk) and listing them."""

from __future__ import annotations

import csv
import functools
import operator
import re
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from os import PathLike
from typing import IO, Any

from email_validator import EmailNotValidError, caching_resolver, validate_email
from email_validator.rfc_constants import (
    ATEXT_HOSTNAME_INTL,
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
)
from sqlalchemy import String, and_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import Insert as PGInsert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from distribution.errors import InvalidInput, NotFound
from distribution.lists import CHUNK, dialect_insert, get_list, json_rows, subscribe
from distribution.models import (
    Contact,
    MailingList,
    Subscription,
    SubscriptionStatus,
    UTCDateTime,
    utcnow,
)

FIELDS = ("email", "name", "outlet", "beat", "language", "country", "timezone")
DETAILS = FIELDS[1:]
# The widths of the contacts table: a longer value would fail the whole import on PostgreSQL.
MAX_TEXT, MAX_COUNTRY = 200, 64
MAX_LENGTH = {"name": MAX_TEXT, "outlet": MAX_TEXT, "beat": MAX_TEXT, "country": MAX_COUNTRY}
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*\Z", re.IGNORECASE)
# Control characters other than tab, CR and LF (which become spaces).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
PROGRESS_EVERY = 1000  # lines between progress reports

Source = str | PathLike[str] | IO[bytes] | IO[str]
Row = list[str | None]  # a contact's FIELDS, in order
Progress = Callable[[int], None]
Returning = ReturningInsert[tuple[str, int]]  # a bulk statement returning (email, id)


@dataclass
class ImportReport:
    imported: int = 0               # new contacts
    updated: int = 0                # existing contacts given new details
    duplicates_merged: int = 0      # rows merged into an earlier row for the same address
    subscribed: int = 0             # subscriptions added to the list
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line in the file, reason)
    warnings: list[str] = field(default_factory=list)


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


class RowRejected(ValueError):
    """One row of the file cannot be imported; the message says why."""


def import_contacts(session: Session, source: Source, *, list_name: str | None = None,
                    check_deliverability: bool = False,
                    on_progress: Progress | None = None) -> ImportReport:
    """Import a CSV file of contacts (a path or a binary/text stream); the caller commits.

    Good rows are imported even when others are rejected. Rows are merged on the address as
    email_validator normalises it, which lowercases the domain only: Bob@Example.ORG and
    Bob@example.org are one contact, bob@example.org another (the standard lets a server
    treat local parts case-sensitively). An existing contact takes the file's non-empty
    details and keeps the others. With a list, every good row is subscribed, except contacts
    who unsubscribed from it. on_progress gets the bytes read since its last call.
    """
    target = get_list(session, list_name) if list_name is not None else None
    report = ImportReport()
    with _open(source) as stream:
        contacts = _read(stream, report, AddressValidator(check_deliverability), on_progress)
    ids = _save(session, contacts, report)
    if target is not None:
        # Contacts the file left unchanged returned no id.
        ids |= _ids_by_email(session, [str(c[0]) for c in contacts if c[0] not in ids])
        report.subscribed = subscribe(session, ids.values(), target.id)
    return report


def all_contacts(session: Session, limit: int | None = None, *,
                 list_name: str | None = None) -> list[ContactRow]:
    """Contacts by email, each with its list names, in one query; optionally one list's."""
    subscribed = Subscription.status == SubscriptionStatus.SUBSCRIBED
    names = (select(func.aggregate_strings(MailingList.name, ","))
             .join_from(Subscription, MailingList)
             .where(Subscription.contact_id == Contact.id, subscribed).scalar_subquery())
    query = select(*(getattr(Contact, f) for f in FIELDS), names).order_by(Contact.email)
    if list_name is not None:
        members = select(Subscription.contact_id).where(
            Subscription.list_id == get_list(session, list_name).id, subscribed)
        query = query.where(Contact.id.in_(members))
    return [ContactRow(*row[:-1], lists=sorted(row[-1].split(",")) if row[-1] else [])
            for row in session.execute(query.limit(limit))]


class AddressValidator:
    """email_validator's verdict and normalised form, without repeating per-domain work.

    validate_email costs ~65 us an address, two thirds of it checking the domain (IDNA), so
    100,000 addresses took longer than the whole import may. Nearly every address has a
    plain ASCII local part ("jane.doe"); for those the library's only local-part work is the
    dot-atom check, lowercasing RFC 2142 role names and the length limit, which we apply
    with its own constants, asking validate_email once per distinct domain. Any other
    address, and any failure, goes through validate_email itself, so the messages are its
    own. tests/test_contacts.py checks that both paths agree.
    """

    def __init__(self, check_deliverability: bool = False) -> None:
        self._options: dict[str, Any] = {"check_deliverability": check_deliverability}
        if check_deliverability:  # one DNS look-up per domain, not per address
            self._options["dns_resolver"] = caching_resolver()
        self._domains: dict[str, tuple[str, int] | None] = {}

    def normalize(self, address: str) -> str:
        """The normalised address; raises EmailNotValidError."""
        local, _, domain = address.rpartition("@")
        if DOT_ATOM_TEXT.match(local) and local.lower() not in _ROLE_NAMES:
            if domain not in self._domains:
                self._domains[domain] = self._check_domain(domain)
            known = self._domains[domain]
            if known is not None and len(local) + 1 + known[1] <= EMAIL_MAX_LENGTH:
                return f"{local}@{known[0]}"
        return validate_email(address, **self._options).normalized

    def _check_domain(self, domain: str) -> tuple[str, int] | None:
        """(normalised domain, longest form in UTF-8 bytes), or None to validate in full."""
        if not _HOSTNAME.match(domain):
            return None
        try:
            probe = validate_email(f"x@{domain}", **self._options)
        except EmailNotValidError:
            return None
        forms = (domain, probe.domain, probe.ascii_domain)
        return probe.domain, max(len(form.encode()) for form in forms)


_ROLE_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_HOSTNAME = re.compile(f"{ATEXT_HOSTNAME_INTL.pattern}+\\Z")


@contextmanager
def _open(source: Source) -> Iterator[IO[bytes] | IO[str]]:
    if not isinstance(source, str | PathLike):
        yield source
        return
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed below; errors become one line
    except FileNotFoundError:
        raise NotFound(f"no such file: {source}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{source} is a directory, not a CSV file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror}") from None
    with handle:
        yield handle


def _read(stream: IO[bytes] | IO[str], report: ImportReport, validator: AddressValidator,
          on_progress: Progress | None) -> list[Row]:
    """Validated contacts by normalised address, duplicates merged; bad rows reported."""
    rows = _csv_rows(_lines(stream, on_progress))
    header = _header(rows)
    # Short rows read the padding; absent columns read its last item (-1), even after a row
    # longer than the header. One C call picks every field.
    pick = operator.itemgetter(*_columns(header, report))
    padding = [""] * len(header)
    contacts: dict[str, Row] = {}
    for line, values in rows:
        joined = "".join(values)
        if not joined or joined.isspace():
            continue
        fields = list(map(str.strip, pick(values + padding)))
        try:
            if not joined.isprintable() or "  " in joined:  # rare, so checked only then
                fields = _one_line(joined, fields)
            contact = _clean(fields, validator)
        except RowRejected as exc:
            report.rejected.append((line, str(exc)))
            continue
        earlier = contacts.setdefault(contact[0], contact)
        if earlier is not contact:
            report.duplicates_merged += 1
            for i in range(1, len(FIELDS)):  # the first row wins; later rows fill its gaps
                earlier[i] = earlier[i] or contact[i]
    return list(contacts.values())


def _lines(stream: IO[bytes] | IO[str], on_progress: Progress | None) -> Iterator[str]:
    """Decoded lines; a line that is not UTF-8 stops the import, named."""
    pending = 0
    for number, raw in enumerate(_physical_lines(stream), 1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"line {number} is not UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                    f"{exc.start + 1}); save the file as UTF-8 (CSV UTF-8) and import again"
                ) from None
        else:
            line = raw
        yield line.removeprefix("\ufeff") if number == 1 else line
        pending += len(raw)
        if on_progress is not None and number % PROGRESS_EVERY == 0:
            on_progress(pending)
            pending = 0
    if on_progress is not None and pending:
        on_progress(pending)


def _physical_lines(stream: IO[bytes] | IO[str]) -> Iterator[bytes | str]:
    """Lines as the file has them, also when they end with CR alone (Excel's old Mac CSV)."""
    for raw in stream:
        if isinstance(raw, bytes) and raw.find(b"\r", 0, -2) != -1:
            yield from raw.splitlines(keepends=True)  # bytes split on CR, LF and CRLF only
        else:
            yield raw


def _csv_rows(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, values): a quoted newline makes a row span lines."""
    reader = csv.reader(lines)
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"line {start}: {exc}") from None
        yield start, values


def _header(rows: Iterator[tuple[int, list[str]]]) -> list[str]:
    for _, values in rows:
        if any(value.strip() for value in values):
            return values
    raise InvalidInput("the file is empty: expected a header row with an email column")


def _columns(header: list[str], report: ImportReport) -> list[int]:
    """Where each of FIELDS is (-1 if absent); names are case-insensitive and trimmed."""
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, title in enumerate(value.strip() for value in header):
        name = title.lower()
        if name in columns:
            raise InvalidInput(f"the header names the column '{name}' twice")
        if name in FIELDS:
            columns[name] = index
        elif title:
            unknown.append(title)
    if "email" not in columns:
        hint = " (the file must be comma-separated)" if ";" in "".join(header) else ""
        raise InvalidInput(f"the header row has no email column{hint}; expected columns: "
                           + ", ".join(FIELDS))
    if unknown:
        report.warnings.append("ignored unknown columns: " + ", ".join(unknown))
    return [columns.get(name, -1) for name in FIELDS]


def _one_line(joined: str, fields: list[str]) -> list[str]:
    """Fields without runs of whitespace (a quoted newline becomes a space) or controls."""
    if CONTROL.search(joined):
        raise RowRejected("the row contains a control character")
    return [" ".join(value.split()) for value in fields]


def _clean(values: list[str], validator: AddressValidator) -> Row:
    """The row's FIELDS, checked and normalised; raises RowRejected."""
    email, name, outlet, beat, language, country, timezone = values
    if not email:
        raise RowRejected("missing email")
    try:
        email = validator.normalize(email)
    except EmailNotValidError as exc:
        raise RowRejected(f"invalid email '{email}': {exc}") from None
    if max(len(name), len(outlet), len(beat)) > MAX_TEXT or len(country) > MAX_COUNTRY:
        raise RowRejected(_too_long(values))
    return [email, name or None, outlet or None, beat or None, _language(language),
            country or None, _timezone(timezone)]


def _too_long(values: list[str]) -> str:
    given = dict(zip(FIELDS, values, strict=True))
    name = next(name for name, limit in MAX_LENGTH.items() if len(given[name]) > limit)
    return f"{name} is longer than {MAX_LENGTH[name]} characters"


@functools.lru_cache(maxsize=4096)  # files repeat a few values; errors are not cached
def _language(value: str) -> str | None:
    """A short language tag, written the usual way: 'pt_br' -> 'pt-BR'."""
    if not value:
        return None
    tag = value.replace("_", "-")
    if len(tag) > 16 or not LANGUAGE.match(tag):
        raise RowRejected(f"invalid language '{value}': use a short code such as "
                          "'en', 'fr' or 'pt-BR'")
    first, *rest = tag.split("-")
    return "-".join([first.lower(), *(_subtag(part) for part in rest)])


def _subtag(part: str) -> str:
    if len(part) == 2 and part.isalpha():
        return part.upper()       # region: BR
    if len(part) == 4 and part.isalpha():
        return part.title()       # script: Latn
    return part.lower()


@functools.lru_cache(maxsize=4096)
def _timezone(value: str) -> str | None:
    if not value:
        return None
    zone = _zone_names().get(value.lower())
    if zone is None:
        raise RowRejected(f"unknown timezone '{value}': use an IANA name such as "
                          "'Europe/Zurich'")
    return zone


@functools.cache
def _zone_names() -> dict[str, str]:
    # Matched case-insensitively, stored as spelled by IANA: ZoneInfo("europe/zurich") works
    # on a case-insensitive file system only.
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _save(session: Session, contacts: list[Row], report: ImportReport) -> dict[str, int]:
    """Insert the new contacts, then update the others; returns their ids by email."""
    now = utcnow()
    inserted = _in_chunks(session, _insert_new, contacts, now)
    report.imported = len(inserted)
    updated = _in_chunks(session, _update_existing,
                         [c for c in contacts if c[0] not in inserted], now)
    report.updated = len(updated)
    return inserted | updated


def _in_chunks(session: Session, build: Callable[[Session, list[Row], datetime], Returning],
               contacts: list[Row], now: datetime) -> dict[str, int]:
    """Run a statement built for each chunk of rows; returns the (email, id) rows it returns."""
    returned: dict[str, int] = {}
    for start in range(0, len(contacts), CHUNK):
        returned.update(session.execute(build(session, contacts[start:start + CHUNK], now)).all())
    return returned


def _insert_new(session: Session, contacts: list[Row], now: datetime) -> Returning:
    table = Contact.__table__
    return (_insert(session, contacts, now).on_conflict_do_nothing(index_elements=[table.c.email])
            .returning(table.c.email, table.c.id))


def _update_existing(session: Session, contacts: list[Row], now: datetime) -> Returning:
    """ON CONFLICT (email) DO UPDATE: a non-empty new detail replaces the old one."""
    table = Contact.__table__
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
    return dialect_insert(session, Contact.__table__).from_select(
        [*FIELDS, "created_at"], rows.add_columns(literal(now, UTCDateTime())))


def _ids_by_email(session: Session, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(emails), CHUNK):
        wanted = json_rows(session, {"email": String()}, [[e] for e in emails[start:start + CHUNK]])
        query = select(Contact.email, Contact.id).where(Contact.email.in_(wanted))
        found.update(session.execute(query).all())
    return found
