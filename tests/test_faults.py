"""Exactly once under faults: crashes, interruptions and slow servers, with real processes.

The SMTP server's own record is the judge: every recipient gets the release, and no more
copies go twice than messages were in flight on the open connections when the fault came
(two connections per batch).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from distribution.engine.batch import SMTP_CONNECTIONS, run_batch
from distribution.engine.lifecycle import activate_due
from distribution.engine.recovery.journal import FileJournal
from distribution.engine.sweep import sweep
from distribution.store.models import Contact, Delivery, Distribution, MailingList, Subscription
from tests.fixtures.builders import make_release, now_utc
from tests.fixtures.environment import process_environment
from tests.fixtures.services import wait_until
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import SmtpTestServer
from tests.fixtures.stores import Store


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def seed(store: Store, count: int) -> tuple[int, list[str]]:
    emails = [f"r{i}@example.org" for i in range(count)]
    with store.Session() as session, session.begin():
        release = make_release(session)
        members = MailingList(name="media", trusted=True)
        session.add(members)
        session.flush()
        session.execute(insert(Contact), [{"email": e, "name": e[:4]} for e in emails])
        chosen = select(Contact.id, members.id).where(Contact.email.in_(emails))
        session.execute(insert(Subscription).from_select(["contact_id", "list_id"], chosen))
        return release.id, emails


def statuses(store: Store) -> Counter[str]:
    with store.Session() as session:
        rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        return Counter({status.value: n for status, n in rows})


def duplicates(smtp: SmtpTestServer) -> int:
    got = Counter(a for m in smtp.messages for a in m.rcpt_tos)
    return sum(n - 1 for n in got.values())


def assert_everyone_once_or_in_flight(smtp: SmtpTestServer, store: Store,
                                      emails: list[str], *,
                                      connections: int = SMTP_CONNECTIONS) -> int:
    got = Counter(a for m in smtp.messages for a in m.rcpt_tos)
    assert set(got) == set(emails), f"{len(set(emails) - set(got))} recipients got nothing"
    assert statuses(store) == Counter(sent=len(emails))
    extra = duplicates(smtp)
    assert extra <= connections, f"{extra} duplicates; at most one per open connection"
    return extra


class Embedded:
    """`pressroom` commands without a broker, as an operator runs them."""

    def __init__(self, tmp_path: Path, store: Store, smtp: SmtpTestServer, *,
                 home: Path | None = None, **settings: str):
        self.workdir = tmp_path
        self.env = process_environment(home or tmp_path / "home")
        self.env.update({"PRESSROOM_DATABASE_URL": store.url, "PRESSROOM_SMTP_URL": smtp.url})
        self.env.update({f"PRESSROOM_{k.upper()}": v for k, v in settings.items()})
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        script = Path(sys.executable).with_name("pressroom")
        # Ctrl-C as at a terminal: a test run earlier in this process may have left SIGINT
        # ignored, which a child inherits (and then ignores Ctrl-C).
        proc = subprocess.Popen([str(script), *args], env=self.env, cwd=self.workdir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, preexec_fn=_default_sigint)
        self.procs.append(proc)
        return proc

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command run to its end, e.g. `status`."""
        proc = self.start(*args)
        stdout, stderr = proc.communicate(timeout=60)
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def embedded(tmp_path, sqlite_store, smtp_server):
    runs: list[Embedded] = []

    def make(store: Store = sqlite_store, home: Path | None = None,
             **settings: str) -> Embedded:
        runs.append(Embedded(tmp_path, store, smtp_server, home=home, **settings))
        return runs[-1]

    yield make
    for run in runs:
        run.stop_all()


def _finish_with_worker(run: Embedded, store: Store, emails: list[str]) -> float:
    """`pressroom worker` until every row is sent; returns how long it took."""
    started = time.monotonic()
    worker = run.start("worker")
    wait_until(lambda: statuses(store).get("sent", 0) == len(emails), timeout=90,
               what="the worker finished the distribution",
               explain=lambda: str(statuses(store)))
    took = time.monotonic() - started
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    return took


