"""Media contacts: whom journalists should write to or call about a release.

They are read from a release's contact block ("For media inquiries please contact: ...") or
given as "Name <email> phone". Only real addresses are kept: text copied from a web page
carries Cloudflare's "[email protected]" where the address was, which is reported, never
guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from email_validator import EmailNotValidError, validate_email

from distribution.releases.bodyformat import heading_text, without_leading_emphasis


@dataclass(frozen=True)
class MediaContact:
    name: str | None
    email: str | None  # only a real address; never invented
    phone: str | None

    @property
    def email_ok(self) -> bool:
        """Only a real address becomes a mailto: link or a Reply-To."""
        return bool(self.email and _ADDRESS_SHAPE.fullmatch(self.email))

    @property
    def parts(self) -> list[str]:
        return [part for part in (self.name, self.email, self.phone) if part]


_HEADING = re.compile(
    r"""(?:
        for\s+(?:media|press|more|further)\s+(?:inquiries|enquiries|queries|information)
            \s*,?\s*(?:please\s+)?(?:contact|call|e-?mail|write\s+to)(?!\w)\s*:?
      | for\s+(?:media|press)\s+(?:inquiries|enquiries|queries)\s*:
      | (?:media|press)\s+(?:contacts?|contact\(s\)|inquiries|enquiries|queries|office)\s*:
      | contacts?\s*:
      | (?:press|media)\s+contacts?\s*$
      | r[üu]ckfragen\s*(?:&|und)\s*kontakt\s*:? | pressekontakt\s*:? | kontakt\s*:
      | contacts?\s+(?:presse|m[ée]dias?)\s*:? | pour\s+toute\s+demande\s+(?:des|de)\s+m[ée]dias?
            [^:]{0,60}:?
      | contactos?\s+(?:de\s+)?(?:prensa|medios)\s*:? | para\s+m[áa]s\s+informaci[óo]n[^:]{0,60}:
      | للاستفسارات\s+الإعلامية[^:]{0,40}:? | للاستفسار[^:]{0,40}:
      | بيانات\s+الاتصال[^:]{0,40}:? | للتواصل[^:]{0,40}:? | لمزيد\s+من\s+المعلومات[^:]{0,60}:
    )\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_URL = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
