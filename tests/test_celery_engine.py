"""The engine on Celery and Redis, with real processes: what an operator would check.

Each test starts its own redis-server, Celery workers (and beat) as subprocesses, and the
in-process SMTP server whose own record of received messages is the judge of "every
recipient exactly once". The CLI runs as a subprocess, as an operator would run it.
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from distribution.store.models import (
    Contact,
    Delivery,
    Distribution,
    MailingList,
    Subscription,
)
from tests.fixtures.builders import make_release
from tests.fixtures.services import CeleryProcesses
from tests.fixtures.smtpd import SmtpTestServer
from tests.fixtures.stores import Store

pytestmark = [pytest.mark.slow, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[1]
MAX_BROKER_WAIT_SECONDS = 300
BATCH_SENT = re.compile(r"pressroom\.batch\[[^]]+\] succeeded in [^:]+: \{[^}]*'sent': (\d+)")


# Test data and what an operator reads


def seed(store: Store, count: int) -> tuple[int, list[str]]:
    """A release and a trusted list "media" of `count` members, inserted in bulk."""
    emails = [f"r{i}@example.org" for i in range(count)]
    with store.Session() as session, session.begin():
        release = make_release(session)
        mailing_list = MailingList(name="media", trusted=True)
        session.add(mailing_list)
        session.flush()
        session.execute(insert(Contact), [{"email": e, "name": e.split("@")[0]} for e in emails])
        members = select(Contact.id, mailing_list.id).where(Contact.email.in_(emails))
        session.execute(insert(Subscription).from_select(["contact_id", "list_id"], members))
        return release.id, emails


def send(celery: CeleryProcesses, release_id: int) -> int:
    result = celery.cli("send", str(release_id), "--list", "media", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["distribution_id"])


def statuses(store: Store, distribution_id: int) -> Counter[str]:
    with store.Session() as session:
        rows = session.execute(select(Delivery.status, func.count())
                               .where(Delivery.distribution_id == distribution_id)
                               .group_by(Delivery.status))
        return Counter({status.value: n for status, n in rows})


def dist_status(store: Store, distribution_id: int) -> str:
    with store.Session() as session:
        dist = session.get(Distribution, distribution_id)
        assert dist is not None
        return dist.status.value


def copies(smtp: SmtpTestServer) -> Counter[str]:
    """How many copies each recipient got, by the SMTP server's own record."""
    return Counter(address for m in smtp.messages for address in m.rcpt_tos)


def duplicates(smtp: SmtpTestServer) -> int:
    return sum(n - 1 for n in copies(smtp).values())


def describe(store: Store, distribution_id: int) -> str:
    with store.Session() as session:
        dist = session.get(Distribution, distribution_id)
        assert dist is not None
        reason = f" ({dist.paused_reason})" if dist.paused_reason else ""
    return f"{dist.status.value}{reason}, deliveries {dict(statuses(store, distribution_id))}"


def wait_done(celery: CeleryProcesses, store: Store, distribution_id: int,
              timeout: float = 90) -> None:
    try:
        celery.wait_until(lambda: dist_status(store, distribution_id) == "done",
                          timeout=timeout, what=f"distribution {distribution_id} done")
    except AssertionError as exc:
        raise AssertionError(f"now {describe(store, distribution_id)}\n{exc}") from None


def assert_everyone_got_it(smtp: SmtpTestServer, store: Store, distribution_id: int,
                           emails: list[str], *, max_duplicates: int = 0) -> int:
    """Every recipient received the release and its row says sent; returns duplicates."""
    got = copies(smtp)
    assert set(got) == set(emails), f"{len(set(emails) - set(got))} recipients got nothing"
    assert statuses(store, distribution_id) == Counter(sent=len(emails))
    extra = duplicates(smtp)
    assert extra <= max_duplicates, f"{extra} duplicates, bound {max_duplicates}"
    return extra


def sent_in_log(log: Path) -> int:
    """Messages a worker reports sent, from its batch tasks' results."""
    return sum(int(n) for n in BATCH_SENT.findall(log.read_text("utf-8", "replace")))


