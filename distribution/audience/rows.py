"""Reading a contacts CSV: lines decoded, the header matched, each row checked and normalised.

A row that cannot be imported is reported with its line and reason; rows for the same
address (as email_validator normalises it) are merged, the first one winning.
"""

from __future__ import annotations

import csv
import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from typing import IO, Any, cast

from email_validator import (
    EmailNotValidError,
    ValidatedEmail,
    caching_resolver,
    validate_email,
)
from email_validator.rfc_constants import (
    ATEXT_HOSTNAME_INTL,
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
)

from distribution.errors import InvalidInput, NotFound
from distribution.zones import iana_names

FIELDS = ("email", "name", "outlet", "beat", "language", "country", "timezone")
# The widths of the contacts table: a longer value would fail the whole import on PostgreSQL.
MAX_TEXT, MAX_COUNTRY = 200, 64
MAX_LENGTH = {"name": MAX_TEXT, "outlet": MAX_TEXT, "beat": MAX_TEXT, "country": MAX_COUNTRY}
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*\Z", re.IGNORECASE)
# Control characters other than tab, CR and LF (which become spaces).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
PROGRESS_EVERY = 1000  # lines between progress reports

Source = str | PathLike[str] | IO[bytes] | IO[str]
# A contact's FIELDS, in order. A tuple of strings, not a list: CPython's cycle collector
# stops tracking such a tuple, while with lists each full collection walked every row of a
# large file (a fifth of a 100,000-contact import's CPU time went to collections).
Row = tuple[str | None, ...]
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    imported: int = 0               # new contacts
    updated: int = 0                # existing contacts given new details
    duplicates_merged: int = 0      # rows merged into an earlier row for the same address
    subscribed: int = 0             # subscriptions added to the list
    unsubscribed: int = 0           # rows not subscribed: the person had left the list
    forgotten: int = 0              # rows skipped: the person asked to be forgotten
    suppressed: int = 0             # rows kept, but never mailed: the address is suppressed
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line in the file, reason)
    warnings: list[str] = field(default_factory=list)


class RowRejected(ValueError):
    """One row of the file cannot be imported; the message says why."""


# Asked at most once, when an address needs it: why the configured transport cannot carry
# an address whose local part is not ASCII (SMTPUTF8), or None when it can
# (`transport.Smtputf8Probe`). Not given: such addresses are refused.
Smtputf8Check = Callable[[], str | None]


def _no_smtputf8() -> str:
    return "an address with non-ASCII letters before the @ needs SMTPUTF8"


def read_contacts(source: Source, report: ImportReport, *, check_deliverability: bool = False,
                  on_progress: Progress | None = None,
                  smtputf8: Smtputf8Check | None = None) -> list[Row]:
    """The file's valid contacts, one per normalised address; bad rows go to the report."""
    with _open(source) as stream:
        return _read(stream, report, AddressValidator(check_deliverability, smtputf8),
                     on_progress)


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

    def __init__(self, check_deliverability: bool = False,
                 smtputf8: Smtputf8Check | None = None) -> None:
        self._options: dict[str, Any] = {"check_deliverability": check_deliverability,
                                         "allow_smtputf8": False}
        if check_deliverability:  # one DNS look-up per domain, not per address
            self._options["dns_resolver"] = caching_resolver()
        self._domains: dict[str, tuple[str, int] | None] = {}
        self._smtputf8 = smtputf8 or _no_smtputf8
        self._utf8_refusal: tuple[str | None] | None = None  # asked once, then kept

    def normalize(self, address: str) -> str:
        """The normalised address; raises EmailNotValidError, or Unsendable for a valid
        address the configured transport cannot carry."""
        local, _, domain = address.rpartition("@")
        if DOT_ATOM_TEXT.match(local) and local.lower() not in _ROLE_NAMES:
            if domain not in self._domains:
                self._domains[domain] = self._check_domain(domain)
            known = self._domains[domain]
            if known is not None and len(local) + 1 + known[1] <= EMAIL_MAX_LENGTH:
                return f"{local}@{known[0]}"
        if local.isascii():
            return _as_sent(validate_email(address, **self._options))
        valid = validate_email(address, **{**self._options, "allow_smtputf8": True})
        if self._utf8_refusal is None:
            self._utf8_refusal = (self._smtputf8(),)
        if refusal := self._utf8_refusal[0]:
            raise Unsendable(refusal)
        return _as_sent(valid)

    def _check_domain(self, domain: str) -> tuple[str, int] | None:
        """(normalised domain, longest form in UTF-8 bytes), or None to validate in full."""
        if not _HOSTNAME.match(domain):
            return None
        try:
            probe = validate_email(f"x@{domain}", **self._options)
        except EmailNotValidError:
            return None
        forms = (domain, probe.domain, probe.ascii_domain)
        return probe.ascii_domain, max(len(form.encode()) for form in forms)


class Unsendable(ValueError):
    """A valid address that the configured transport cannot carry; the message says why."""


def mailable_address(address: str, smtputf8: Smtputf8Check | None = None) -> str:
    """`address` as it is stored and sent; EmailNotValidError saying why it is not an
    address, or Unsendable saying why it cannot be sent to.

    An internationalised domain becomes IDNA ("xn--..."), the form every relay takes. A
    local part with non-ASCII letters needs SMTPUTF8: such an address is taken only when
    `smtputf8` finds that the transport carries it, else refused where it is typed, not
    failed at every send.
    """
    valid = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    if not valid.local_part.isascii() and (refusal := (smtputf8 or _no_smtputf8)()):
        raise Unsendable(refusal)
    return _as_sent(valid)