@pytest.mark.slow
def test_kill_9_of_an_embedded_send_duplicates_at_most_the_messages_in_flight(
        embedded, sqlite_store, smtp_server, tmp_path):
    """Killed between the server's replies and the group's commit: the journal in the data
    directory says which went out, and `pressroom worker` sends only the rest."""
    release_id, emails = seed(sqlite_store, 1500)
    run = embedded(claim_timeout_seconds="5", batch_size="500", commit_every="100")
    sending = run.start("send", str(release_id), "--list", "media", "--yes")
    smtp_server.wait_for(250, timeout=60)
    os.killpg(sending.pid, signal.SIGKILL)
    sending.wait(timeout=10)
    at_kill = len(smtp_server.messages)
    assert at_kill < len(emails), "the send finished before it could be killed"
    took = _finish_with_worker(run, sqlite_store, emails)
    extra = assert_everyone_once_or_in_flight(smtp_server, sqlite_store, emails)
    print(f"kill -9 of an embedded send after {at_kill}: {extra} duplicates, "
          f"complete {took:.1f} s after `pressroom worker` started")
    assert not list((tmp_path / "home" / "journal").glob("*.journal")), "journals left over"


@pytest.mark.slow
def test_ctrl_c_of_an_embedded_send_gives_back_at_once_and_says_what_to_run(
        embedded, sqlite_store, smtp_server):
    release_id, emails = seed(sqlite_store, 1500)
    run = embedded(batch_size="500", commit_every="100")
    sending = run.start("send", str(release_id), "--list", "media", "--yes")
    smtp_server.wait_for(250, timeout=60)
    os.killpg(sending.pid, signal.SIGINT)
    _, stderr = sending.communicate(timeout=30)
    assert sending.returncode == 130, stderr
    assert "run `pressroom worker`" in stderr
    # Nothing is left claimed: no lease to wait for; what the server took is sent.
    left = statuses(sqlite_store)
    assert "sending" not in left, left
    assert left["sent"] >= len(smtp_server.messages) - SMTP_CONNECTIONS
    # The operator runs the same send again: it finishes the interrupted distribution.
    started = time.monotonic()
    again = run.start("send", str(release_id), "--list", "media", "--yes")
    _, stderr = again.communicate(timeout=120)
    took = time.monotonic() - started
    assert again.returncode == 0, stderr
    assert "continuing it" in stderr
    extra = assert_everyone_once_or_in_flight(smtp_server, sqlite_store, emails)
    with sqlite_store.Session() as session:
        assert session.scalar(select(func.count(Distribution.id))) == 1
    print(f"Ctrl-C of an embedded send: {extra} duplicates, complete {took:.1f} s after "
          "`pressroom send` was run again")


@pytest.mark.slow
def test_a_live_batch_behind_a_very_slow_server_keeps_its_rows(store, smtp_server, tmp_path):
    """Each reply takes longer than the whole lease would; the heartbeat keeps the claims,
    so sweeps running all the while take nothing back and nothing goes twice."""
    settings = make_settings(tmp_path, store.url, smtp_url=smtp_server.url,
                             claim_timeout_seconds="5", commit_every="100")
    _, emails = seed(store, 12)
    with store.Session() as session, session.begin():
        from distribution.engine import dispatch

        dist, _ = dispatch.schedule(session, dispatch.plan(session, 1, ["media"]),
                                    now=now_utc())
        activate_due(session, now_utc(), 3600)
        distribution_id = dist.id
    smtp_server.slow_down(1.2)  # 6 messages a connection: 7 s for one group, lease 5 s
    batch = threading.Thread(target=run_batch, args=(store.Session, settings, distribution_id),
                             kwargs={"worker": "slow"})
    batch.start()
    taken_back = 0
    while batch.is_alive():
        taken_back += sweep(store.Session, settings).reclaimed
        time.sleep(0.5)
    batch.join()
    assert taken_back == 0
    assert_everyone_once_or_in_flight(smtp_server, store, emails)
    assert duplicates(smtp_server) == 0