def waiting_reason(store: Store, distribution_id: int) -> str | None:
    with store.Session() as session:
        return session.get(Distribution, distribution_id).waiting_reason


def start_engine(celery: CeleryProcesses, store: Store, *, workers: int = 1,
                 concurrency: int = 2, **settings: str) -> None:
    """Workers plus one beat: the production shape."""
    celery.configure(database_url=store.url, **settings)
    for n in range(1, workers + 1):
        celery.worker(f"w{n}", concurrency=concurrency)
    celery.beat("beat")


# Sending and delivering


@pytest.mark.postgres
def test_send_returns_at_once_and_two_workers_deliver_each_recipient_once(
        pg_store, smtp_server, celery_workers, redis_server):
    release_id, emails = seed(pg_store, 1000)
    celery_workers.configure(database_url=pg_store.url, batch_size="100", commit_every="25")
    started = time.monotonic()
    result = celery_workers.cli("send", str(release_id), "--list", "media", "--yes")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "queued for the workers" in result.stdout
    # No worker runs yet: the command returned without sending anything, and left the
    # recorded distribution to the queue.
    assert took < 20
    distribution_id = int(result.stdout.split("Distribution ")[1].split()[0])
    assert dist_status(pg_store, distribution_id) == "scheduled"
    assert statuses(pg_store, distribution_id) == Counter(pending=1000)
    queued = [json.loads(raw)["headers"] for raw in redis_server.client().lrange("celery", 0, -1)]
    assert [(h["task"], h["argsrepr"]) for h in queued] == [
        ("pressroom.start", f"({distribution_id},)")]
    assert smtp_server.messages == []

    # Started together, one process each, so that neither can finish alone before the
    # other is up.
    w1, w2 = (celery_workers.worker(name, concurrency=1, ready=False) for name in ("w1", "w2"))
    for worker in (w1, w2):
        celery_workers.wait_ready(worker)
    celery_workers.beat("beat")
    wait_done(celery_workers, pg_store, distribution_id)
    assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails)
    # Each worker's log shows its share: the work was spread, and adds up to no more.
    shares = {w.name: sent_in_log(w.log) for w in (w1, w2)}
    assert all(shares.values()), shares
    assert sum(shares.values()) == 1000


def test_one_worker_with_beat_delivers_with_the_sqlite_store(
        sqlite_store, smtp_server, celery_workers):
    release_id, emails = seed(sqlite_store, 200)
    celery_workers.configure(database_url=sqlite_store.url, batch_size="50", commit_every="10")
    celery_workers.worker("w1", concurrency=2, beat=True)  # a small site: one host, -B
    distribution_id = send(celery_workers, release_id)
    wait_done(celery_workers, sqlite_store, distribution_id)
    assert_everyone_got_it(smtp_server, sqlite_store, distribution_id, emails)


@pytest.mark.postgres
def test_send_with_the_broker_down_is_recorded_and_dispatched_once_it_is_back(
        pg_store, smtp_server, celery_workers, redis_server):
    release_id, emails = seed(pg_store, 100)
    start_engine(celery_workers, pg_store)
    redis_server.stop()
    result = celery_workers.cli("send", str(release_id), "--list", "media", "--yes")
    assert result.returncode == 0, result.stderr
    assert "is recorded, but the broker is unreachable" in result.stderr
    assert "the sweep will dispatch it" in result.stderr
    with pg_store.Session() as session:
        distribution_id = session.scalar(select(func.max(Distribution.id)))
    assert statuses(pg_store, distribution_id) == Counter(pending=100)
    celery_workers.wait_broker_lost()
    assert smtp_server.messages == []

    redis_server.start()
    wait_done(celery_workers, pg_store, distribution_id, timeout=120)
    assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails)


# Crashes and outages


