"""Thin tasks: ids in, calls into `distribution`, nothing scheduled inside the broker."""

from __future__ import annotations

import logging
import math
import os
from functools import lru_cache

import redis
from celery.signals import task_postrun, worker_process_init
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, load_settings
from distribution.engine import claims
from distribution.engine.batch import run_batch
from distribution.engine.messages import load_templates_now
from distribution.engine.ratelimit import RateLimiter, redis_limiter
from distribution.engine.runner import worker_name
from distribution.engine.sweep import sweep
from distribution.store.db import database_now, make_engine, session_factory
from workers.celery import app
from workers.enqueue import START_TASK

log = logging.getLogger(__name__)

# Batches running side by side for one distribution.
MAX_PARALLEL_BATCHES = 8
FANOUT_GUARD_SECONDS = 30


@lru_cache(maxsize=1)
def _settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def _engine(pid: int) -> Engine:
    # One engine per worker process (keyed by pid: pools must not cross a fork).
    return make_engine(_settings().database_url)


def factory() -> sessionmaker[Session]:
    return session_factory(_engine(os.getpid()))


@task_postrun.connect
def _hang_up(**_: object) -> None:
    """An idle pool process holds no database connection: with several workers of several
    processes each, idle ones would use up PostgreSQL's max_connections and lock the
    operator's own `pressroom status` out. Reconnecting costs a few milliseconds a batch."""
    _engine(os.getpid()).dispose()


@worker_process_init.connect
def _warm_up(**_: object) -> None:
    """Connect and compile the templates as a pool process starts: a send that arrives
    later then goes out at once, instead of waiting a few hundred milliseconds for this."""
    try:
        with factory()() as session:
            database_now(session)
        _hang_up()
        load_templates_now(_settings())
    except Exception as exc:  # noqa: BLE001 - whatever fails here, the first task retries
        log.warning("warming up the worker process failed: %s", exc)


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(_settings().broker_url or "redis://127.0.0.1:6379/0")


def _limiter() -> RateLimiter | None:
    # Buckets in the broker's Redis: the limit holds across every worker and host.
    return redis_limiter(_settings(), _redis())


@app.task(name="pressroom.sweep")
def sweep_task() -> dict[str, int]:
    """Start what is due, release held rows, reclaim stale claims, fan out batches."""
    report = sweep(factory(), _settings())
    for distribution_id, due in report.work.items():
        fan_out(distribution_id, due)
    return {"started": len(report.started), "released": report.released,
            "reclaimed": report.reclaimed, "finished": len(report.finished)}


@app.task(name=START_TASK)
def start_task(distribution_id: int) -> None:
    """Sent right after `pressroom send` commits, so a due send does not wait for beat."""
    report = sweep(factory(), _settings())
    if distribution_id in report.work:
        fan_out(distribution_id, report.work[distribution_id], force=True)


@app.task(name="pressroom.batch")
def batch_task(distribution_id: int) -> dict[str, int]:
    """One batch; while work remains, the chain goes on."""
    try:
        report = run_batch(factory(), _settings(), distribution_id, worker=worker_name(),
                           limiter=_limiter())
    except DBAPIError as exc:
        # The database went away mid-batch (a restart, a failover): the rows it held come
        # back through its journal once its lease lapses. The chain waits a moment and goes
        # on, rather than end and leave the rest to the sweep once the guard lapses.
        log.warning("batch of distribution %s stopped: %s; next batch in 3 s",
                    distribution_id, str(exc).splitlines()[0])
        _refresh_guard(distribution_id)
        batch_task.apply_async((distribution_id,), countdown=3)  # a literal: see MAX_COUNTDOWN
        return {"claimed": 0, "sent": 0, "failed": 0, "retried": 0}
    if report.more_may_remain:
        _refresh_guard(distribution_id)
        batch_task.delay(distribution_id)
    elif report.claimed == 0 and not _in_flight(distribution_id):
        # Nothing left to claim now and no batch at work: the chains are over. Without
        # this, public rows released at a lift soon after would wait for the guard to lapse.
        _redis().delete(_guard_key(distribution_id))
    return {"claimed": report.claimed, "sent": report.tally.sent,
            "failed": report.tally.failed, "retried": report.tally.retried}


def fan_out(distribution_id: int, due: int, *, force: bool = False) -> int:
    """Start enough batch chains for the work, unless chains are already running."""
    if force:
        _refresh_guard(distribution_id)
    elif not _take_guard(distribution_id):
        return 0
    chains = min(MAX_PARALLEL_BATCHES, max(1, math.ceil(due / _settings().batch_size)))
    for _ in range(chains):
        batch_task.delay(distribution_id)
    return chains


def _guard_key(distribution_id: int) -> str:
    return f"pressroom:fanout:{distribution_id}"


def _take_guard(distribution_id: int) -> bool:
    # Running chains keep refreshing the key; the sweep restarts chains only once it lapses.
    return bool(_redis().set(_guard_key(distribution_id), 1, nx=True,
                             ex=FANOUT_GUARD_SECONDS))


def _in_flight(distribution_id: int) -> bool:
    with factory()() as session:
        return claims.in_flight(session, distribution_id)


def _refresh_guard(distribution_id: int) -> None:
    _redis().set(_guard_key(distribution_id), 1, ex=FANOUT_GUARD_SECONDS)