_OBFUSCATED = re.compile(r"\[\s*email\s+protected\s*\]", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# Looser than is_valid_email: stored and organisation contacts are not validated again;
# this only picks the addresses used as links or as a Reply-To.
_ADDRESS_SHAPE = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+")
_PHONE = re.compile(r"\+?\(?\d[\d ().-]{5,}\d")
# "Tel: +41 ...", "E-mail: ...": labels carry no name. Single letters only with a colon,
# so that an initial ("M. Petit") survives.
_LABEL = re.compile(
    r"\b(?:tel(?:ephone)?|phone|mobile|mob|cell|fax|e-?mail|mailto|whatsapp|web|net|internet"
    r"|website|url)(?!\w)\s*[.:]?"
    r"|\b[tmep]\s*:",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[,;|<>()\[\]]|\s[-–—/]\s")
_CONNECTOR = re.compile(
    r"^(?:and|or|at|on|via|by)\b\s*|\s*\b(?:and|or|at|on|via|by)$", re.IGNORECASE
)


def split_contact_heading(line: str) -> str | None:
    """The rest of a line opening a contact block ("Media contacts: Jane ..."), else None."""
    line = without_leading_emphasis(heading_text(line))
    match = _HEADING.match(line)
    return None if match is None else line[match.end():]


def has_contact_details(line: str) -> bool:
    """Whether a line carries an address or a phone number (real or obfuscated)."""
    return bool(_EMAIL.search(line) or _OBFUSCATED.search(line) or _phones(line))


def is_valid_email(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def parse_contact_block(lines: list[str]) -> tuple[list[MediaContact], list[str]]:
    """Contacts found in the lines of a block (its heading removed), and warnings."""
    contacts: list[MediaContact] = []
    warnings: list[str] = []
    current: _Entry | None = None
    for segment in _segments(lines):
        found = _read_segment(segment, warnings)
        if found is None:
            continue
        if current is None or _starts_new_contact(current, found):
            contacts.append(found.contact)
            current = found
        else:
            _fill_missing(current, found)
            contacts[-1] = current.contact
    return contacts, warnings


def parse_contact_spec(spec: str) -> MediaContact:
    """Read "Name <email> phone" (each part optional); ValueError says what is wrong."""
    match = re.fullmatch(r"(?P<name>[^<>]*)<(?P<email>[^<>]*)>(?P<phone>[^<>]*)", spec)
    if match is None:
        contacts, problems = parse_contact_block([spec])
        if problems or len(contacts) != 1:
            raise ValueError(f"expected 'Name <email> phone', got {spec!r}")
        return contacts[0]
    name, email, phone = (part.strip() or None for part in match.group("name", "email", "phone"))
    if email is not None and not is_valid_email(email):
        raise ValueError(f"{email!r} is not a valid email address")
    if not (name or email or phone):
        raise ValueError(f"expected 'Name <email> phone', got {spec!r}")
    return MediaContact(name, email, phone)


def _segments(lines: list[str]) -> list[str]:
    """Pieces holding one contact at most: lines split at ";" and after each address."""
    segments: list[str] = []
    for line in lines:
        for part in line.split(";"):
            start = 0
            for match in _EMAIL.finditer(part):
                segments.append(part[start:match.end()])
                start = match.end()
            segments.append(part[start:])
    return [segment for segment in segments if segment.strip()]


@dataclass
class _Entry:
    contact: MediaContact
    has_address: bool  # an address was written, even one that cannot be used


def _read_segment(segment: str, warnings: list[str]) -> _Entry | None:
    for hidden in _OBFUSCATED.findall(segment):
        warnings.append(
            f"media contact address is obfuscated ({hidden!r}); set one with --contact"
        )
    rest = _OBFUSCATED.sub(" ", segment)
    addresses = _EMAIL.findall(rest)
    email = None
    for address in addresses:
        if is_valid_email(address):
            email = email or address
        else:
            warnings.append(
                f"media contact address {address!r} is not a valid email address; "
                "set one with --contact"
            )
    rest = _URL.sub(" ", _EMAIL.sub(" ", rest))  # a website is not a name
    phones = _phones(rest)
    for phone in phones:
        rest = rest.replace(phone, " ")
    name = _name(_LABEL.sub(" ", rest))
    if not (name or email or phones):
        return None
    contact = MediaContact(name, email, phones[0] if phones else None)
    return _Entry(contact, bool(addresses or _OBFUSCATED.search(segment)))


def _phones(text: str) -> list[str]:
    # Seven digits at least: shorter runs are years, days or room numbers.
    return [
        " ".join(match.split())
        for match in _PHONE.findall(text)
        if 7 <= sum(char.isdigit() for char in match) <= 15
    ]


def _name(text: str) -> str | None:
    """The first piece of text that can be a name ("Jane Doe" in "Jane Doe, Spokesperson")."""
    for piece in _SEPARATOR.split(text):
        piece = _CONNECTOR.sub("", " ".join(piece.split()).strip(" .:-–—")).strip()
        if any(char.isalpha() for char in piece) and len(piece) <= 60 and len(piece.split()) <= 6:
            return piece
    return None


def _starts_new_contact(current: _Entry, found: _Entry) -> bool:
    # A name after a complete entry starts the next person; a name-only line right after
    # a name is a job title ("Spokesperson") and is dropped.
    return bool(
        (found.contact.name and (current.has_address or current.contact.phone))
        or (found.has_address and current.has_address)
    )


def _fill_missing(current: _Entry, found: _Entry) -> None:
    contact, new = current.contact, found.contact
    current.contact = replace(contact, name=contact.name or new.name,
                              email=contact.email or new.email,
                              phone=contact.phone or new.phone)
    current.has_address = current.has_address or found.has_address