@pytest.mark.postgres
def test_a_killed_worker_loses_nobody_and_duplicates_only_its_messages_in_flight(
        pg_store, smtp_server, celery_workers):
    release_id, emails = seed(pg_store, 3000)
    celery_workers.configure(database_url=pg_store.url, batch_size="100", commit_every="50")
    doomed = celery_workers.worker("doomed", concurrency=2)
    celery_workers.beat("beat")
    # The server stops answering at 500 messages, so that the kill comes mid-send however
    # fast the worker is; the survivor is answered again.
    smtp_server.hold_replies_after(500)
    distribution_id = send(celery_workers, release_id)
    smtp_server.wait_for(500, timeout=60)
    celery_workers.kill9(doomed)
    received_at_kill = len(smtp_server.messages)
    smtp_server.release()

    celery_workers.worker("survivor", concurrency=2)
    wait_done(celery_workers, pg_store, distribution_id, timeout=120)
    bound = 50 * 2  # commit_every x concurrency of the killed worker
    extra = assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails,
                                   max_duplicates=bound)
    print(f"kill -9 after {received_at_kill} received: {extra} duplicates (bound {bound})")


@pytest.mark.postgres
def test_a_distribution_completes_across_a_redis_restart(
        pg_store, smtp_server, celery_workers, redis_server):
    release_id, emails = seed(pg_store, 3000)
    start_engine(celery_workers, pg_store, workers=2, batch_size="100", commit_every="50")
    distribution_id = send(celery_workers, release_id)
    smtp_server.wait_for(500, timeout=60)
    redis_server.stop()
    celery_workers.wait_broker_lost()
    redis_server.start()
    wait_done(celery_workers, pg_store, distribution_id, timeout=120)
    # Redis held no delivery state: a restart loses no recipient and sends nothing twice.
    assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails)


@pytest.mark.postgres
def test_a_redis_outage_is_one_warning_per_problem_and_the_send_goes_on_after_it(
        pg_store, smtp_server, celery_workers, redis_server):
    """Redis down mid-send, long enough for every chain of batches to meet it (queueing
    the next batch, the fan-out guard, the shared rate limit): the logs say so in warnings,
    without a traceback, and the distribution completes by itself once Redis is back."""
    release_id, emails = seed(pg_store, 3000)
    start_engine(celery_workers, pg_store, batch_size="100", commit_every="50",
                 rate_limit="1000")
    distribution_id = send(celery_workers, release_id)
    smtp_server.wait_for(500, timeout=60)
    redis_server.stop()
    celery_workers.wait_broker_lost()
    down_at = smtp_server.settled()  # every chain has met the outage
    redis_server.start()
    back = time.monotonic()
    wait_done(celery_workers, pg_store, distribution_id, timeout=120)
    took = time.monotonic() - back
    assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails)
    for proc in celery_workers.procs:
        log = proc.log.read_text("utf-8", "replace")
        at = log.find("Traceback")
        assert at < 0, f"{proc.name} logged a traceback:\n{log[max(0, at - 500):at + 3000]}"
    warned = celery_workers.procs[0].log.read_text("utf-8", "replace")
    assert "Redis unreachable" in warned or "rate limit cannot be checked" in warned
    # At start-up already: this Redis keeps nothing across a restart (as a cache would).
    assert "it persists nothing (appendonly no, no snapshots)" in warned
    print(f"Redis down after {down_at} of {len(emails)}: complete {took:.1f} s after it was "
          "back, no traceback")


@pytest.mark.postgres
def test_a_distribution_completes_after_the_smtp_server_was_down(
        pg_store, smtp_server, celery_workers):
    release_id, emails = seed(pg_store, 3000)
    start_engine(celery_workers, pg_store, workers=2, batch_size="100", commit_every="50",
                 retry_base_seconds="2", retry_max_seconds="4")
    distribution_id = send(celery_workers, release_id)
    smtp_server.wait_for(500, timeout=60)
    smtp_server.stop()
    down_at = len(smtp_server.messages)
    # Down until the engine has found it so and said on the distribution that it waits.
    celery_workers.wait_until(lambda: waiting_reason(pg_store, distribution_id), timeout=60,
                              what="the distribution waiting for the SMTP server")
    smtp_server.start()
    wait_done(celery_workers, pg_store, distribution_id, timeout=150)
    bound = 50 * 2 * 2  # commit_every x concurrency, for each of the two workers
    extra = assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails,
                                   max_duplicates=bound)
    print(f"SMTP server down after {down_at} received: {extra} duplicates (bound {bound})")


