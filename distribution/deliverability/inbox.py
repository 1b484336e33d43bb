"""Where bounces come from: files, standard input, an IMAP folder. Each read is capped."""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from distribution.deliverability.mailed_back import MAX_BYTES
from distribution.errors import InvalidInput

Handler = Callable[[str, bytes], None]


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


def read_imap(url: str, handle: Handler) -> None:
    """The folder's unseen messages; each is marked seen once handled (and committed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise InvalidInput("--imap must be imap://user:password@host/FOLDER or imaps://...")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    client_class = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    try:
        client = client_class(parts.hostname, parts.port or (993 if parts.scheme == "imaps"
                                                             else 143))
    except OSError as exc:
        raise InvalidInput(f"cannot reach the IMAP server {parts.hostname}: {exc}") from None
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(f'"{folder}"')
        _, found = client.uid("SEARCH", "UNSEEN")
        for uid in (found[0] or b"").split():
            _, data = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
            handle(f"imap {uid.decode()}", raw[:MAX_BYTES + 1])
            client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
    except imaplib.IMAP4.error as exc:
        raise InvalidInput(f"IMAP: {exc}") from None
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
