"""The periodic sweep: start what is due, release held rows at the lift, reclaim, finish.

Every step is a conditional UPDATE, so any number of sweeps may run at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from distribution.accountability import approval, record, system_actor
from distribution.engine import claims, lifecycle
from distribution.engine.recovery.journal import Journal, journal_for
from distribution.store.db import database_now
from distribution.store.models import Distribution

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    started: list[int] = field(default_factory=list)
    held_for_approval: list[int] = field(default_factory=list)
    released: int = 0
    reclaimed: int = 0
    finished: list[int] = field(default_factory=list)
    work: dict[int, int] = field(default_factory=dict)   # distribution id -> due deliveries


def sweep(factory: sessionmaker[Session], settings: Settings,
          journal: Journal | None = None, *, work_cap: int | None = None) -> SweepReport:
    """One sweep; `work_cap`: due deliveries are counted up to it (the caller's use for
    more is none)."""
    report = SweepReport()
    journal = journal or journal_for(settings)
    with factory() as session, session.begin():
        now = database_now(session)
        if settings.require_approval:  # where a scheduled send would become sending
            report.held_for_approval = _hold_unapproved(session, now)
        report.started = lifecycle.activate_due(session, now, settings.lateness_seconds)
        report.released = lifecycle.release_held(session, now, settings.lateness_seconds)
        report.reclaimed, dead = claims.return_stale(session, now,
                                                     settings.claim_timeout_seconds, journal)
        lifecycle.cancel_leftovers(session)
        report.finished = lifecycle.finish_done(session, now)
        _record(session, "send.started", report.started)
        _record(session, "send.finished", report.finished)
        report.work = lifecycle.work_available(session, now, work_cap)
    journal.discard(dead)  # only now: had the commit failed, the next sweep reads them again
    if report.reclaimed:
        log.warning("took back %d claims of batches whose lease lapsed", report.reclaimed)
    return report


def _hold_unapproved(session: Session, now: datetime) -> list[int]:
    actor = system_actor()
    held = approval.hold_unapproved(session, now)
    for distribution_id, release_id, why in held:
        record(session, actor, "send.refused", f"distribution {distribution_id}",
               f"not started, paused: {why}", release_id=release_id)
    return [distribution_id for distribution_id, _, _ in held]


def _record(session: Session, action: str, distribution_ids: list[int]) -> None:
    """The sweep's transitions, in its own transaction: one entry per distribution."""
    if not distribution_ids:
        return
    actor = system_actor()
    releases = {row.id: row.release_id for row in session.execute(
        select(Distribution.id, Distribution.release_id)
        .where(Distribution.id.in_(distribution_ids)))}
    for distribution_id in distribution_ids:
        record(session, actor, action, f"distribution {distribution_id}",
               action.split(".")[1], release_id=releases.get(distribution_id))
