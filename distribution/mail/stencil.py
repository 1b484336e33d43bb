"""A serialised message with holes: built once, filled per recipient by joining bytes.

Body encoding is quoted-printable. QP encodes each line on its own, so a line that holds a
per-recipient value is encoded per recipient and every other line once, and the result is
byte for byte what the email package (email.quoprimime.body_encode) writes for the whole
body. QP is 7-bit: any relay takes it, 8BITMIME or not. And QP output never contains "==",
so the MIME boundary the generator chose ("===============...==") cannot occur in any
recipient's body, whatever their values.

The same stencil also fills the message as SMTP sends it (RFC 5321 4.5.2: a dot doubled at
the start of a line, CRLF.CRLF after): the literal parts are stuffed once, when the stencil
is cut, and only the recipient's short pieces per message, where a transport would scan
and copy the whole message for every recipient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email import quoprimime
from typing import cast

from markupsafe import escape

from distribution.mail.headers import LINE_LENGTH
from distribution.smtpdata import DATA_END, dot_stuffed

CRLF = b"\r\n"
_MAX = LINE_LENGTH
_HTML_SPECIAL = frozenset("&<>'\"")  # what markupsafe.escape replaces
# quoprimime's body alphabet as a table, so text is escaped apart from line breaking: the
# literal parts of a line once, the recipient's values per message.
_ESCAPES = [quoprimime.quote(chr(c)) if quoprimime.body_check(c) else chr(c) for c in range(256)]


def qp_escape(text: str) -> str:
    if text.isascii() and text.isprintable() and "=" not in text:
        return text  # the usual URL: nothing to escape
    return text.encode("utf-8").decode("latin-1").translate(_ESCAPES)


def qp_wrap(line: str) -> bytes:
    """Soft line breaks for one escaped line, exactly as quoprimime.body_encode places them."""
    if len(line) <= _MAX and line[-1:] not in (" ", "\t"):
        return line.encode("ascii") + CRLF  # short enough, nothing at the end to escape
    chunks = []
    start, last_start = 0, len(line) - 1 - _MAX
    while start <= last_start:
        stop = start + _MAX - 1
        if line[stop - 2] == "=":  # never split an "=XX" escape
            chunks.append(line[start:stop - 1])
            start = stop - 2
        elif line[stop - 1] == "=":
            chunks.append(line[start:stop])
            start = stop - 1
        else:
            chunks.append(line[start:stop] + "=")
            start = stop
    if line and line[-1] in " \t":  # whitespace at a line end must be escaped
        room = start - last_start
        if room >= 3:
            tail = quoprimime.quote(line[-1])
        elif room == 2:
            tail = line[-1] + "=\r\n"
        else:
            tail = "=\r\n" + quoprimime.quote(line[-1])
        chunks.append(line[start:-1] + tail)
    else:
        chunks.append(line[start:])
    return "\r\n".join(chunks).encode("ascii") + CRLF


def qp_line(line: str) -> bytes:
    """One body line (no line end) QP-encoded, CRLF-terminated."""
    return qp_wrap(qp_escape(line))


@dataclass(frozen=True)
class ValueLine:
    """A body line that holds per-recipient values."""

    pattern: str  # the QP-escaped literal text, "%s" where a value goes
    names: tuple[str, ...]  # the values, in order
    html: bool  # takes the values HTML-escaped

    def encode(self, values: Mapping[str, str]) -> bytes:
        return qp_wrap(self.pattern % tuple([values[name] for name in self.names]))


Segment = bytes | str | ValueLine  # str: the name of a per-recipient header line


@dataclass(frozen=True)
class Stencil:
    segments: tuple[Segment, ...]
    wire: tuple[Segment, ...]  # the same, each literal dot-stuffed (as SMTP sends it)

    def fill(self, headers: Mapping[str, bytes], values: Mapping[str, str]) -> bytes:
        """The message."""
        return b"".join(_filled(self.segments, headers, values, stuff=False))

    def fill_for_smtp(self, headers: Mapping[str, bytes], values: Mapping[str, str]) -> bytes:
        """The message as an SMTP data block: what the transport sends, made directly."""
        parts = _filled(self.wire, headers, values, stuff=True)
        parts.append(DATA_END)
        return b"".join(parts)


def _filled(segments: tuple[Segment, ...], headers: Mapping[str, bytes],
            values: Mapping[str, str], *, stuff: bool) -> list[bytes]:
    text, html = _escaped(values)
    parts: list[bytes] = []
    for segment in segments:
        if type(segment) is bytes:
            parts.append(segment)
        elif type(segment) is str:
            # A header line starts with its name, and folds onto lines that start with
            # white space (RFC 5322 2.2.3): no line of it starts with a dot.
            parts.append(headers[segment])
        else:
            value_line = cast(ValueLine, segment)  # `type() is` for speed: mypy sees str
            line = value_line.encode(html if value_line.html else text)
            parts.append(dot_stuffed(line) if stuff else line)
    return parts


def _escaped(values: Mapping[str, str]) -> tuple[Mapping[str, str], Mapping[str, str]]:
    """The recipient's values for text lines and for HTML lines, QP-escaped."""
    text = {name: qp_escape(value) for name, value in values.items()}
    # Escaped as Jinja's autoescape does, once per recipient, not per line; the usual
    # URL has nothing to escape.
    if _HTML_SPECIAL.isdisjoint("".join(values.values())):
        return text, text
    return text, {name: qp_escape(str(escape(value))) for name, value in values.items()}


