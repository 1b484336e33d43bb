"""A message as SMTP's DATA carries it (RFC 5321 4.5.2): CRLF line ends, dot-stuffed, ended.

Here, apart from both, because the stencil fills this block once per message while
rendering, and the transport sends it: rendering must not import a transport.
"""

from __future__ import annotations

import re

_BARE_LINE_END = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def data_block(message: bytes) -> bytes:
    """What follows DATA: CRLF line ends, dot-stuffed lines (RFC 5321 4.5.2), then CRLF.CRLF."""
    # Byte counts and a search first: the regex and the replace cost more than the rest of
    # a transaction, and a rendered message needs neither.
    lines = message.count(b"\n")
    if not lines == message.count(b"\r") == message.count(b"\r\n"):
        message = _BARE_LINE_END.sub(b"\r\n", message)
    message = dot_stuffed(message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message + DATA_END


DATA_END = b".\r\n"  # after the data's last CRLF


def dot_stuffed(lines: bytes) -> bytes:
    """Lines that start a line of the message, with every leading dot doubled."""
    if b"\n." in lines:
        lines = lines.replace(b"\n.", b"\n..")
    return b"." + lines if lines[:1] == b"." else lines


def message_of(block: bytes) -> bytes:
    """The message a data block carries: its end taken off, each leading dot undoubled."""
    lines = block[:-len(DATA_END)] if block.endswith(DATA_END) else block
    if b"\n.." in lines:
        lines = lines.replace(b"\n..", b"\n.")
    return lines[1:] if lines[:2] == b".." else lines