def test_the_sweep_marks_journaled_rows_of_a_dead_batch_sent(store, tmp_path, smtp_server):
    """A batch died after the server accepted two of its three messages: the sweep reads
    its journal, so those two are sent (with the text each carried, where the line names
    it: a line written by an earlier version does not) and only the third goes out again."""
    from distribution.engine import claims, dispatch
    from distribution.engine.recovery.journal import Entry

    settings = make_settings(tmp_path, store.url, claim_timeout_seconds="5")
    seed(store, 3)
    with store.Session() as session, session.begin():
        dist, _ = dispatch.schedule(session, dispatch.plan(session, 1, ["media"]),
                                    now=now_utc())
        activate_due(session, now_utc(), 3600)
        rows = claims.claim(session, dist.id, 10, "dead/1", now_utc())
    journal = FileJournal(settings.journal_dir)
    writer = journal.writer("dead/1")
    writer.accepted(Entry(rows[0].id, f"<{rows[0].id}@x>", True, time.time(), 1))
    writer.close()
    with journal._path("dead/1").open("r+b") as old_line:
        old_line.seek(old_line.read().index(b"\0"))  # where the next line would go
        old_line.write(b"%d 1 %d <%d@x>\n" % (rows[1].id, time.time(), rows[1].id))
    assert oct(os.stat(journal._path("dead/1")).st_mode & 0o777) == "0o600"
    with store.Session() as session, session.begin():
        session.execute(Delivery.__table__.update().values(
            claimed_at=now_utc().replace(year=2000)))
    report = sweep(store.Session, settings, journal)
    assert report.reclaimed == 3
    with store.Session() as session:
        got = {r.id: (r.status.value, r.message_id, r.embargo_marked, r.version_id)
               for r in session.scalars(select(Delivery))}
        assert session.scalar(select(Distribution.status)).value == "sending"
    assert got == {rows[0].id: ("sent", f"<{rows[0].id}@x>", True, 1),
                   rows[1].id: ("sent", f"<{rows[1].id}@x>", True, None),
                   rows[2].id: ("pending", None, None, None)}
    assert not journal._path("dead/1").exists()


def test_recipients_always_deferred_never_pause_the_distribution(store, smtp_server, tmp_path):
    """10 of 40 answer 452 every time: they are retried on their own schedule while the
    rest go out; `status` names the reply; the distribution is not paused."""
    from distribution.engine import dispatch, status
    from distribution.engine.runner import deliver_due

    settings = make_settings(tmp_path, store.url, smtp_url=smtp_server.url,
                             commit_every="5", pause_after_errors="2")
    _, emails = seed(store, 40)
    for address in emails[:10]:  # two whole groups of nothing but deferrals
        smtp_server.answer(address, "452 4.2.2 Mailbox full, try later")
    with store.Session() as session, session.begin():
        dist, _ = dispatch.schedule(session, dispatch.plan(session, 1, ["media"]),
                                    now=now_utc())
        distribution_id = dist.id
    deliver_due(store.Session, settings, only=distribution_id)
    with store.Session() as session:
        info = status.describe(session, distribution_id)
    assert (info["status"], info["sent"], info["pending"]) == ("sending", 30, 10)
    assert info["deferred"] == 10
    assert info["deferred_by"] == "452 4.2.2 Mailbox full, try later"


def test_a_dropped_connection_is_one_error_of_the_sending_not_one_per_recipient(store):
    """A 421 at the end of DATA closes the connection and hands back the rest of the group:
    counted once toward pause_after_errors (per recipient, one drop paused a send)."""
    from distribution.engine.ledger import Result, RetryPolicy, record
    from distribution.transport import Outcome, OutcomeKind

    dropped = [Outcome(OutcomeKind.TEMPORARY, 421, "4.4.2 Connection dropped")]
    dropped += [Outcome(OutcomeKind.TEMPORARY, None, "connection lost")] * 19
    deferred = [Outcome(OutcomeKind.TEMPORARY, 452, "4.2.2 Mailbox full")] * 20
    refused = [Outcome(OutcomeKind.REFUSED, 554, "5.7.1 Message rejected as spam")] * 3
    policy = RetryPolicy(max_attempts=5, base_seconds=60, max_seconds=600)
    with store.Session() as session, session.begin():
        def errors(outcomes: list[Outcome]) -> int:
            results = [Result(i, f"r{i}@example.org", 1, f"<m{i}@x>", o)
                       for i, o in enumerate(outcomes, start=1)]
            return record(session, results, policy, now_utc(), {}, "batch").sending_errors
        assert errors(dropped) == 1
        assert errors(deferred) == 0  # each recipient's own retry schedule
        assert errors(refused) == 3   # our copy refused: each one counts


