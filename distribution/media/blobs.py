"""Where media bytes live, behind one small interface, addressed by their sha256.

The same photo attached to two releases is stored once. A store only adds and reads; a
blob nobody refers to any more is removed by `forget` after the row that named it is gone.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config import Settings
from distribution.errors import PressroomError
from distribution.store.db import dialect_insert
from distribution.store.models import MediaBlob

_SHA256 = re.compile(r"[0-9a-f]{64}")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Keep `data`; its sha256 (hex), which names it from now on."""

    def get(self, sha256: str) -> bytes | None:
        """The bytes named `sha256`, or None if this store has none."""

    def forget(self, sha256: str) -> None:
        """Remove the bytes (the caller has checked that nothing names them)."""


class FolderStore:
    """Files under a private folder (0700), one per hash (0600), written aside then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        sha = digest(data)
        path = self._path(sha)
        if path.exists():
            return sha
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part.")  # mode 0600
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise PressroomError(f"cannot store media in {self.root}: {exc.strerror}") from None
        return sha

    def get(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def forget(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def _path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a sha256 name")
        return self.root / sha256[:2] / sha256


class DatabaseStore:
    """Rows of media_blobs, in the caller's transaction: a failed attach leaves no bytes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, data: bytes) -> str:
        sha = digest(data)
        insert = dialect_insert(self.session, MediaBlob.__table__)  # type: ignore[arg-type]
        self.session.execute(insert.values(sha256=sha, data=data).on_conflict_do_nothing())
        return sha

    def get(self, sha256: str) -> bytes | None:
        return self.session.scalar(select(MediaBlob.data).where(MediaBlob.sha256 == sha256))

    def forget(self, sha256: str) -> None:
        self.session.execute(delete(MediaBlob).where(MediaBlob.sha256 == sha256))


def blob_store(settings: Settings, session: Session) -> BlobStore:
    """The store the settings name (media_store)."""
    if settings.media_store == "database":
        return DatabaseStore(session)
    return FolderStore(Path(settings.media_dir).expanduser())
