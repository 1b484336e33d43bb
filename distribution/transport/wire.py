"""Bytes on an SMTP connection: a message's data block, and the server's replies.

smtplib reads a reply a line at a time through a file object and decodes every one; a
pipelined transaction gets four replies per message, mostly "250 Ok", so the reading cost
more than the writing. Here one recv takes in every reply the server has sent so far, and
a reply's text is decoded only when someone reads it (a refusal, or the data's "queued as").
"""

from __future__ import annotations

import smtplib
import socket

from distribution.transport import one_line

MAX_LINE = 8192  # as smtplib: a longer reply line means the peer is not speaking SMTP
MAX_REPLY_LINES = 100  # a reply to MAIL, RCPT or DATA is a line or a few
_RECV = 65536


class Reply:
    """One reply: its code at once, its text when asked for."""

    __slots__ = ("code", "_lines")

    def __init__(self, code: int, lines: list[bytes]) -> None:
        self.code = code
        self._lines = lines

    @property
    def text(self) -> str:
        raw = b"\n".join(line[4:].strip() for line in self._lines)
        return one_line(raw.decode("utf-8", "replace"))


class ReplyReader:
    """The replies arriving on one connection's socket, in order.

    Only for replies to commands this side has sent: whatever it reads ahead is kept for
    the next call, and nothing is left over once every reply has been read.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self._start = 0

    def next(self) -> Reply:
        """The next complete reply; a code of -1 when the line does not start with one.

        Raises smtplib.SMTPServerDisconnected when the connection closes first, and
        OSError (a timeout) when the server says nothing for the socket's timeout.
        """
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(lines) > MAX_REPLY_LINES:
                raise smtplib.SMTPResponseException(500, "reply with too many lines")
            code = line[:3]
            if not code.isdigit():
                return Reply(-1, lines)
            if line[3:4] != b"-":
                return Reply(int(code), lines)

    def _line(self) -> bytes:
        while (end := self._buffer.find(b"\n", self._start)) < 0:
            if len(self._buffer) - self._start > MAX_LINE:
                raise smtplib.SMTPResponseException(500, "reply line too long")
            self._fill()
        if end - self._start >= MAX_LINE:
            raise smtplib.SMTPResponseException(500, "reply line too long")
        line = self._buffer[self._start:end + 1]
        self._start = end + 1
        return line

    def _fill(self) -> None:
        data = self._sock.recv(_RECV)
        if not data:
            raise smtplib.SMTPServerDisconnected("connection closed by the server")
        self._buffer = self._buffer[self._start:] + data
        self._start = 0
