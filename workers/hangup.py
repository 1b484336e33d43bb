"""An idle pool process holds no database connection, a busy one keeps its own.

With several workers of several processes each, idle ones would use up PostgreSQL's
max_connections and lock the operator's own `pressroom status` out. Hanging up after every
task cost a new connection (and its authentication) per batch, on the sending path; so the
connection is dropped once the process has had no task for IDLE_SECONDS: the next batch of
a running chain arrives within milliseconds and finds it open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

IDLE_SECONDS = 0.5


class IdleHangUp:
    """Calls `hang_up` once no task has run for IDLE_SECONDS; never while one runs."""

    def __init__(self, hang_up: Callable[[], None], idle_seconds: float = IDLE_SECONDS) -> None:
        self._hang_up = hang_up
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._busy = False
        self._timer: threading.Timer | None = None

    def task_started(self) -> None:
        with self._lock:
            self._busy = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def task_ended(self) -> None:
        with self._lock:
            self._busy = False
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._idle_seconds, self._when_idle)
            self._timer.daemon = True
            self._timer.start()

    def _when_idle(self) -> None:
        # Under the lock: a task starting now waits the few microseconds this takes.
        with self._lock:
            if not self._busy:
                self._timer = None
                self._hang_up()
