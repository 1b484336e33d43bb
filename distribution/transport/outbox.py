"""The outbox transport: each message becomes an .eml file that any mail client opens.

Used when no SMTP URL is configured. Files appear atomically (written under a hidden
temporary name, then renamed), so a reader never sees half a message, and their names sort
by the time they were written.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from config.private import open_private, private_folder
from distribution.transport import Envelope, Outcome, OutcomeKind, TransportError, one_line

# Shared by every OutboxTransport of the process; the pid in the name separates processes.
_sequence = itertools.count(1)
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9@._+-]+")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxTransport:
    def __init__(
        self, folder: str | os.PathLike[str], clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.folder = Path(folder)
        self._clock = clock

    def __enter__(self) -> OutboxTransport:
        try:
            private_folder(self.folder)
        except OSError as exc:
            raise TransportError(f"cannot create outbox folder {self.folder}: {exc}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def send(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        outcomes = [self._write(envelope) for envelope in envelopes]
        if envelopes:
            _sync_folder(self.folder)
        return outcomes

    def _write(self, envelope: Envelope) -> Outcome:
        path = self.folder / eml_name(envelope.recipient, self._clock())
        try:
            _write_atomically(path, envelope.message)
        except OSError as exc:
            return Outcome(OutcomeKind.TEMPORARY, None, one_line(f"cannot write {path}: {exc}"))
        return Outcome(OutcomeKind.SENT, None, str(path))


def check_outbox(folder: str | os.PathLike[str]) -> None:
    """Raise TransportError unless messages could be written into `folder`, which is made
    on the first send: the folder, or the nearest folder above it that exists, writable."""
    path = Path(folder).absolute()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise TransportError(f"cannot write into outbox folder {path}")


def eml_name(recipient: str, when: datetime) -> str:
    """`20250416T070001Z-000123-4711-jane@example.org.eml`: time, sequence, pid, recipient."""
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = _UNSAFE_CHARS.sub("_", recipient)[:64] or "_"
    return f"{stamp}-{next(_sequence):06d}-{os.getpid()}-{safe}.eml"


def _write_atomically(path: Path, data: bytes) -> None:
    # Hidden and not ending in .eml, so folder watchers and mail clients skip it.
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with os.fdopen(open_private(temporary), "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # a message marked sent must survive a crash
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sync_folder(folder: Path) -> None:
    """Make the batch's renames durable; best effort where folders cannot be fsynced."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