@pytest.mark.postgres
def test_two_beats_at_once_double_nothing(pg_store, smtp_server, celery_workers):
    release_id, emails = seed(pg_store, 1000)
    celery_workers.configure(database_url=pg_store.url, batch_size="100", commit_every="25")
    celery_workers.worker("w1", concurrency=2)
    first, second = celery_workers.beat("beat1"), celery_workers.beat("beat2")
    # Both sweeping before the send, so that both are at work while it goes out.
    for beat in (first, second):
        celery_workers.wait_until(lambda b=beat: "Sending due task sweep" in b.log.read_text(),
                                  timeout=30, what=f"{beat.name} sweeping")
    distribution_id = send(celery_workers, release_id)
    wait_done(celery_workers, pg_store, distribution_id)
    assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails)


# Operator control


@pytest.mark.postgres
def test_pause_resume_and_cancel_take_effect_within_one_batch(
        pg_store, smtp_server, celery_workers):
    release_id, emails = seed(pg_store, 3000)
    # Slowed to 100 messages a second, so that there is a middle to pause and cancel in
    # even when each CLI run takes seconds on a busy machine.
    start_engine(celery_workers, pg_store, concurrency=2, batch_size="100",
                 commit_every="10", rate_limit="100")
    in_flight = 10 * 2  # one group per running batch
    distribution_id = send(celery_workers, release_id)

    smtp_server.wait_for(200, timeout=60)
    paused = celery_workers.cli("pause", str(distribution_id))
    assert paused.returncode == 0, paused.stderr
    at_pause = len(smtp_server.messages)
    after_pause = smtp_server.settled()
    assert after_pause - at_pause <= in_flight
    shown = json.loads(celery_workers.cli("status", str(distribution_id), "--json").stdout)
    assert shown["status"] == "paused" and shown["paused_reason"] == "paused by an operator"
    assert shown["sent"] == after_pause and shown["pending"] == 3000 - after_pause

    resumed = celery_workers.cli("resume", str(distribution_id))
    assert resumed.returncode == 0, resumed.stderr
    smtp_server.wait_for(after_pause + 200, timeout=30)
    cancelled = celery_workers.cli("cancel", str(distribution_id))
    assert cancelled.returncode == 0, cancelled.stderr
    at_cancel = len(smtp_server.messages)
    after_cancel = smtp_server.settled()
    assert after_cancel - at_cancel <= in_flight
    print(f"after pause: {after_pause - at_pause} more, after cancel: "
          f"{after_cancel - at_cancel} more (bound {in_flight})")
    assert after_cancel < len(emails), "all sent before the cancel came"
    celery_workers.wait_until(
        lambda: statuses(pg_store, distribution_id) == Counter(
            sent=after_cancel, cancelled=len(emails) - after_cancel),
        timeout=15, what="every delivery either sent or cancelled")
    assert dist_status(pg_store, distribution_id) == "cancelled"
    assert duplicates(smtp_server) == 0


@pytest.mark.postgres
def test_retry_sends_again_to_the_recipients_that_failed(pg_store, smtp_server, celery_workers):
    release_id, emails = seed(pg_store, 40)
    busy = emails[:5]
    for address in busy:
        smtp_server.answer(address, "451 4.7.1 Greylisted, try again later")
    start_engine(celery_workers, pg_store, max_attempts="1")
    distribution_id = send(celery_workers, release_id)
    wait_done(celery_workers, pg_store, distribution_id)
    assert statuses(pg_store, distribution_id) == Counter(sent=35, failed=5)
    assert set(copies(smtp_server)) == set(emails) - set(busy)

    for address in busy:
        smtp_server.answer(address, "451 4.7.1 Greylisted, try again later", times=0)
    retried = celery_workers.cli("retry", str(distribution_id))
    assert retried.returncode == 0, retried.stderr
    assert "5 failed deliveries" in retried.stdout
    wait_done(celery_workers, pg_store, distribution_id)
    assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails)


