"""Where bounces come from: files, standard input, an IMAP folder. Each read is capped."""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from distribution.deliverability.mailed_back import MAX_BYTES
from distribution.errors import InvalidInput

Handler = Callable[[str, bytes], None]

# Seconds an IMAP server may keep us waiting for one answer before the run gives up.
IMAP_TIMEOUT = 60


def read_files(files: tuple[Path, ...], stdin: BinaryIO, handle: Handler) -> list[str]:
    """Hand each message to `handle`; the names of files that could not be read."""
    if not files:
        handle("stdin", _capped(stdin))
        return []
    unreadable = []
    for path in files:
        try:
            with path.open("rb") as stream:
                raw = _capped(stream)
        except OSError as exc:
            unreadable.append(f"{path} ({exc.strerror or exc})")
            continue
        handle(str(path), raw)
    return unreadable


def _capped(stream: BinaryIO) -> bytes:
    # One byte more than the limit: enough to know it is too large, never 50 MB in memory.
    return stream.read(MAX_BYTES + 1)


@dataclass(frozen=True)
class Mailbox:
    """An IMAP folder as `--imap` names it: imap[s]://user:password@host[:port]/FOLDER."""

    host: str
    port: int
    implicit_tls: bool
    user: str
    password: str
    folder: str

    @classmethod
    def parse(cls, url: str) -> Mailbox:
        usage = "--imap must be imap://user:password@host/FOLDER or imaps://..."
        try:
            parts = urlsplit(url)
        except ValueError:  # "Invalid IPv6 URL": a bracket left open
            raise InvalidInput(usage) from None
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise InvalidInput(usage)
        if parts.query or parts.fragment:
            raise InvalidInput(f"{usage}, with ?, # and / in the password written %3F, %23 "
                               "and %2F")
        bad_port = InvalidInput(f"{usage}: the port is not a number from 1 to 65535")
        try:
            port = parts.port
        except ValueError:
            raise bad_port from None
        if port == 0:  # ":0" is not "no port": it would connect to the default one
            raise bad_port
        port = port or (993 if parts.scheme == "imaps" else 143)
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        if not folder.isascii() or not folder.isprintable():
            # Other names travel in IMAP's modified UTF-7, which this reader does not write.
            raise InvalidInput(f"--imap: the folder name must be plain ASCII, not {folder!r}")
        return cls(parts.hostname, port, parts.scheme == "imaps",
                   unquote(parts.username or ""), unquote(parts.password or ""), folder)


def read_imap(url: str, handle: Handler, tls: ssl.SSLContext | None = None) -> tuple[str, int]:
    """Hand each unseen message of the folder to `handle`, then mark it seen: (the folder,
    how many were handled).

    A message is marked seen only once `handle` has returned (its result committed); if it
    raises, that message and the ones after it stay unseen for the next run, which records
    nothing twice. A message is fetched no further than MAX_BYTES + 1, which read_report
    reports as too large. The server's certificate is verified (implicit TLS with imaps://,
    STARTTLS whenever an imap:// server offers it)."""
    box = Mailbox.parse(url)
    client = _connect(box, tls or ssl.create_default_context())
    try:
        _open(client, box)
        with _answers(box):
            typ, found = client.uid("SEARCH", "UNSEEN")
        if typ != "OK":
            raise InvalidInput(f"the IMAP server {box.host} did not list the unseen messages: "
                               f"{_said(found)}")
        handled = 0
        for uid in (found[0] or b"").decode().split():
            with _answers(box):
                raw = _fetch(client, uid)
            if raw is None:  # gone since the search (another reader moved it)
                continue
            handle(f"{box.folder} {uid}", raw)
            with _answers(box):
                typ, data = client.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)")
            if typ != "OK":
                raise InvalidInput(f"the IMAP server {box.host} did not mark message {uid} "
                                   f"seen: {_said(data)}")
            handled += 1
        return box.folder, handled
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _connect(box: Mailbox, tls: ssl.SSLContext) -> imaplib.IMAP4:
    where = f"{box.host}:{box.port}"
    client: imaplib.IMAP4 | None = None
    try:
        if box.implicit_tls:
            return imaplib.IMAP4_SSL(box.host, box.port, ssl_context=tls, timeout=IMAP_TIMEOUT)
        client = imaplib.IMAP4(box.host, box.port, timeout=IMAP_TIMEOUT)
        if "STARTTLS" in client.capabilities:
            client.starttls(ssl_context=tls)
        return client
    except ssl.SSLCertVerificationError as exc:
        reason = f"its certificate is not trusted ({exc.verify_message})"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    except imaplib.IMAP4.error as exc:
        reason = _said(exc.args[0])
    except UnicodeError:  # a host name IDNA cannot encode (a label over 63 characters)
        reason = "the host name is not a valid domain name"
    if client is not None:
        with contextlib.suppress(OSError):
            client.shutdown()
    raise InvalidInput(f"cannot use the IMAP server {where}: {reason}")


def _open(client: imaplib.IMAP4, box: Mailbox) -> None:
    try:
        client.login(box.user, box.password)
    except imaplib.IMAP4.abort as exc:
        raise InvalidInput(f"the IMAP server {box.host} hung up: {_said(exc.args[0])}"
                           ) from None
    except imaplib.IMAP4.error as exc:
        raise InvalidInput(f"the IMAP server {box.host} refused the login of {box.user!r}: "
                           f"{_said(exc.args[0])}") from None
    with _answers(box):
        typ, data = client.select(_quoted(box.folder))
    if typ != "OK":
        raise InvalidInput(f"the IMAP server {box.host} cannot open the folder "
                           f"{box.folder!r}: {_said(data)}")


def _fetch(client: imaplib.IMAP4, uid: str) -> bytes | None:
    # PEEK: reading does not set \Seen; that waits until the message is handled.
    _, data = client.uid("FETCH", uid, f"(BODY.PEEK[]<0.{MAX_BYTES + 1}>)")
    return next((item[1] for item in data if isinstance(item, tuple)), None)


@contextlib.contextmanager
def _answers(box: Mailbox) -> Iterator[None]:
    """A dropped connection or a protocol error during the session: one line."""
    try:
        yield
    except imaplib.IMAP4.error as exc:
        raise InvalidInput(f"the IMAP server {box.host}: {_said(exc.args[0])}") from None
    except OSError as exc:
        raise InvalidInput(f"the IMAP server {box.host} stopped answering: "
                           f"{exc.strerror or exc}") from None


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(data: object) -> str:
    """The server's words (a reply's data, or an error's), as one line of text."""
    items = data if isinstance(data, list) else [data]
    words = [i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i)
             for i in items if i is not None]
    return " ".join(" ".join(words).split())[:300] or "no reason given"
