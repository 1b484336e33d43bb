"""Header values for outgoing mail: cleaned of control characters, folded by the email package.

Every value that reaches a header passes through `clean_header_value` first, so a CR, LF or
any other control character in a headline, a name or a URL can never start a new header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.header import Header
from email.policy import SMTP, EmailPolicy
from email.utils import formataddr
from urllib.parse import quote

# SMTP (CRLF line ends) at 76 columns: quoted-printable body lines must not pass 76
# characters (RFC 2045), and the email package encodes bodies at the policy's line length.
LINE_LENGTH = 76
POLICY = SMTP.clone(max_line_length=LINE_LENGTH)
MAX_LINE = 998  # RFC 5322 hard limit for one header line, CRLF excluded
_FOLD_AT = LINE_LENGTH  # a header line this short is never folded

# Everything str.splitlines() breaks on (a new header line to the email package) becomes a
# space; every other C0/C1 control and the bidi overrides used to disguise names are dropped.
_BREAKS = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"
_DROPPED = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F),
            *range(0x2066, 0x206A)]
_CLEAN = {code: None for code in _DROPPED} | {ord(c): " " for c in _BREAKS}
# Characters that make a display phrase need quoting or encoding (RFC 5322 specials).
_SPECIALS = frozenset('()<>@,:;.\\"[]')
_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+")
_MSG_ID = re.compile(r"<[^\s<>@]+@[^\s<>@]+>")
# Anything but printable ASCII without < > " (which would end the <...> around a URL).
_URL_UNSAFE = re.compile(r"[^\x21\x23-\x3b\x3d\x3f-\x7e]")


def clean_header_value(value: str) -> str:
    """`value` on one line: line breaks become spaces, other control characters go."""
    if value.isprintable():  # printable text holds no control, break or bidi character
        # ...and no whitespace but the ASCII space: the usual value is already clean.
        if "  " not in value and value[:1] != " " and value[-1:] != " ":
            return value
    else:
        value = value.translate(_CLEAN)
    return " ".join(value.split())


@dataclass(frozen=True)
class FoldedHeader:
    """A header line folded here; the email package writes objects with a `name` as given."""

    name: str
    line: str  # "Name: value" with CRLF line ends, including the last one

    def fold(self, *, policy: EmailPolicy) -> str:
        return self.line


def header_line(name: str, value: str) -> str:
    """One clean value as a header line, RFC 2047-encoded and folded by the email package."""
    if value.isascii() and value.isprintable() and len(name) + 2 + len(value) <= _FOLD_AT:
        return f"{name}: {value}\r\n"  # what POLICY.fold returns for it, at a tenth the cost
    if value.isascii():
        # Short ASCII values pass as they are; long ones are refolded by the header parser.
        folded: str = POLICY.fold(name, value)  # typeshed has fold() return Any
    else:
        folded = POLICY.header_factory(name, value).fold(policy=POLICY)
    return folded


def unstructured(name: str, value: str) -> str | FoldedHeader:
    """A text header (Subject); non-ASCII text becomes RFC 2047 encoded-words throughout.

    Whole encoded-words, because the email package's folder leaves a doubled space where
    it switches from plain words to encoded-words in the middle of a line.
    """
    value = clean_header_value(value)
    if value.isascii():
        return value
    encoded = Header(value, "utf-8", header_name=name).encode(
        linesep="\r\n", maxlinelen=LINE_LENGTH)
    return FoldedHeader(name, f"{name}: {encoded}\r\n")


def address(name: str | None, email: str) -> str:
    """'Name <email>' with the name quoted or RFC 2047-encoded by the email package."""
    addr = clean_header_value(email)
    if not _ADDRESS.fullmatch(addr) or not addr.isascii():
        raise ValueError(f"not a usable email address: {addr!r}")
    name = clean_header_value(name or "")
    if name.isascii() and _SPECIALS.isdisjoint(name):
        # What formataddr writes for a plain name (most of them), without its two regexes.
        return f"{name} <{addr}>" if name else addr
    return formataddr((name, addr))


def message_id(value: str) -> str:
    """The caller's "<...@domain>", checked: a bad one is a bug, not something to send."""
    cleaned = clean_header_value(value)
    if not _MSG_ID.fullmatch(cleaned):
        raise ValueError(f"not a Message-ID: {cleaned!r}")
    return cleaned


def header_url(url: str) -> str:
    """A URL that stays one token inside <...>: spaces, brackets, non-ASCII %-encoded."""
    cleaned = clean_header_value(url)
    if _URL_UNSAFE.search(cleaned) is None:
        return cleaned
    return _URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), cleaned)


def list_unsubscribe(url: str, mailto: str) -> FoldedHeader:
    """RFC 2369/8058 List-Unsubscribe, one URL per line.

    Folded here because the email package's folder turns a URL longer than a line into
    RFC 2047 encoded-words, which no mail client reads as a URL.
    """
    https, mail = header_url(url), header_url(mailto)  # cheap again on a cleaned URL
    if len(https) > MAX_LINE - 21 or len(mail) > MAX_LINE - 3:
        raise ValueError("unsubscribe URL longer than a header line may be")
    return FoldedHeader("List-Unsubscribe", f"List-Unsubscribe: <{https}>,\r\n <{mail}>\r\n")


def list_id(phrase: str, list_name: str, domain: str) -> FoldedHeader:
    """RFC 2919 List-Id: "Org – list <list.domain>", the <id> never encoded or split."""
    ident = f"{_slug(list_name)}.{clean_header_value(domain).strip('.')}"
    phrase = clean_header_value(phrase)
    if phrase.isascii() and not _SPECIALS & set(phrase):
        shown = phrase
    else:
        # Encoded-words keep commas and the en dash out of the bare phrase syntax.
        shown = Header(phrase, "utf-8", header_name="List-Id").encode(
            linesep="\r\n", maxlinelen=LINE_LENGTH)
    line = f"List-Id: {shown} <{ident}>"
    if len(line.rsplit("\r\n", 1)[-1]) > LINE_LENGTH:
        line = f"List-Id: {shown}\r\n <{ident}>"
    return FoldedHeader("List-Id", line + "\r\n")


def _slug(name: str) -> str:
    """A list name as a dot-atom label: "Media (trusted)" -> "media-trusted"."""
    plain = unicodedata.normalize("NFKD", clean_header_value(name))
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()  # "é" -> "e"
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return slug[:40].strip("-") or "list"