# With Celery: pool processes and workers killed


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _celery_finish(celery_workers, store: Store, emails: list[str], since: float) -> float:
    wait_until(lambda: statuses(store).get("sent", 0) == len(emails), timeout=120,
               what="every recipient sent", explain=lambda: f"{statuses(store)}\n"
               + celery_workers.tails())
    return time.monotonic() - since


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_kill_9_of_a_pool_process_heals_in_seconds(pg_store, smtp_server, celery_workers):
    _, emails = seed(pg_store, 3000)
    celery_workers.configure(database_url=pg_store.url, batch_size="200", commit_every="100",
                             claim_timeout_seconds="10")
    worker = celery_workers.worker("w1", concurrency=2)
    celery_workers.beat("beat")
    result = celery_workers.cli("send", "1", "--list", "media", "--yes")
    assert result.returncode == 0, result.stderr
    smtp_server.wait_for(500, timeout=60)
    os.kill(_children(worker.process.pid)[0], signal.SIGKILL)
    killed_at = time.monotonic()
    took = _celery_finish(celery_workers, pg_store, emails, killed_at)
    extra = assert_everyone_once_or_in_flight(smtp_server, pg_store, emails)
    print(f"kill -9 of a pool process: {extra} duplicates, complete {took:.1f} s after it")
    # The 10 s lease, then the rest: not the 30 s the dead chain's fan-out guard held out.
    assert took < 30


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_kill_9_of_the_whole_worker_heals_in_seconds_once_one_runs(
        pg_store, smtp_server, celery_workers):
    _, emails = seed(pg_store, 3000)
    celery_workers.configure(database_url=pg_store.url, batch_size="200", commit_every="100",
                             claim_timeout_seconds="10")
    doomed = celery_workers.worker("doomed", concurrency=2)
    celery_workers.beat("beat")
    result = celery_workers.cli("send", "1", "--list", "media", "--yes")
    assert result.returncode == 0, result.stderr
    smtp_server.wait_for(500, timeout=60)
    celery_workers.kill9(doomed)
    assert len(smtp_server.messages) < len(emails)
    restarted = time.monotonic()
    celery_workers.worker("survivor", concurrency=2)
    took = _celery_finish(celery_workers, pg_store, emails, restarted)
    # Two batches at work when it died, each with two connections: one message each.
    extra = assert_everyone_once_or_in_flight(smtp_server, pg_store, emails,
                                              connections=2 * SMTP_CONNECTIONS)
    print(f"kill -9 of the whole worker: {extra} duplicates, complete {took:.1f} s after "
          "the restart")


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_idle_pool_processes_hold_no_database_connection(pg_store, smtp_server, celery_workers):
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    _, emails = seed(pg_store, 300)
    celery_workers.configure(database_url=pg_store.url, batch_size="100")
    celery_workers.worker("w1", concurrency=4)
    celery_workers.beat("beat")
    result = celery_workers.cli("send", "1", "--list", "media", "--yes")
    assert result.returncode == 0, result.stderr
    _celery_finish(celery_workers, pg_store, emails, time.monotonic())
    pg_store.engine.dispose()
    probe = create_engine(pg_store.url, poolclass=NullPool)

    def others() -> int:
        with probe.connect() as conn:
            return conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"))

    # The last tasks hang up as they end; sweeps still run every second, and between
    # them nothing stays connected.
    wait_until(lambda: others() == 0, timeout=10, what="no worker connected")
    seen = []
    for _ in range(10):
        seen.append(others())
        time.sleep(0.3)
    assert min(seen) == 0 and max(seen) <= 1, seen


# PostgreSQL restarted under a running distribution: a private cluster of the test's own