def _as_sent(valid: ValidatedEmail) -> str:
    """The address as it is stored and sent: the domain in IDNA; a local part that is not
    ASCII in lower case, so that every database folds it as Python does (SQLite's lower()
    folds ASCII letters only), and one person stays one contact whatever the spelling."""
    if valid.ascii_email:
        return valid.ascii_email
    return f"{valid.local_part.lower()}@{valid.ascii_domain}"


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
    lines = _lines(stream, on_progress)
    first = next(lines, "")
    rows = _csv_rows(itertools.chain([first], lines), _delimiter(first))
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
            warnings: list[str] = []
            contact = _clean(fields, validator, warnings)
        except RowRejected as exc:
            report.rejected.append((line, str(exc)))
            continue
        report.warnings += [f"line {line}: {warning}" for warning in warnings]
        # One person, one address: Bob@Example.org and bob@example.org are merged.
        key = cast(str, contact[0]).lower()  # _clean rejects a row without one
        earlier = contacts.setdefault(key, contact)
        if earlier is not contact:
            report.duplicates_merged += 1
            # The first row wins, its spelling too; later rows fill its gaps.
            contacts[key] = tuple(
                old or new for old, new in zip(earlier, contact, strict=True))
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


def _delimiter(header: str) -> str:
    """The separator the header row uses: offices export with commas, semicolons (Excel in
    much of Europe) or tabs; the one seen most outside quotes wins, commas on a tie."""
    unquoted = "".join(header.split('"')[0::2])
    counts = {sep: unquoted.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: (counts[sep], sep == ","))
    return best if counts[best] else ","


def _csv_rows(lines: Iterator[str], delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, values): a quoted newline makes a row span lines."""
    reader = csv.reader(lines, delimiter=delimiter)
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


# Column titles as offices' address books and mail tools export them.
ALIASES = {"e-mail": "email", "e-mail address": "email", "email address": "email",
           "mail": "email", "full name": "name", "display name": "name",
           "organisation": "outlet", "organization": "outlet", "media outlet": "outlet",
           "publication": "outlet", "company": "outlet", "lang": "language",
           "time zone": "timezone", "first name": "first_name", "given name": "first_name",
           "firstname": "first_name", "last name": "last_name", "surname": "last_name",
           "family name": "last_name", "lastname": "last_name"}
PICKED = (*FIELDS, "first_name", "last_name")  # a name may come in two columns


def _column_name(title: str) -> str:
    name = " ".join(title.lower().replace("_", " ").split())
    return ALIASES.get(name, name.replace(" ", "_"))


def _columns(header: list[str], report: ImportReport) -> list[int]:
    """Where each of PICKED is (-1 if absent); names are case-insensitive and trimmed."""
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, title in enumerate(value.strip() for value in header):
        name = _column_name(title)
        if name in columns:
            raise InvalidInput(f"the header names the column '{name}' twice")
        if name in PICKED:
            columns[name] = index
        elif title:
            unknown.append(title)
    if "email" not in columns:
        hint = " (the file must be comma-separated)" if ";" in "".join(header) else ""
        raise InvalidInput(f"the header row has no email column{hint}; expected columns: "
                           + ", ".join(FIELDS))
    if unknown:
        report.warnings.append("ignored unknown columns: " + ", ".join(unknown))
    return [columns.get(name, -1) for name in PICKED]


def _one_line(joined: str, fields: list[str]) -> list[str]:
    """Fields without runs of whitespace (a quoted newline becomes a space) or controls."""
    if CONTROL.search(joined):
        raise RowRejected("the row contains a control character")
    return [" ".join(value.split()) for value in fields]


def _clean(values: list[str], validator: AddressValidator, warnings: list[str]) -> Row:
    """The row's FIELDS, checked and normalised; raises RowRejected. A bad optional field
    (a time zone typo) goes into `warnings` and is left out, the row imported without it."""
    email, name, outlet, beat, language, country, timezone, first, last = values
    name = name or " ".join(part for part in (first, last) if part)
    if not email:
        raise RowRejected("missing email")
    try:
        email = validator.normalize(email)
    except EmailNotValidError as exc:
        raise RowRejected(f"invalid email '{email}': {exc}") from None
    except Unsendable as exc:
        raise RowRejected(f"cannot send to '{email}': {exc}") from None
    if max(len(name), len(outlet), len(beat)) > MAX_TEXT or len(country) > MAX_COUNTRY:
        raise RowRejected(_too_long([email, name, *values[2:len(FIELDS)]]))
    return (email, name or None, outlet or None, beat or None,
            _optional(_language, language, warnings), country or None,
            _optional(_timezone, timezone, warnings))


def _optional(read: Callable[[str], str | None], value: str,
              warnings: list[str]) -> str | None:
    try:
        return read(value)
    except RowRejected as exc:
        warnings.append(f"{exc}; imported without it")
        return None


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
    # Matched case-insensitively, stored as spelled by IANA: ZoneInfo("europe/zurich") works
    # on a case-insensitive file system only.
    zone = iana_names().get(value.lower())
    if zone is None:
        raise RowRejected(f"unknown timezone '{value}': use an IANA name such as "
                          "'Europe/Zurich'")
    return zone

