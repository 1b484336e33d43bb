"""A batch's lease on its claims, renewed by a heartbeat of its own.

The heartbeat is a thread, so a batch waiting on a slow server (a reply every ten seconds)
or on a rate limit keeps its rows; a batch that died stops renewing, and the sweep takes
its rows back once the lease lapses: within seconds, not minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from distribution.engine import claims
from distribution.store.db import database_now, first_line

log = logging.getLogger(__name__)


class Lease:
    """Renews `owner`'s claims every third of `seconds` until closed.

    `fresh` turns false when renewals have failed (the database is away) for long enough
    that the sweep may take the rows back: the batch then starts no further group.
    `held` is the ids the last renewal found still claimed by this batch.
    """

    def __init__(self, factory: sessionmaker[Session], distribution_id: int, owner: str,
                 seconds: int, held: set[int],
                 persist: Callable[[], None] = lambda: None) -> None:
        self._factory = factory
        self._distribution_id = distribution_id
        self._owner = owner
        self._seconds = seconds
        self._renewed = self._asked = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.held = held
        self._persist = persist  # the batch journal's fsync, kept off the sending path
        self._failing = False  # renewals failing: said once, and again when they work
        self._thread = threading.Thread(target=self._beat, name=f"lease {owner}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)  # a renewal stuck on a dead database: let it be

    @property
    def fresh(self) -> bool:
        # Two thirds: a renewal may be on its way; the sweep waits the whole lease.
        return time.monotonic() - self._renewed < self._seconds * 2 / 3

    def current(self) -> set[int]:
        """The ids still this batch's, renewed now unless a renewal was recent: after a
        long wait (a rate limit) the sweep may have taken rows that must not go twice."""
        if time.monotonic() - self._asked > self._seconds / 4:
            self._renew()
        self._asked = time.monotonic()
        return self.held

    def _beat(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            self._renew()
            try:
                self._persist()
            except OSError as exc:
                log.warning("batch %s could not sync its journal: %s", self._owner, exc)

    def _renew(self) -> None:
        with self._lock:
            try:
                with self._factory() as session, session.begin():
                    held = claims.renew(session, self._distribution_id, self._owner,
                                        database_now(session))
            except Exception as exc:  # noqa: BLE001 - any failure: try again next beat
                if not self._failing:
                    log.warning("batch %s could not renew its claims: %s; trying again "
                                "every %.0f s", self._owner, first_line(exc),
                                self._seconds / 3)
                self._failing = True
                return
            if self._failing:
                log.info("batch %s renewed its claims again", self._owner)
            self._failing = False
            self._renewed = time.monotonic()
            self.held = held
