"""Writing a live batch's results through a database outage.

A batch that has sent messages knows their outcomes; while the database cannot be reached
(a restart, a failover) it keeps them and writes them again every few seconds, its lease's
heartbeat going on meanwhile, rather than give the rows up to the sweep and its journal. A
database coming back grants every lease a full term from its start (claims.return_stale),
so the batch records what it sent before anyone may take its rows: a restart of the
database sends nothing twice, and the journal matters only when the process itself dies.
A write the database refuses (a full disk, a constraint) raises at once: waiting would
not mend it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from distribution.store.db import database_unreachable, first_line

log = logging.getLogger(__name__)

# Long enough for a restart or a failover; past it the batch gives up, and its journal
# stands in for it.
PATIENCE_SECONDS = 600
FIRST_PAUSE_SECONDS = 0.5

T = TypeVar("T")


def write_through(factory: sessionmaker[Session], step: Callable[[Session], T], *,
                  longest_pause: float, who: str) -> T:
    """Run `step` in a transaction of its own, again and again while the database cannot be
    reached, pausing up to `longest_pause` seconds in between; `who` names the batch in
    the two lines logged (the database away, then back)."""
    waiting_since: float | None = None
    pause = FIRST_PAUSE_SECONDS
    while True:
        try:
            with factory() as session, session.begin():
                result = step(session)
        except DBAPIError as exc:
            if not database_unreachable(exc):
                raise
            if waiting_since is None:
                waiting_since = time.monotonic()
                log.warning("%s: the database cannot be reached (%s); keeping what was sent "
                            "until it is back", who, first_line(exc))
            elif time.monotonic() - waiting_since > PATIENCE_SECONDS:
                raise
            time.sleep(pause)
            pause = min(pause * 2, longest_pause)
            continue
        if waiting_since is not None:
            log.warning("%s: the database is back; recorded after %.0f s", who,
                        time.monotonic() - waiting_since)
        return result
