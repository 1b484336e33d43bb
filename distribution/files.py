"""Writing a file whole or not at all: written aside, then renamed into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, data: bytes, *, replace: bool = True, durable: bool = False,
                  prefix: str | None = None) -> bool:
    """Write `data` to `path`, readable by its owner only (0600); False if `replace` is
    off and the file already exists (then it is left as it was).

    The bytes go to a temporary file beside `path` (hidden, and named to be skipped by
    folder watchers), which is then renamed over `path`, or linked to it when it must not
    be replaced: a reader, or a second writer, sees the old file or the new one whole.
    `durable` syncs the data to disk before the rename (an outbox message marked sent).
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.",
                                     suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)