class PrivatePostgres:
    """initdb + pg_ctl on a free port in a folder of its own (as the postgres user when
    run as root: PostgreSQL refuses to run as root). Never the shared server."""

    def __init__(self) -> None:
        import glob
        import shutil
        import tempfile

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            pytest.skip("pg_ctl is not installed")
        self.bin = Path(found[-1]).parent
        self.folder = Path(tempfile.mkdtemp(prefix="pressroom-pg-"))
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        from tests.fixtures.services import free_port

        self.port = free_port()
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True,
                       capture_output=True, timeout=120)

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                  "-o", options, "-w", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart_immediately(self) -> None:
        """As a crash would: no checkpoint, every connection cut."""
        self._ctl("restart", "-m", "immediate")

    def stop_immediately(self) -> None:
        """Down, as a crash or a lost host leaves it, until start()."""
        self._ctl("stop", "-m", "immediate")

    def remove(self) -> None:
        import shutil

        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_pg() -> Iterator[Store]:
    from distribution.store.db import make_engine, session_factory, upgrade

    server = PrivatePostgres()
    server.start()
    try:
        engine = make_engine(server.url)
        upgrade(engine)
        store = Store(server.url, engine, session_factory(engine))
        store.server = server  # type: ignore[attr-defined]
        yield store
        engine.dispose()
    finally:
        server.remove()


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_postgresql_restarted_mid_send_heals_in_seconds(private_pg, smtp_server,
                                                        celery_workers):
    _, emails = seed(private_pg, 3000)
    celery_workers.configure(database_url=private_pg.url, batch_size="200",
                             commit_every="100", claim_timeout_seconds="10")
    celery_workers.worker("w1", concurrency=2)
    celery_workers.beat("beat")
    result = celery_workers.cli("send", "1", "--list", "media", "--yes")
    assert result.returncode == 0, result.stderr
    smtp_server.wait_for(500, timeout=60)
    private_pg.server.restart_immediately()  # type: ignore[attr-defined]
    back = time.monotonic()
    assert len(smtp_server.messages) < len(emails)
    private_pg.engine.dispose()
    took = _celery_finish(celery_workers, private_pg, emails, back)
    # Both batches at work may lose their group's commit: one message per connection.
    extra = assert_everyone_once_or_in_flight(smtp_server, private_pg, emails,
                                              connections=2 * SMTP_CONNECTIONS)
    print(f"PostgreSQL restarted (immediate) mid-send: {extra} duplicates, complete "
          f"{took:.1f} s after it was back")
    assert took < 45


def _start_celery_send(store: Store, celery_workers, emails: list[str]) -> None:
    celery_workers.configure(database_url=store.url, batch_size="200", commit_every="100",
                             claim_timeout_seconds="10")
    celery_workers.worker("w1", concurrency=2)
    celery_workers.beat("beat")
    result = celery_workers.cli("send", "1", "--list", "media", "--yes")
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_postgresql_then_redis_restarted_mid_send_sends_nobody_twice(
        private_pg, smtp_server, celery_workers, redis_server):
    """The database goes away under live batches, then Redis restarts empty (no
    persistence: the batch journals in it are gone) before the database is back. The live
    batches keep the outcomes they know and record them once the database answers: the
    journal matters only when the process itself dies."""
    _, emails = seed(private_pg, 3000)
    _start_celery_send(private_pg, celery_workers, emails)
    smtp_server.wait_for(500, timeout=60)
    server = private_pg.server  # type: ignore[attr-defined]
    server.stop_immediately()
    at_stop = smtp_server.settled()  # nothing can be recorded: the batches stop sending
    assert at_stop < len(emails)
    redis_server.stop()
    celery_workers.wait_broker_lost()
    redis_server.start()
    server.start()
    back = time.monotonic()
    private_pg.engine.dispose()
    took = _celery_finish(celery_workers, private_pg, emails, back)
    print(f"PostgreSQL restarted, then Redis restarted, after {at_stop} of {len(emails)}: "
          f"{duplicates(smtp_server)} duplicates, complete {took:.1f} s after the database "
          "was back")
    assert_everyone_once_or_in_flight(smtp_server, private_pg, emails, connections=0)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_postgresql_down_for_30_seconds_mid_send_completes_soon_after(
        private_pg, smtp_server, celery_workers):
    _, emails = seed(private_pg, 3000)
    _start_celery_send(private_pg, celery_workers, emails)
    smtp_server.wait_for(500, timeout=60)
    server = private_pg.server  # type: ignore[attr-defined]
    server.stop_immediately()
    down = time.monotonic()
    at_stop = smtp_server.settled()  # the clients have seen it down: sending stopped
    # The outage itself lasts 30 s: what a restart after a crash or a failover may take.
    wait_until(lambda: time.monotonic() - down >= 30, timeout=60, interval=1,
               what="30 s of outage")
    server.start()
    back = time.monotonic()
    private_pg.engine.dispose()
    took = _celery_finish(celery_workers, private_pg, emails, back)
    # Each batch at work may lose the messages in flight on its two connections.
    extra = assert_everyone_once_or_in_flight(smtp_server, private_pg, emails,
                                              connections=2 * SMTP_CONNECTIONS)
    print(f"PostgreSQL down 30 s after {at_stop} of {len(emails)}: {extra} duplicates, "
          f"complete {took:.1f} s after it was back")
    assert took < 60