def cut(blob: bytes, header_slots: Mapping[str, str], bodies: Mapping[str, tuple[str, bool]],
        value_tokens: Mapping[str, str]) -> Stencil:
    """Turn a message serialised with placeholder lines into a stencil.

    header_slots: token -> header name, each token alone on the line its header took;
    bodies: token -> (body text, is_html), each token the whole payload of its part;
    value_tokens: token -> value name, as written inside those bodies.
    """
    names = {**header_slots, **bodies}
    pattern = re.compile(b"(" + b"|".join(re.escape(t.encode()) for t in names) + b")\r\n")
    pieces = pattern.split(blob)
    if sorted(pieces[1::2]) != sorted(t.encode() for t in names):
        raise RuntimeError("a placeholder went missing or was repeated in the message")
    segments: list[Segment] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            segments.append(piece)
        elif (token := piece.decode()) in header_slots:
            segments.append(header_slots[token])
        else:
            text, html = bodies[token]
            segments.extend(_body_segments(text, html, value_tokens))
    merged = _merged(segments)
    return Stencil(merged, _stuffed_literals(merged))


def _body_segments(text: str, html: bool, value_tokens: Mapping[str, str]) -> list[Segment]:
    # Lines split as the email package splits them (bytes.splitlines), so they match.
    finder = re.compile("(" + "|".join(re.escape(t) for t in value_tokens) + ")")
    segments: list[Segment] = []
    for raw in text.encode("utf-8").splitlines() or [b""]:
        parts = finder.split(raw.decode("utf-8"))
        if len(parts) == 1:
            segments.append(qp_line(parts[0]))
        else:
            pattern = "%s".join(qp_escape(literal).replace("%", "%%") for literal in parts[0::2])
            names = tuple(value_tokens[token] for token in parts[1::2])
            segments.append(ValueLine(pattern, names, html))
    return segments


def _merged(segments: list[Segment]) -> tuple[Segment, ...]:
    """Adjacent literal segments as one; joined once per run, so a long release (thousands
    of lines) costs linear time, not a copy of the run per line."""
    merged: list[Segment] = []
    run: list[bytes] = []
    for segment in segments:
        if type(segment) is bytes:
            run.append(segment)
            continue
        if run:
            merged.append(b"".join(run))
            run = []
        merged.append(segment)
    if run:
        merged.append(b"".join(run))
    return tuple(s for s in merged if s != b"")


def _stuffed_literals(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """The literal segments dot-stuffed, once. Each segment starts a line (placeholders
    stand alone on theirs, body lines end in CRLF), so stuffing them one by one is
    stuffing the message; the checks below hold the message to that."""
    literals = [segment for segment in segments if type(segment) is bytes]
    blob = b"".join(literals)
    if not blob.count(b"\n") == blob.count(b"\r") == blob.count(b"\r\n"):
        raise RuntimeError("the serialised message has a line end other than CRLF")
    if any(not s.endswith(CRLF) for s in literals):
        raise RuntimeError("a part of the serialised message does not end a line")
    return tuple(dot_stuffed(s) if type(s) is bytes else s for s in segments)
