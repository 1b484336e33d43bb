"""Header lines written by Pressroom itself: RFC 2047 encoded-words and folding between words.

Python 3.11's email package decodes any `=?...?=` it is handed and, when it refolds a long
value, writes the decoded text raw: a headline holding `=0D=0ABcc:` became a Bcc header, and
a long display name was re-parsed into two addresses. So no value reaches the email package
as text to parse: each header line is made here, from words, and the serialised header block
is checked against the names that were written (`check_header_block`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

FOLD_AT = 76  # folded lines stay this short where a break between words allows it
MAX_LINE = 998  # RFC 5322 hard limit for one line, CRLF excluded
MAX_PLAIN_WORD = 900  # a longer word is encoded, so that encoded-words can split it

# RFC 2047 5(3): the characters a "Q" encoded-word may carry as they are in any header,
# phrases included. Everything else is =XX; the space is "_".
_Q_LITERAL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q = [chr(b) if b in _Q_LITERAL else "_" if b == 0x20 else f"={b:02X}" for b in range(256)]
_OPEN, _CLOSE = "=?utf-8?q?", "?="
_ROOM = 75 - len(_OPEN) - len(_CLOSE)  # an encoded-word is at most 75 characters
_NAME = re.compile(rb"([!-9;-~]+):")


class HeaderError(ValueError):
    """A header block that holds something other than the headers written."""


def encoded_words(text: str) -> list[str]:
    """`text` as UTF-8 "Q" encoded-words, never splitting a character between two.

    A word breaks after an (encoded) space where it can: RFC 2047 readers drop the white
    space between two encoded-words, but Python's phrase parser keeps it, so a break
    elsewhere would read as an extra space there and a break after a space as a doubled one.
    """
    words: list[str] = []
    chunk: list[str] = []
    size, space = 0, -1  # characters in chunk; index of its last space, -1: none
    for char in text:
        piece = _Q[ord(char)] if char < "\x80" else "".join(
            [_Q[b] for b in char.encode("utf-8", "replace")])
        if size + len(piece) > _ROOM and chunk:
            cut = space + 1 if space >= 0 else len(chunk)
            if sum(map(len, chunk[cut:])) + len(piece) > _ROOM:
                cut = len(chunk)  # what follows the space would not fit either
            words.append(_OPEN + "".join(chunk[:cut]) + _CLOSE)
            chunk = chunk[cut:]
            size = sum(map(len, chunk))
            space = -1
        if char == " ":
            space = len(chunk)
        chunk.append(piece)
        size += len(piece)
    if chunk:
        words.append(_OPEN + "".join(chunk) + _CLOSE)
    return words


def plain_word(word: str) -> bool:
    """A word that may stand in a header as it is: no decoder reads it as an encoded-word."""
    return word.isascii() and "=?" not in word and len(word) <= MAX_PLAIN_WORD


def text_tokens(value: str) -> list[str]:
    """A clean one-line value as words: plain ones kept, runs of the others encoded.

    Adjacent encoded-words are joined without the space between them when decoded, so the
    spaces inside a run are encoded with it; the spaces around a run stay plain.
    """
    tokens: list[str] = []
    run: list[str] = []
    for word in value.split(" ") if value else ():
        if plain_word(word):
            if run:
                tokens += encoded_words(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += encoded_words(" ".join(run))
    return tokens


def fold(name: str, tokens: Iterable[str]) -> str:
    """'Name: token token' with CRLF, a line broken only between tokens."""
    lines: list[str] = []
    line = f"{name}:"
    for token in tokens:
        if len(line) + 1 + len(token) > FOLD_AT and line != f"{name}:":
            lines.append(line)
            line = " " + token
        else:
            line += " " + token
    if line == f"{name}:":
        line += " "
    lines.append(line)
    if any(len(piece) > MAX_LINE for piece in lines):
        raise HeaderError(f"a {name} header word longer than a header line may be")
    return "\r\n".join(lines) + "\r\n"


def check_header_block(data: bytes, names: Iterable[str],
                       placeholders: Mapping[bytes, str] | None = None,
                       utf8: Iterable[str] = ()) -> None:
    """Refuse a message whose header block is not exactly `names`, in order, each a header
    line and its continuation lines (placeholders: lines that stand for a named header).
    Only the headers named in `utf8` may hold UTF-8 (RFC 6532); the others are ASCII."""
    head = data.split(b"\r\n\r\n", 1)[0]
    if b"\r" in head.replace(b"\r\n", b"") or b"\n" in head.replace(b"\r\n", b""):
        raise HeaderError("the header block holds a stray line break")
    raw = {name.lower() for name in utf8}
    seen: list[str] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and seen and line.strip():
            _check_bytes(line, seen[-1].lower() in raw)
            continue
        if placeholders and line in placeholders:
            seen.append(placeholders[line])
            continue
        match = _NAME.match(line)
        if match is None:
            raise HeaderError(f"the header block holds a line that is no header: {line[:40]!r}")
        seen.append(match.group(1).decode("ascii"))
        _check_bytes(line, seen[-1].lower() in raw)
    if [n.lower() for n in seen] != [n.lower() for n in names]:
        raise HeaderError(f"the header block holds {seen}, not the headers written")


def _check_bytes(line: bytes, utf8: bool) -> None:
    if line.isascii():
        return
    if not utf8:
        raise HeaderError("the header block holds a non-ASCII byte")
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        raise HeaderError("the header block holds bytes that are not UTF-8") from None