# Nothing waits in the broker


TIMING_KEYWORDS = {"countdown", "eta", "default_retry_delay"}
PUBLISHING_CALLS = {"apply_async", "retry", "signature", "s", "si", "set"}


def long_waits_in_source(folder: Path) -> list[str]:
    """Calls that may hold a task in the broker: countdown/eta other than a literal number
    of seconds up to the bound, or options hidden in **kwargs of a publishing call."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                hidden = keyword.arg is None and _called_name(node) in PUBLISHING_CALLS
                if hidden or (keyword.arg in TIMING_KEYWORDS
                              and not _short_literal(keyword.value)):
                    found.append(f"{path.name}:{node.lineno} {keyword.arg or '**'}")
    return found


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _short_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            and 0 <= node.value <= MAX_BROKER_WAIT_SECONDS)


def test_the_source_scan_finds_a_long_countdown(tmp_path):
    (tmp_path / "bad.py").write_text(
        "t.apply_async((1,), countdown=3600)\n"
        "t.apply_async((1,), eta=embargo_until)\n"
        "t.apply_async((1,), **options)\n"
        "t.apply_async((1,), countdown=60)\n")
    assert long_waits_in_source(tmp_path) == ["bad.py:1 countdown", "bad.py:2 eta", "bad.py:3 **"]


def test_no_source_schedules_a_task_far_ahead_in_the_broker():
    assert long_waits_in_source(ROOT / "workers") == []
    assert long_waits_in_source(ROOT / "distribution") == []


@pytest.mark.postgres
def test_every_task_is_published_without_a_distant_eta(
        pg_store, celery_workers, redis_server):
    release_id, _ = seed(pg_store, 300)
    celery_workers.configure(database_url=pg_store.url, batch_size="100")
    distribution_id = send(celery_workers, release_id)      # pressroom.start
    fanned = celery_workers.python(                          # pressroom.batch, as beat would
        "from workers.tasks import sweep_task; print(sweep_task())")
    assert fanned.returncode == 0, fanned.stderr
    beat = celery_workers.beat("beat")                       # pressroom.sweep

    def queued() -> list[dict]:
        return [json.loads(raw) for raw in redis_server.client().lrange("celery", 0, -1)]

    # Beat logs "Sending due task" before it publishes: wait for the message itself.
    celery_workers.wait_until(
        lambda: any(m["headers"]["task"] == "pressroom.sweep" for m in queued()),
        timeout=30, what="beat publishes a sweep")
    celery_workers.stop(beat)

    messages = queued()
    names = Counter(message["headers"]["task"] for message in messages)
    assert {"pressroom.start", "pressroom.batch", "pressroom.sweep"} <= set(names)
    assert names["pressroom.batch"] == 3  # one chain per 100 due deliveries
    now = datetime.now(UTC)
    for message in messages:
        eta = message["headers"].get("eta")
        if eta is not None:
            ahead = (datetime.fromisoformat(eta) - now).total_seconds()
            assert ahead < MAX_BROKER_WAIT_SECONDS, message["headers"]
    assert statuses(pg_store, distribution_id) == Counter(pending=300)


# Rate limits


@pytest.mark.postgres
def test_the_rate_limit_holds_across_two_workers(pg_store, smtp_server, celery_workers):
    release_id, emails = seed(pg_store, 400)
    # One batch of 200 for each worker; at 50 a second shared, a batch outlives the claim
    # timeout (5 s), so exactly-once also shows that a slow batch keeps its claims.
    start_engine(celery_workers, pg_store, workers=2, concurrency=1, batch_size="200",
                 commit_every="5", rate_limit="50")
    distribution_id = send(celery_workers, release_id)
    wait_done(celery_workers, pg_store, distribution_id)
    assert_everyone_got_it(smtp_server, pg_store, distribution_id, emails)
    stamps = sorted(m.received_at for m in smtp_server.messages)
    # A bucket of one second's worth (50) may go at once; the other 350 at 50 a second.
    took = stamps[-1] - stamps[0]
    print(f"400 messages at 50/s took {took:.1f} s")
    assert took >= 350 / 50 * 0.9
    for start in stamps:
        in_a_second = sum(1 for t in stamps if start <= t < start + 1)
        assert in_a_second <= 50 + 50 + 5, "more than the bucket and a second's refill"


@pytest.mark.postgres
def test_worker_and_beat_as_an_operator_starts_them_need_no_folder_and_ride_out_redis(
        pg_store, celery_workers, redis_server, tmp_path):
    """`pressroom worker` and `pressroom beat`, the commands themselves (the compose file's),
    with a data directory that does not exist yet: both start, and a Redis restart is
    warnings only, no stack trace (beat died at start-up without the folder; the worker's
    gossip logged a traceback at every reconnection)."""
    home = tmp_path / "not-made-yet"
    celery_workers.configure(database_url=pg_store.url, home=str(home))
    worker = celery_workers.pressroom("worker", "worker", "--concurrency", "1")
    beat = celery_workers.pressroom("beat", "beat")
    celery_workers.wait_until(lambda: " ready." in worker.log.read_text(), timeout=60,
                              what="the worker ready")
    celery_workers.wait_until(lambda: "Sending due task sweep" in beat.log.read_text(),
                              timeout=30, what="beat sending a sweep")
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    redis_server.stop()
    celery_workers.wait_broker_lost()
    redis_server.start()
    celery_workers.wait_until(
        lambda: worker.log.read_text().count("Connected to redis") >= 2, timeout=60,
        what="the worker reconnected")
    mark = beat.log.read_text().count("Sending due task sweep")
    celery_workers.wait_until(
        lambda: beat.log.read_text().count("Sending due task sweep") > mark + 1, timeout=30,
        what="beat sending sweeps again")
    assert worker.alive and beat.alive
    for proc in (worker, beat):
        log = proc.log.read_text("utf-8", "replace")
        assert "Traceback" not in log, f"{proc.name}:\n{log[-3000:]}"


def test_a_task_that_cannot_be_acknowledged_as_redis_goes_is_one_warning_line():
    """Redis killed at the instant the worker acknowledges a task: Celery logs it as
    CRITICAL with a stack trace (seen once in the test above). The worker's log gets one
    warning line that says what happens next."""
    import io
    import logging

    import redis

    import workers.celery  # noqa: F401 - installs the worker's handling of a lost broker

    logger = logging.getLogger("celery.worker.request")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        try:
            raise redis.ConnectionError("Error while reading from 127.0.0.1:6379 : (104, "
                                        "'Connection reset by peer')")
        except redis.ConnectionError as exc:
            logger.critical("Couldn't ack %r, reason:%r", 7, exc, exc_info=True)
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.getvalue()
    assert lines[0].startswith("WARNING Couldn't ack 7") and "sweep restarts" in lines[0]


def test_acknowledging_after_the_broker_connection_closed_is_a_connection_error(redis_server):
    """kombu 5.7 built a Redis client from the closed connection to acknowledge a task
    (AttributeError: the worker exited with 'Unrecoverable error' mid-send, seen in the
    PostgreSQL-then-Redis fault test): a connection error instead, which the worker's
    acknowledgement logs in one line and Celery rides out."""
    import kombu
    import redis

    import workers.celery  # noqa: F401 - installs the worker's handling of a lost broker

    connection = kombu.Connection(redis_server.url)
    channel = connection.channel()
    connection.close()
    with pytest.raises(redis.ConnectionError):
        channel.qos.ack("a-delivery-tag")
