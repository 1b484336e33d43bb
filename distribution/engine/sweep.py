"""The periodic sweep: start what is due, release held rows at the lift, reclaim, finish.

Every step is a conditional UPDATE, so any number of sweeps may run at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from distribution.engine import claims, lifecycle
from distribution.engine.recovery.journal import Journal, journal_for
from distribution.store.db import database_now

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    started: list[int] = field(default_factory=list)
    released: int = 0
    reclaimed: int = 0
    finished: list[int] = field(default_factory=list)
    work: dict[int, int] = field(default_factory=dict)   # distribution id -> due deliveries


def sweep(factory: sessionmaker[Session], settings: Settings,
          journal: Journal | None = None) -> SweepReport:
    report = SweepReport()
    journal = journal or journal_for(settings)
    with factory() as session, session.begin():
        now = database_now(session)
        report.started = lifecycle.activate_due(session, now, settings.lateness_seconds)
        report.released = lifecycle.release_held(session, now, settings.lateness_seconds)
        report.reclaimed, dead = claims.return_stale(session, now,
                                                     settings.claim_timeout_seconds, journal)
        lifecycle.cancel_leftovers(session)
        report.finished = lifecycle.finish_done(session, now)
        report.work = lifecycle.work_available(session, now)
    journal.discard(dead)  # only now: had the commit failed, the next sweep reads them again
    if report.reclaimed:
        log.warning("took back %d claims of batches whose lease lapsed", report.reclaimed)
    return report
