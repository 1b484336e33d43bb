"""Folders and files that hold private data, made 0700 and 0600 whatever the umask.

The data directory, the SQLite database, the outbox and the signing key hold embargoed
text, contacts and the key to everyone's personal links: no other local user reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: str | os.PathLike[str]) -> Path:
    """`path` as a folder, made 0700 when it is made here (parents as the system makes them).

    A folder that exists is left as the office set it up (a shared outbox, say)."""
    folder = Path(path)
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            return folder  # made by another process in between
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is reduced by the umask only
    return folder


def private_file(path: str | os.PathLike[str]) -> None:
    """Make `path` an empty 0600 file if it does not exist; an existing file is left alone."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)


def open_private(path: str | os.PathLike[str]) -> int:
    """A new file, 0600, for writing (O_EXCL: never one that exists); its descriptor."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return descriptor
