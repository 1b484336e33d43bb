"""The batch journal kept in Redis (with Celery, whose workers may run on many hosts): a
string per batch, one APPEND per acceptance. See journal.py for why and how."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, cast

import redis

from distribution.engine.recovery.journal import KEEP_SECONDS, Entry, line_of, parse_line

log = logging.getLogger(__name__)


_REPLIES_OFF = b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n"
_REPLIES_ON = b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n"
_REPLIES_ON_THEN_OFF = _REPLIES_ON + _REPLIES_OFF


class RedisWriter:
    """APPENDs written to the socket as the replies arrive; one answer read per group (an
    APPEND Redis refused, out of memory, goes unseen: the broker would be refusing too).

    Redis going away mid-batch does not stop the sending (the broker is down too, and the
    batch still records its results and gives back what it accepted); it only takes the
    crash-proofing away, says so, and the lease's heartbeat connects again (persist).
    """

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._client = client
        self._key = key
        self._lock = threading.Lock()
        # redis-py's connection classes are typed loosely (send_command, the socket): Any.
        self._connection: Any = None
        self._closed = False
        self._reconnecting = threading.Event()
        self._written = False  # APPENDs sent since Redis last answered
        name = key.encode()
        self._append = b"*3\r\n$6\r\nAPPEND\r\n$%d\r\n%s\r\n" % (len(name), name)
        # Sent after the first APPEND: a key that does not exist yet takes no expiry.
        expire = b"%d" % KEEP_SECONDS
        self._expire = b"*3\r\n$6\r\nEXPIRE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(name), name, len(expire), expire)
        self._expire_due = True
        with self._lock:
            self._guarded(lambda: self._use(self._connect()))

    @property
    def journaling(self) -> bool:
        """Whether acceptances reach Redis now (false after it went away, until the
        heartbeat connected again)."""
        return self._connection is not None

    def _connect(self) -> Any:
        connection: Any = self._client.connection_pool.get_connection()
        try:
            connection._sock.sendall(_REPLIES_OFF)
            # Nothing left to read while corked: closing a socket with unread bytes resets
            # the connection, and the kernel drops what it still held to send.
            _cork(connection._sock, True)
        except OSError:
            self._hang_up(connection)
            raise
        return connection

    def _use(self, connection: Any) -> None:
        self._connection = connection
        self._expire_due = True  # the key may be gone with a Redis restarted

    def _hang_up(self, connection: Any) -> None:
        connection.disconnect()
        self._client.connection_pool.release(connection)

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        # OSError: the socket written directly (a Redis restarted: the pipe is broken). It
        # must not reach the SMTP transport, whose thread calls accepted(): it would take
        # it for its own connection lost, and hand back messages the server accepted.
        except (redis.RedisError, OSError) as exc:
            log.warning("the batch journal in Redis is unavailable (%s): until this batch "
                        "ends, a crash may send its unrecorded messages twice", exc)
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._hang_up(self._connection)
        self._connection = None
        self._written = False

    def accepted(self, entry: Entry) -> None:
        line = line_of(entry)
        command = b"%s$%d\r\n%s\r\n" % (self._append, len(line), line)
        with self._lock:
            if self._expire_due:
                command, self._expire_due = command + self._expire, False
            if (connection := self._connection) is not None:
                self._guarded(lambda: connection._sock.sendall(command))
                self._written = True

    def sync(self) -> None:
        with self._lock:
            self._guarded(self._read_replies)

    def _read_replies(self, *, closing: bool = False) -> None:
        if self._connection is None:
            return
        sock = self._connection._sock
        asked = self._written or closing  # +OK to REPLY ON follows every APPEND before it
        if asked:
            # Back in the pool, the connection must answer again.
            sock.sendall(_REPLIES_ON if closing else _REPLIES_ON_THEN_OFF)
            self._written = False
        _cork(sock, False)  # out now: the answer is awaited
        if asked:
            self._connection.read_response()
        if not closing:
            _cork(sock, True)

    def persist(self) -> None:
        """What outlives a power cut is for Redis's own settings to decide. Called by the
        lease's heartbeat: a journal that lost Redis (a restart, a stall past the socket
        timeout) connects again, and the rest of the batch is journaled. In a thread of its
        own: connecting to a stalled Redis waits out the socket timeout, which must delay
        neither the lease's renewal nor the SMTP threads (they wait on the lock)."""
        if self._connection is not None or self._closed or self._reconnecting.is_set():
            return
        self._reconnecting.set()
        threading.Thread(target=self._reconnect, name=f"journal {self._key}",
                         daemon=True).start()

    def _reconnect(self) -> None:
        try:
            connection = self._connect()
        except (redis.RedisError, OSError):
            return  # said when it went away; the next heartbeat tries again
        finally:
            self._reconnecting.clear()
        if self._install(connection):
            log.info("the batch journal in Redis is written again")
        else:
            self._hang_up(connection)

    def _install(self, connection: Any) -> bool:
        with self._lock:  # the batch may have ended, or connected, meanwhile
            if self._connection is not None or self._closed:
                return False
            self._use(connection)
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._guarded(lambda: self._read_replies(closing=True))
            if self._connection is not None:
                self._client.connection_pool.release(self._connection)
                self._connection = None


def _cork(sock: Any, on: bool) -> None:
    # Uncorking sends what is held at once. Without TCP_CORK (not Linux, or Redis on a
    # Unix socket) every write goes alone, as it did before.
    if hasattr(socket, "TCP_CORK") and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, int(on))


class RedisJournal:
    PREFIX = "pressroom:journal:"

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def writer(self, owner: str, rows: int = 0) -> RedisWriter:
        return RedisWriter(self._client, self.PREFIX + owner)

    def read(self, owners: Iterable[str]) -> dict[int, Entry]:
        found: dict[int, Entry] = {}
        for owner in owners:
            stored = cast(bytes, self._client.get(self.PREFIX + owner) or b"")
            for line in stored.split(b"\n"):
                if (entry := parse_line(line)) is not None:
                    found[entry.delivery_id] = entry
        return found

    def discard(self, owners: Iterable[str]) -> None:
        keys = [self.PREFIX + owner for owner in owners]
        try:
            if keys:
                self._client.delete(*keys)
        except redis.RedisError as exc:  # they expire by themselves
            log.warning("could not delete batch journals from Redis: %s", exc)


def unsafe_store(client: redis.Redis) -> str | None:
    """Why batch journals in this Redis would not outlive its restart, or None if they
    would (append-only file on). A journal is read only after a batch died; lost with a
    Redis restarted before the batch's lease lapsed, the rows it had sent go out again."""
    persistence = client.info("persistence")
    if persistence.get("aof_enabled"):
        return None
    try:
        save = str(cast(dict[str, Any], client.config_get("save")).get("save", ""))
    except redis.ResponseError:  # CONFIG refused (a managed Redis): snapshots unknown
        return "appendonly is off"
    if save:
        return (f"appendonly is off, only snapshots are kept (save {save}): a crash loses "
                "what came after the last one")
    return "it persists nothing (appendonly no, no snapshots)"


def redis_journal(url: str) -> RedisJournal:
    return RedisJournal(_redis(url))


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)