# A server busy for a moment (421)


def _attempts(store: Store) -> Counter[int]:
    with store.Session() as session:
        return Counter(session.scalars(select(Delivery.attempts)))


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_421_mid_transaction_costs_no_recipient_an_attempt(
        embedded, sqlite_store, smtp_server, stage):
    """The first four transactions are answered 421 (after RCPT, or after the data) and
    their connections closed: a server busy for a moment. With max_attempts 1, a counted
    attempt would fail the recipients; they are tried again after a wait, each counted
    once, and the send neither fails anyone nor pauses."""
    release_id, emails = seed(sqlite_store, 40)
    smtp_server.busy_for(4, at=stage)
    run = embedded(max_attempts="1", retry_base_seconds="1", retry_max_seconds="2",
                   pause_after_errors="5")
    started = time.monotonic()
    sending = run.start("send", str(release_id), "--list", "media", "--yes")
    _, stderr = sending.communicate(timeout=60)
    assert sending.returncode == 0, stderr
    after_send = statuses(sqlite_store)
    assert after_send["failed"] == 0, after_send
    assert after_send["pending"] > 0, "the 421s deferred nobody"
    _finish_with_worker(run, sqlite_store, emails)
    took = time.monotonic() - started
    assert _attempts(sqlite_store) == Counter({1: len(emails)})
    with sqlite_store.Session() as session:
        dist = session.scalars(select(Distribution)).one()
        assert (dist.status.value, dist.paused_reason) == ("done", None)
    extra = assert_everyone_once_or_in_flight(smtp_server, sqlite_store, emails,
                                              connections=0)
    print(f"421 at {stage} for the first 4 transactions, {len(emails)} recipients: "
          f"{after_send['pending']} deferred, {extra} duplicates, complete in {took:.1f} s")


# What `status` says of a batch that was killed


