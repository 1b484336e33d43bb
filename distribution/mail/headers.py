"""Header values for outgoing mail: cleaned of control characters, encoded and folded here.

Every value that reaches a header passes through `clean_header_value` first, so a CR, LF or
any other control character in a headline, a name or a URL can never start a new header;
then it is written as words by `distribution.mail.folding`, never parsed by the email package.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.policy import SMTP, EmailPolicy
from urllib.parse import quote

from distribution.mail.folding import (
    MAX_PLAIN_WORD,
    encoded_words,
    fold,
    text_tokens,
)

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
            *range(0x2066, 0x206A), *range(0xD800, 0xE000)]  # ...and lone surrogates
_CLEAN = {code: None for code in _DROPPED} | {ord(c): " " for c in _BREAKS}
# Characters that make a display phrase need quoting or encoding (RFC 5322 specials).
_SPECIALS = frozenset('()<>@,:;.\\"[]')
_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+")
_MSG_ID = re.compile(r"<[^\s<>@]+@[^\s<>@]+>")
# Anything but printable ASCII without < > " (which would end the <...> around a URL).
_MAILBOX = re.compile(r'(?:(?P<name>[^<>]*?)\s*<(?P<addr>[^<>\s]+)>|(?P<bare>[^<>\s"]+))')
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
    """A checked token-like value (Date, Message-ID) as a header line."""
    if value.isascii() and value.isprintable() and len(name) + 2 + len(value) <= _FOLD_AT:
        return f"{name}: {value}\r\n"
    return text(name, value).line


def text(name: str, value: str) -> FoldedHeader:
    """A text header (Subject): words that are not plain ASCII become encoded-words.

    Written here, never handed to the email package as text: it would decode an
    encoded-word it finds in the value and write the result raw when it refolds.
    """
    value = clean_header_value(value)
    if (value.isascii() and "=?" not in value
            and len(name) + 2 + len(value) <= _FOLD_AT):
        return FoldedHeader(name, f"{name}: {value}\r\n")
    return FoldedHeader(name, fold(name, text_tokens(value)))



def checked_address(email: str, *, utf8: bool = False) -> str:
    """One address, fit for a header. With `utf8`, its local part may hold non-ASCII
    letters, written raw (RFC 6532: an encoded-word cannot stand for a local part); the
    domain stays ASCII (IDNA), and nothing in it may be cleaned away, since the envelope
    carries the address as given."""
    addr = clean_header_value(email)
    if not _ADDRESS.fullmatch(addr):
        raise ValueError(f"not a usable email address: {addr!r}")
    if not addr.isascii() and not (utf8 and addr == email and addr.isprintable()
                                   and addr.rpartition("@")[2].isascii()):
        raise ValueError(f"not a usable email address: {addr!r}")
    return addr


def mailbox(name: str, display: str | None, email: str, *, utf8: bool = False) -> FoldedHeader:
    """An address header (From, To, Reply-To) holding exactly one mailbox."""
    return FoldedHeader(name, mailbox_line(name, display, email, utf8=utf8))


def mailbox_line(name: str, display: str | None, email: str, *, utf8: bool = False) -> str:
    """The line of `mailbox`, for the per-recipient path.

    The display name is plain atoms, one quoted string, or encoded-words: never text
    the email package would parse, so no name can add an address to the header. With
    `utf8` (the recipient's own To), the address may be non-ASCII (`checked_address`).
    """
    addr = checked_address(email, utf8=utf8)
    phrase = clean_header_value(display) if display else ""
    if not phrase:
        return f"{name}: {addr}\r\n"
    if (phrase.isascii() and _SPECIALS.isdisjoint(phrase) and "=?" not in phrase
            and len(name) + len(phrase) + len(addr) + 5 <= _FOLD_AT):
        return f"{name}: {phrase} <{addr}>\r\n"  # the usual name: atoms on one line
    return fold(name, [*_phrase_tokens(phrase), f"<{addr}>"])


def _phrase_tokens(phrase: str) -> list[str]:
    if not phrase:
        return []
    if phrase.isascii() and "=?" not in phrase and len(phrase) <= MAX_PLAIN_WORD:
        if _SPECIALS.isdisjoint(phrase):
            return phrase.split(" ")  # atoms
        return ['"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return encoded_words(phrase)


def parse_mailbox(value: str) -> tuple[str, str]:
    """'Name <address>', '"Name" <address>' or a bare address, as (name, address).

    For settings and media contacts: a control character or a second address is refused,
    not cleaned, because it is a mistake the office should see.
    """
    if not value.isprintable():
        raise ValueError("holds a line break or control character")
    match = _MAILBOX.fullmatch(value.strip())
    if match is None:
        raise ValueError("must be 'Name <address>' with one address")
    name, addr = match.group("name") or "", match.group("addr") or match.group("bare")
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return name.strip(), checked_address(addr)


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
    if phrase.isascii() and _SPECIALS.isdisjoint(phrase) and "=?" not in phrase:
        words = phrase.split(" ") if phrase else []
    else:
        # Encoded-words keep commas and the en dash out of the bare phrase syntax.
        words = encoded_words(phrase)
    line = fold("List-Id", [*words, f"<{ident}>"])[:-2]
    return FoldedHeader("List-Id", line + "\r\n")


def _slug(name: str) -> str:
    """A list name as a dot-atom label: "Media (trusted)" -> "media-trusted"."""
    plain = unicodedata.normalize("NFKD", clean_header_value(name))
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()  # "é" -> "e"
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return slug[:40].strip("-") or "list"
