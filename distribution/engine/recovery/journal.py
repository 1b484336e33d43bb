"""The batch journal: every acceptance by the SMTP server, kept the moment its reply arrives.

A batch writes its results to the database a group at a time. Between a reply and the
group's commit the only record that a message left is here, so whoever takes a batch's
rows back (the batch itself after Ctrl-C or a database error, the sweep after a crash)
marks the journaled ones sent instead of sending them again: only a message in flight on
a connection at the instant of the crash can go twice.

Two stores, one shape (a journal per batch, named by its claim token):
- a file per batch in the data directory (the embedded default): one write() per
  acceptance, which outlives the process however it dies; the lease's heartbeat fdatasyncs
  it every few seconds (4 ms here: per group, 45 µs a message, more than the sending). Its
  room is set aside when the batch starts, so that a disk filling up mid-batch (the
  database refusing to record) still takes every acceptance;
- a Redis string per batch (with Celery, whose workers may run on many hosts): one APPEND
  per acceptance, its bytes made here and written to the socket at once (redis-py's
  command packing cost more than the rest). The connection asks for no replies (CLIENT
  REPLY OFF): writing and parsing one per acceptance cost Redis and the batch more than
  the APPEND itself; at the group's end one PING-like round trip (CLIENT REPLY ON) proves
  that Redis has taken every APPEND before it, since it answers in order. The socket is
  corked (TCP_CORK, where there is one) between those round trips: each write() still
  hands its APPEND to the kernel at once, which sends it even if the process is killed
  the next instant, but the kernel sends the group's APPENDs in a few packets instead of
  one each; a packet cost Redis 19 µs, more than the rest of the journal.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from config import Settings
from config.private import private_folder

log = logging.getLogger(__name__)

# A journal of a batch that died is read by the sweep long before this; kept no longer.
KEEP_SECONDS = 7 * 24 * 3600
# Room set aside per claimed row: a line is some 100 bytes, more with a long domain.
RESERVE_PER_ROW = 512
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Entry:
    """A message the server accepted: what the row records when it is marked sent."""

    delivery_id: int
    message_id: str
    marked: bool
    at: float  # seconds since the epoch
    text_id: int | None = None  # the text it carried (a language version, a correction)


class Writer(Protocol):
    def accepted(self, entry: Entry) -> None:
        """Keep one acceptance; called from the thread that read the reply."""

    def sync(self) -> None:
        """Before the group's results are committed: what was kept outlives this process."""

    def persist(self) -> None:
        """Off the sending path (the lease's heartbeat): what was kept outlives a power cut."""

    def close(self) -> None: ...


class Journal(Protocol):
    def writer(self, owner: str, rows: int = 0) -> Writer:
        """The journal of batch `owner`, which claimed `rows` rows."""

    def read(self, owners: Iterable[str]) -> dict[int, Entry]:
        """Everything journaled by these batches, by delivery id."""

    def discard(self, owners: Iterable[str]) -> None:
        """Forget these batches: their rows are recorded in the database."""


def line_of(entry: Entry) -> bytes:
    # The Message-ID last: a line cut short by a crash loses it, never a number before it.
    return b"%d %d %d %d %s\n" % (entry.delivery_id, entry.marked, entry.at,
                                  entry.text_id or 0, entry.message_id.encode())


def parse_line(line: bytes) -> Entry | None:
    parts = line.split(b" ")
    if len(parts) not in (4, 5) or not parts[-1]:
        return None  # a line cut short by a crash mid-write: its message was not accepted
    try:
        # Four fields: a line written before entries named their text.
        text_id = int(parts[3]) or None if len(parts) == 5 else None
        return Entry(int(parts[0]), parts[-1].decode(), parts[1] == b"1", float(parts[2]),
                     text_id)
    except ValueError:
        return None


class FileWriter:
    """Lines written in place, one after the other, into room reserved up front (zeros,
    which the reader takes for the end)."""

    def __init__(self, path: Path, rows: int) -> None:
        self._path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        self._lock = threading.Lock()  # whole lines in order, whichever thread writes
        self._end = self._room = 0
        self._broken = False
        try:
            self._reserve(max(1, rows) * RESERVE_PER_ROW)
        except OSError:
            os.close(self._fd)
            raise

    def _reserve(self, size: int) -> None:
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(self._fd, self._room, size)
        else:  # no fallocate (macOS): zeros written take their blocks as well
            os.pwrite(self._fd, bytes(size), self._room)
        self._room += size

    def accepted(self, entry: Entry) -> None:
        line = line_of(entry)
        with self._lock:
            if self._broken:
                return
            try:
                if self._end + len(line) > self._room:
                    self._reserve(max(len(line), self._room))  # lines longer than foreseen
                os.pwrite(self._fd, line, self._end)
            except OSError as exc:
                # Never into the SMTP transport's thread (it would take it for a lost
                # connection): the batch goes on, its results recorded as usual.
                log.warning("the batch journal %s cannot be written (%s): until this batch "
                            "ends, a crash may send its unrecorded messages twice",
                            self._path, exc.strerror or exc)
                self._broken = True
                return
            self._end += len(line)

    def sync(self) -> None:
        pass  # write() reached the kernel: it outlives the process, whatever kills it

    def persist(self) -> None:
        os.fdatasync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


class FileJournal:
    """A file per batch under `folder` (0700), its lines 0600."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _path(self, owner: str) -> Path:
        return self.folder / (_UNSAFE.sub("_", owner) + ".journal")

    def writer(self, owner: str, rows: int = 0) -> FileWriter:
        private_folder(self.folder)
        return FileWriter(self._path(owner), rows)

    def read(self, owners: Iterable[str]) -> dict[int, Entry]:
        found: dict[int, Entry] = {}
        for owner in owners:
            try:
                data = self._path(owner).read_bytes()
            except FileNotFoundError:
                continue
            written = data.split(b"\0", 1)[0]  # the room reserved and not used is zeros
            for line in written.split(b"\n"):
                if (entry := parse_line(line)) is not None:
                    found[entry.delivery_id] = entry
        return found

    def discard(self, owners: Iterable[str]) -> None:
        for owner in owners:
            self._path(owner).unlink(missing_ok=True)
        self._forget_old()

    def _forget_old(self) -> None:
        """Journals of batches whose rows no one took back (a database restored, say)."""
        limit = time.time() - KEEP_SECONDS
        try:
            old = [p for p in self.folder.glob("*.journal") if p.stat().st_mtime < limit]
        except OSError:
            return
        for path in old:
            path.unlink(missing_ok=True)


class NoJournal:
    """For tests and tools that record every result themselves."""

    def writer(self, owner: str, rows: int = 0) -> _NoWriter:
        return _NoWriter()

    def read(self, owners: Iterable[str]) -> dict[int, Entry]:
        return {}

    def discard(self, owners: Iterable[str]) -> None:
        pass


class _NoWriter:
    def accepted(self, entry: Entry) -> None:
        pass

    def sync(self) -> None:
        pass

    def persist(self) -> None:
        pass

    def close(self) -> None:
        pass


def journal_for(settings: Settings) -> Journal:
    """Redis when there is a broker (workers on many hosts), else the data directory."""
    if settings.broker_url:
        # Imported here: `send`, which reaches this module, needs no Redis client.
        from distribution.engine.recovery.redisjournal import redis_journal

        return redis_journal(settings.broker_url)
    return FileJournal(settings.journal_dir)
