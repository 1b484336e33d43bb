"""The batch journal in Redis, against a real redis-server: what a batch wrote is there for
whoever takes its rows back, even when the batch's process is killed before its group ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import redis

from distribution.engine.recovery.journal import Entry
from distribution.engine.recovery.redisjournal import RedisJournal
from tests.fixtures.services import wait_until

ROWS = 300


def _writer_that_dies(port: int, owner: str) -> subprocess.Popen[bytes]:
    """A process that journals ROWS acceptances, says so, and waits to be killed: no sync,
    no close, as a pool process killed mid-group."""
    code = textwrap.dedent(f"""
        import sys, time, redis
        from distribution.engine.recovery.journal import Entry
        from distribution.engine.recovery.redisjournal import RedisJournal
        writer = RedisJournal(redis.Redis(port={port})).writer({owner!r})
        for i in range(1, {ROWS} + 1):
            writer.accepted(Entry(i, f"<m{{i}}@press.test>", i % 2 == 0, 1.0e9, i % 3 or None))
        print("written", flush=True)
        time.sleep(120)
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)


def test_acceptances_written_by_a_process_killed_mid_group_reach_redis(redis_server):
    client = redis.Redis(port=redis_server.port)
    child = _writer_that_dies(redis_server.port, "pool-1/ab12")
    assert child.stdout is not None
    assert child.stdout.readline() == b"written\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    journal = RedisJournal(client)
    wait_until(lambda: len(journal.read(["pool-1/ab12"])) == ROWS, timeout=5,
               what="every acceptance of the killed batch in Redis",
               explain=lambda: f"{len(journal.read(['pool-1/ab12']))} of {ROWS}")
    entries = journal.read(["pool-1/ab12"])
    assert entries[2] == Entry(2, "<m2@press.test>", True, 1.0e9, 2)
    assert entries[3].text_id is None and entries[3].marked is False


def test_what_a_group_journaled_is_readable_as_soon_as_its_sync_returns(redis_server):
    """sync() is what the batch waits on before committing the group's results."""
    client = redis.Redis(port=redis_server.port)
    journal = RedisJournal(client)
    writer = journal.writer("pool-2/cd34")
    for group in range(3):
        for i in range(group * 100 + 1, group * 100 + 101):
            writer.accepted(Entry(i, f"<m{i}@press.test>", False, 1.0e9))
        writer.sync()
        # Another client, at once: nothing still held back on the writer's side.
        assert len(RedisJournal(redis.Redis(port=redis_server.port)).read(
            ["pool-2/cd34"])) == (group + 1) * 100
    writer.close()
    # Back in the pool, the connection answers commands again.
    assert client.ping()
    assert client.ttl(RedisJournal.PREFIX + "pool-2/cd34") > 0
    journal.discard(["pool-2/cd34"])
    assert journal.read(["pool-2/cd34"]) == {}


def test_a_journal_that_lost_redis_is_written_again_after_the_next_heartbeat(redis_server):
    """Redis restarted mid-batch (empty): the acceptances written meanwhile are lost with it,
    and the warning says so; the lease's heartbeat (persist) connects again, and what the
    batch accepts after that is journaled, with its expiry."""
    journal = RedisJournal(redis.Redis(port=redis_server.port))
    writer = journal.writer("pool-3/ef56")
    writer.accepted(Entry(1, "<m1@press.test>", False, 1.0e9))
    writer.sync()
    redis_server.stop()
    redis_server.start()
    for i in (2, 3):  # into a connection Redis closed: dropped, never raised to the caller
        writer.accepted(Entry(i, f"<m{i}@press.test>", False, 1.0e9))
    writer.sync()
    assert not writer.journaling
    writer.persist()
    wait_until(lambda: writer.journaling, timeout=10, what="the journal connected again")
    writer.accepted(Entry(4, "<m4@press.test>", True, 1.0e9, 7))
    writer.sync()
    fresh = RedisJournal(redis.Redis(port=redis_server.port))
    assert set(fresh.read(["pool-3/ef56"])) == {4}
    assert redis.Redis(port=redis_server.port).ttl(RedisJournal.PREFIX + "pool-3/ef56") > 0
    writer.close()
    writer.persist()  # after the batch ended: stays closed
    assert not writer.journaling
    writer.accepted(Entry(5, "<m5@press.test>", False, 1.0e9))
    assert set(fresh.read(["pool-3/ef56"])) == {4}