@pytest.mark.slow
def test_status_after_kill_9_says_in_flight_then_taken_back_and_what_to_do(
        embedded, sqlite_store, smtp_server):
    """Right after a kill -9 the dead batch's rows are in flight, with when they will be
    taken back should it have stopped; once its lease lapsed, they are shown as taken back
    at the next sweep, with what that does and what to run; `pressroom worker` then
    finishes the distribution."""
    release_id, emails = seed(sqlite_store, 1500)
    run = embedded(claim_timeout_seconds="5", batch_size="500", commit_every="100")
    sending = run.start("send", str(release_id), "--list", "media", "--yes")
    smtp_server.wait_for(250, timeout=60)
    os.killpg(sending.pid, signal.SIGKILL)
    sending.wait(timeout=10)

    claimed = statuses(sqlite_store)["sending"]
    assert claimed > 0, "the send ended before it could be killed"
    shown = json.loads(run.run("status", "--json").stdout)
    text = run.run("status").stdout
    assert (shown["in_flight"], shown["reclaimable"]) == (claimed, 0)
    since = datetime.fromisoformat(shown["in_flight_since"])
    lapses = datetime.fromisoformat(shown["lease_lapses_at"])
    assert (lapses - since).total_seconds() == 5
    assert f"in flight {claimed} since {shown['in_flight_since']}" in text
    assert f"taken back after {shown['lease_lapses_at']}, and nothing is lost" in text
    assert "taken back " + str(claimed) not in text

    wait_until(lambda: datetime.now(lapses.tzinfo) > lapses, timeout=30,
               what="the dead batch's lease lapsed")
    shown = json.loads(run.run("status", "--json").stdout)
    text = run.run("status").stdout
    assert (shown["in_flight"], shown["reclaimable"]) == (0, claimed)
    assert shown["lapsed_at"] == (since + timedelta(seconds=5)).isoformat()
    assert "in flight" not in text
    assert (f"taken back {claimed} at the next sweep: their batch stopped (its lease lapsed "
            f"at {shown['lapsed_at']})") in text
    assert "Nothing to do while `pressroom worker` runs; if none does, start it" in text

    took = _finish_with_worker(run, sqlite_store, emails)
    text = run.run("status").stdout
    assert "in flight" not in text and "taken back" not in text
    assert "status   done" in text
    extra = assert_everyone_once_or_in_flight(smtp_server, sqlite_store, emails)
    print(f"kill -9 with {claimed} claimed: {extra} duplicates, complete {took:.1f} s after "
          "`pressroom worker` started")


# A disk that fills up under an embedded send


class SmallDisk:
    """A tmpfs of a few megabytes, mounted for the test: a disk that really fills up."""

    def __init__(self, folder: Path, megabytes: int) -> None:
        folder.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700",
                        "tmpfs", str(folder)], check=True, capture_output=True, timeout=30)
        self.folder = folder
        self._filler = folder / "filler"

    def fill(self) -> None:
        """Take every free byte, as another program writing to the disk would."""
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        size = 1 << 20
        try:
            while size >= 512:
                try:
                    os.write(fd, bytes(size))
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    size //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink()

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", str(self.folder)], check=False, timeout=30)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[SmallDisk]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem takes root")
    disk = SmallDisk(tmp_path / "disk", megabytes=32)
    yield disk
    disk.unmount()


@pytest.fixture
def store_on_small_disk(small_disk) -> Iterator[Store]:
    from distribution.store.db import make_engine, session_factory, upgrade

    url = f"sqlite:///{small_disk.folder / 'pressroom.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield Store(url, engine, session_factory(engine))
    engine.dispose()


@pytest.mark.slow
def test_a_full_disk_stops_an_embedded_send_in_one_line_and_loses_nothing(
        small_disk, store_on_small_disk, embedded, smtp_server):
    """The data directory (database and batch journals) fills up mid-send: `pressroom
    send` stops with one line saying so and what to run; once there is space again,
    `pressroom worker` finishes, and only a message in flight may go twice."""
    store = store_on_small_disk
    release_id, emails = seed(store, 1500)
    run = embedded(store=store, home=small_disk.folder / "home", claim_timeout_seconds="5",
                   batch_size="500", commit_every="100")
    smtp_server.hold_replies_after(250)  # the sender stands still mid-group meanwhile
    sending = run.start("send", str(release_id), "--list", "media", "--yes")
    smtp_server.wait_for(250, timeout=60)
    small_disk.fill()
    smtp_server.release()
    _, stderr = sending.communicate(timeout=120)
    at_stop = len(smtp_server.messages)
    print(stderr)
    assert sending.returncode == 1, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and stderr.rstrip().endswith(errors[0]), stderr
    assert errors[0].startswith("Error: sending stopped: the database could not record the "
                                "results ((sqlite3.OperationalError) database or disk is full)")
    assert "Nothing is lost" in errors[0] and "run `pressroom worker`" in errors[0]
    assert at_stop < len(emails), "the send finished before the disk was full"

    small_disk.free()
    took = _finish_with_worker(run, store, emails)
    extra = assert_everyone_once_or_in_flight(smtp_server, store, emails)
    print(f"disk full after {at_stop} of {len(emails)}: {extra} duplicates, complete "
          f"{took:.1f} s after `pressroom worker` started")
