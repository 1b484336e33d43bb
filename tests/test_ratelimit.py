"""Rate limits: the token bucket in a real Redis, shared by clients; the same in-process."""

from __future__ import annotations

import time

import pytest

from distribution.engine import dispatch
from distribution.engine.ratelimit import LocalBuckets, RateLimiter, RedisBuckets
from distribution.engine.runner import deliver_due
from tests.fixtures.builders import addresses, make_list, make_release, now_utc
from tests.fixtures.settings import make_settings


@pytest.mark.redis
def test_redis_bucket_grants_a_second_then_makes_callers_queue(redis_server):
    first, second = (RedisBuckets(redis_server.client()) for _ in range(2))
    assert first.reserve("all", 10, rate=10) == 0  # a full bucket: one second's worth
    # Two clients (two workers) draw from the same bucket, each waiting behind the last.
    assert second.reserve("all", 5, rate=10) == pytest.approx(0.5, abs=0.05)
    assert first.reserve("all", 5, rate=10) == pytest.approx(1.0, abs=0.05)
    assert first.reserve("domain:example.org", 1, rate=10) == 0  # buckets are separate


@pytest.mark.redis
def test_redis_bucket_refills_at_the_rate(redis_server):
    buckets = RedisBuckets(redis_server.client())
    assert buckets.reserve("all", 100, rate=100) == 0
    wait = buckets.reserve("all", 50, rate=100)
    assert wait == pytest.approx(0.5, abs=0.05)
    time.sleep(wait)
    assert buckets.reserve("all", 1, rate=100) == pytest.approx(0.01, abs=0.02)


@pytest.mark.redis
def test_redis_bucket_survives_a_redis_restart(redis_server):
    buckets = RedisBuckets(redis_server.client())
    assert buckets.reserve("all", 1, rate=5) == 0
    redis_server.stop()
    redis_server.start()  # empty again, script cache included: EVALSHA must reload it
    assert buckets.reserve("all", 1, rate=5) == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_local_bucket_reserves_into_debt_and_refills():
    clock = FakeClock()
    buckets = LocalBuckets(clock)
    assert buckets.reserve("all", 4, rate=4) == 0
    assert buckets.reserve("all", 2, rate=4) == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.reserve("all", 1, rate=4) == pytest.approx(0.25)
    clock.now += 10  # a long idle refills only up to one second's worth
    assert buckets.reserve("all", 4, rate=4) == 0
    assert buckets.reserve("all", 1, rate=4) == pytest.approx(0.25)


def test_limiter_sleeps_once_for_the_longest_of_global_and_domain_waits():
    slept: list[float] = []
    limiter = RateLimiter(LocalBuckets(FakeClock()), rate=100, domain_rate=2,
                          sleep=slept.append)
    recipients = ["a@slow.example", "b@SLOW.example", "c@slow.example", "d@other.example"]
    assert limiter.acquire(recipients) == pytest.approx(0.5)  # 3 to slow.example at 2/s
    assert slept == [pytest.approx(0.5)]
    assert limiter.acquire(["e@other.example"]) == 0


def test_limiter_without_limits_never_waits():
    slept: list[float] = []
    limiter = RateLimiter(LocalBuckets(FakeClock()), rate=0, sleep=slept.append)
    assert limiter.acquire(["a@example.org"] * 1000) == 0
    assert slept == []


def test_the_embedded_engine_keeps_the_rate_limit(sqlite_store, smtp_server, tmp_path):
    settings = make_settings(tmp_path, sqlite_store.url, smtp_url=smtp_server.url,
                             rate_limit="20", commit_every="5")
    with sqlite_store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("e", 40))
    with sqlite_store.Session() as session, session.begin():
        plan = dispatch.plan(session, release.id, ["media"])
        dispatch.schedule(session, plan, now=now_utc())
    started = time.time()
    assert deliver_due(sqlite_store.Session, settings).tally.sent == 40
    # A full bucket lets 20 go at once and the other 20 take a second: however slow the
    # machine, the last cannot arrive sooner (measured from the start, not from the first
    # message, which a busy machine may send late while the bucket keeps filling).
    assert max(m.received_at for m in smtp_server.messages) - started >= (40 - 20) / 20


def test_no_second_sees_more_than_a_second_of_the_limit_and_a_full_bucket(
        sqlite_store, smtp_server, tmp_path):
    """Groups go out at once when their wait is over: with groups of up to commit_every
    (500), a group of 100 went out in one burst after five seconds of silence."""
    settings = make_settings(tmp_path, sqlite_store.url, smtp_url=smtp_server.url,
                             rate_limit="10")
    with sqlite_store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("g", 60))
    with sqlite_store.Session() as session, session.begin():
        plan = dispatch.plan(session, release.id, ["media"])
        dispatch.schedule(session, plan, now=now_utc())
    assert deliver_due(sqlite_store.Session, settings).tally.sent == 60
    arrivals = sorted(m.received_at for m in smtp_server.messages)
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals)
    assert busiest <= 2 * 10, busiest  # the bucket's second, and a second at the limit
