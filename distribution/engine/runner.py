"""The embedded engine: no broker, the same batch functions run in this process."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from distribution.engine.batch import TransportOpener, run_batch
from distribution.engine.ledger import Tally
from distribution.engine.ratelimit import local_limiter
from distribution.engine.sweep import sweep
from distribution.store.db import first_line

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class RunReport:
    tally: Tally = field(default_factory=Tally)
    stopped: str | None = None
    server_down: bool = False
    held_back: int = 0


def deliver_due(factory: sessionmaker[Session], settings: Settings, *,
                only: int | None = None, opener: TransportOpener | None = None,
                on_sent: Callable[[int], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> RunReport:
    """Sweep, then run batches until nothing is due now (or the server is unreachable).

    One batch per distribution between sweeps, so a lift, a new send or a stale claim
    never waits behind a large distribution.
    """
    report = RunReport()
    while not should_stop():
        work = sweep(factory, settings, work_cap=1).work  # which have work: one row says
        ids = [d for d in work if only is None or d == only]
        if not ids:
            break
        for distribution_id in ids:
            batch = run_batch(factory, settings, distribution_id, worker=worker_name(),
                              opener=opener, on_sent=on_sent,
                              limiter=local_limiter(settings))
            report.tally.add(batch.tally)
            report.held_back += batch.held_back
            if batch.stopped:
                report.stopped = batch.stopped
            if batch.server_down:
                report.server_down = True
                return report
    return report


def serve(factory: sessionmaker[Session], settings: Settings,
          should_stop: Callable[[], bool] = lambda: False) -> None:
    """`pressroom worker` without a broker: poll the database and deliver what falls due.

    The database away or refusing writes (a full disk), or the journal's folder full: one
    line, and the next round tries again; what a stopped batch held comes back through its
    journal once its lease lapses.
    """
    trouble = None  # said once, not every round
    while not should_stop():
        try:
            result = deliver_due(factory, settings, should_stop=should_stop)
        except (DBAPIError, OSError) as exc:
            if first_line(exc) != trouble:
                trouble = first_line(exc)
                log.warning("cannot deliver now: %s; trying again every %s s", trouble,
                            settings.sweep_seconds)
            _sleep(settings.sweep_seconds, should_stop)
            continue
        if trouble is not None:
            log.info("delivering again")
            trouble = None
        if result.tally.sent or result.tally.errors:
            log.info("sent %d, failed %d, retrying %d", result.tally.sent,
                     result.tally.failed, result.tally.retried)
        if result.stopped:
            log.warning("%s", result.stopped)
        _sleep(settings.sweep_seconds, should_stop)


def _sleep(seconds: float, should_stop: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not should_stop():
        time.sleep(min(0.2, seconds))
