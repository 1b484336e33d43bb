"""Rate limits: messages per second over all workers, and per recipient domain.

Token buckets holding one second's worth of tokens. With a broker the buckets live in
Redis, so every worker on every host draws from the same ones: a Lua script refills and
takes in one atomic step, by Redis's clock. Without a broker they live in this process.

A caller reserves the tokens for what it is about to send, even into debt, and sleeps the
debt off: waiting workers line up in order instead of polling the bucket.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

import redis

from config import Settings

KEY_PREFIX = "pressroom:rate:"
GLOBAL = "all"


class RateLimitUnavailable(RuntimeError):
    """The shared buckets cannot be read (Redis is away): the limit cannot be kept."""


class Buckets(Protocol):
    def reserve(self, key: str, count: int, rate: float) -> float:
        """Take `count` tokens from bucket `key` (refilled at `rate` a second, holding at
        most one second's worth); return the seconds to wait before using them."""
        ...


# KEYS[1] the bucket; ARGV rate, count. Returns the wait in milliseconds (a Lua number
# would be truncated to an integer on the way out, so seconds would lose their fraction).
_RESERVE = """
local rate = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local burst = math.max(rate, 1)
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - count
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
           'at', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 60)
if tokens >= 0 then return 0 end
return math.ceil(-tokens / rate * 1000)
"""


class RedisBuckets:
    """Buckets shared by every process that uses the same Redis."""

    def __init__(self, client: redis.Redis) -> None:
        # A Script runs with EVALSHA and loads itself again after a Redis restart.
        self._script = client.register_script(_RESERVE)

    def reserve(self, key: str, count: int, rate: float) -> float:
        try:
            millis = self._script(keys=[KEY_PREFIX + key], args=[repr(float(rate)), count])
        except redis.RedisError as exc:
            raise RateLimitUnavailable(str(exc) or type(exc).__name__) from exc
        return int(millis) / 1000


class LocalBuckets:
    """The same buckets for one process (the embedded engine, without Redis)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def reserve(self, key: str, count: int, rate: float) -> float:
        burst = max(rate, 1.0)
        with self._lock:
            now = self._clock()
            tokens, at = self._state.get(key, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - at) * rate) - count
            self._state[key] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens / rate


class RateLimiter:
    """Blocks a sender until the global and per-domain limits allow its next messages."""

    def __init__(self, buckets: Buckets, rate: float, domain_rate: float = 0.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.buckets = buckets
        self.rate = rate
        self.domain_rate = domain_rate
        self._sleep = sleep

    def acquire(self, recipients: Sequence[str]) -> float:
        """Wait until messages to these recipients may go out; returns the seconds waited."""
        waits = []
        if self.rate > 0:
            waits.append(self.buckets.reserve(GLOBAL, len(recipients), self.rate))
        if self.domain_rate > 0:
            for domain, count in Counter(domain_of(r) for r in recipients).items():
                waits.append(self.buckets.reserve(f"domain:{domain}", count, self.domain_rate))
        # Reservations are made first, so one sleep covers the longest of them.
        wait = max(waits, default=0.0)
        if wait > 0:
            self._sleep(wait)
        return wait


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def limits_set(settings: Settings) -> bool:
    return settings.rate_limit > 0 or settings.domain_rate_limit > 0


def redis_limiter(settings: Settings, client: redis.Redis) -> RateLimiter | None:
    """The limiter workers share through the broker's Redis; None when no limit is set."""
    if not limits_set(settings):
        return None
    return RateLimiter(RedisBuckets(client), settings.rate_limit, settings.domain_rate_limit)


def local_limiter(settings: Settings) -> RateLimiter | None:
    """The embedded engine's limiter, one per process; None when no limit is set."""
    if not limits_set(settings):
        return None
    return _local(settings.rate_limit, settings.domain_rate_limit)


@lru_cache(maxsize=4)
def _local(rate: float, domain_rate: float) -> RateLimiter:
    # Kept for the life of the process, so successive sweeps draw from the same buckets.
    return RateLimiter(LocalBuckets(), rate, domain_rate)
