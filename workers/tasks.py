"""Thin tasks: ids in, calls into `distribution`, nothing scheduled inside the broker."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import redis
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, load_settings
from distribution.engine import claims
from distribution.engine.batch import run_batch
from distribution.engine.messages import load_templates_now
from distribution.engine.ratelimit import RateLimiter, redis_limiter
from distribution.engine.recovery.redisjournal import unsafe_store
from distribution.engine.runner import worker_name
from distribution.engine.sweep import SweepReport, sweep
from distribution.store.db import database_now, first_line, make_engine, session_factory
from workers.celery import app
from workers.enqueue import START_TASK
from workers.hangup import IdleHangUp

log = logging.getLogger(__name__)

# Batches running side by side for one distribution.
MAX_PARALLEL_BATCHES = 8
FANOUT_GUARD_SECONDS = 30
# What Redis being away raises: redis-py's own errors, kombu's when publishing a task.
BROKER_AWAY = (redis.RedisError, BrokerError, OSError)

T = TypeVar("T")


@lru_cache(maxsize=1)
def _settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def _engine(pid: int) -> Engine:
    # One engine per worker process (keyed by pid: pools must not cross a fork).
    return make_engine(_settings().database_url)


def factory() -> sessionmaker[Session]:
    return session_factory(_engine(os.getpid()))


def _hang_up_now() -> None:
    _engine(os.getpid()).dispose()


_idle = IdleHangUp(_hang_up_now)


@task_prerun.connect
def _task_started(**_: object) -> None:
    _idle.task_started()


@task_postrun.connect
def _hang_up(**_: object) -> None:
    """See workers/hangup.py: idle processes hold no connection, busy ones keep theirs."""
    _idle.task_ended()


@worker_process_init.connect
def _warm_up(**_: object) -> None:
    """Connect and compile the templates as a pool process starts: a send that arrives
    later then goes out at once, instead of waiting a few hundred milliseconds for this."""
    try:
        with factory()() as session:
            database_now(session)
        _hang_up_now()
        load_templates_now(_settings())
    except Exception as exc:  # noqa: BLE001 - whatever fails here, the first task retries
        log.warning("warming up the worker process failed: %s", exc)


@worker_ready.connect
def _check_journal_store(**_: object) -> None:
    """Say at start-up when the batch journals kept in Redis would not outlive its restart."""
    settings = _settings()
    client = redis.Redis.from_url(settings.broker_url or "redis://127.0.0.1:6379/0",
                                  socket_timeout=5, socket_connect_timeout=5)
    try:
        why = unsafe_store(client)
    except redis.RedisError as exc:
        log.warning("could not ask Redis whether it persists: %s", first_line(exc))
        return
    finally:
        client.close()
    if why:
        log.warning("Redis at %s: %s. The batch journals kept there would be lost with a "
                    "restart, and a batch that died meanwhile would have its messages sent "
                    "twice: run Redis with appendonly yes (see the README)",
                    settings.masked()["broker_url"], why)


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(_settings().broker_url or "redis://127.0.0.1:6379/0")


def _limiter() -> RateLimiter | None:
    # Buckets in the broker's Redis: the limit holds across every worker and host.
    return redis_limiter(_settings(), _redis())


@app.task(name="pressroom.sweep")
def sweep_task() -> dict[str, int]:
    """Start what is due, release held rows, reclaim stale claims, fan out batches."""
    report = _sweep("sweep skipped")
    if report is None:
        return {"started": 0, "released": 0, "reclaimed": 0, "finished": 0}
    for distribution_id, due in report.work.items():
        # Rows taken back from a batch that died: its chain died with it, and the guard it
        # left would hold the others off for FANOUT_GUARD_SECONDS.
        _start_chains(distribution_id, due, force=report.reclaimed > 0)
    return {"started": len(report.started), "released": report.released,
            "reclaimed": report.reclaimed, "finished": len(report.finished)}


@app.task(name=START_TASK)
def start_task(distribution_id: int) -> None:
    """Sent right after `pressroom send` commits, so a due send does not wait for beat."""
    report = _sweep(f"distribution {distribution_id} not started yet (the sweep starts it)")
    if report is not None and distribution_id in report.work:
        _start_chains(distribution_id, report.work[distribution_id], force=True)


def _sweep(skipped: str) -> SweepReport | None:
    """A sweep, or None and one line when the database or Redis (the journals a sweep
    reads) is away: beat sends the next one within seconds."""
    try:
        # Due rows past what the most batch chains take are not counted.
        return sweep(factory(), _settings(),
                     work_cap=MAX_PARALLEL_BATCHES * _settings().batch_size)
    except (DBAPIError, *BROKER_AWAY) as exc:
        log.warning("%s: %s", skipped, first_line(exc))
        return None


@app.task(name="pressroom.batch")
def batch_task(distribution_id: int) -> dict[str, int]:
    """One batch; while work remains, the chain goes on."""
    try:
        report = run_batch(factory(), _settings(), distribution_id, worker=worker_name(),
                           limiter=_limiter())
    except DBAPIError as exc:
        # The database could not be reached when the batch began (a restart, a failover),
        # or stayed away longer than a batch waits with results in hand (their journal
        # stands in for them). The chain waits a moment and goes on, rather than end and
        # leave the rest to the sweep once the guard lapses.
        log.warning("batch of distribution %s stopped: %s; next batch in 3 s",
                    distribution_id, first_line(exc))
        _broker(lambda: _next_batch(distribution_id, later=True),
                f"could not queue the next batch of distribution {distribution_id}")
        return {"claimed": 0, "sent": 0, "failed": 0, "retried": 0}
    if report.more_may_remain:
        _broker(lambda: _next_batch(distribution_id),
                f"could not queue the next batch of distribution {distribution_id}")
    elif report.claimed == 0:
        _broker(lambda: _end_chains(distribution_id),
                f"could not mark the batches of distribution {distribution_id} as ended")
    return {"claimed": report.claimed, "sent": report.tally.sent,
            "failed": report.tally.failed, "retried": report.tally.retried}


def _next_batch(distribution_id: int, *, later: bool = False) -> None:
    _refresh_guard(distribution_id)
    if later:
        batch_task.apply_async((distribution_id,), countdown=3)  # a literal: see MAX_COUNTDOWN
    else:
        batch_task.delay(distribution_id)


def _start_chains(distribution_id: int, due: int, *, force: bool = False) -> None:
    _broker(lambda: fan_out(distribution_id, due, force=force),
            f"could not start the batches of distribution {distribution_id}")


def _end_chains(distribution_id: int) -> None:
    """Nothing left to claim now and no batch at work: the chains are over. Without this,
    public rows released at a lift soon after would wait for the guard to lapse."""
    try:
        if _in_flight(distribution_id):
            return
    except DBAPIError as exc:
        log.warning("distribution %s: %s", distribution_id, first_line(exc))
        return
    _redis().delete(_guard_key(distribution_id))


def _broker(step: Callable[[], T], failed: str) -> T | None:
    """A step that needs Redis (the broker, the fan-out guard): with Redis away, one line
    in the log instead of a traceback. Nothing is lost: the rows are in the database, and
    the sweep starts batches again once Redis answers (beat publishes it every few
    seconds, and the guard was lost with Redis or lapses)."""
    try:
        return step()
    except BROKER_AWAY as exc:
        log.warning("%s: Redis unreachable (%s); the sweep starts them again once it is "
                    "back", failed, first_line(exc).rstrip(". "))
        return None


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
