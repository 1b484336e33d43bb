"""The embargo in real time on Celery, Redis and PostgreSQL: two worker processes and a beat,
the operator's `pressroom send` and `pressroom release embargo` as subprocesses, a real SMTP
server, lifts 10-25 s after the send, judged by the SMTP server's own receive times."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from distribution.engine import status
from tests.fixtures.builders import addresses, make_list, make_release
from tests.fixtures.embargo import arrivals
from tests.fixtures.services import CeleryProcesses
from tests.fixtures.smtpd import Received, SmtpTestServer, parse
from tests.fixtures.stores import Store

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

TRUSTED = addresses("media", 20)
PUBLIC = addresses("reader", 20)
# Seconds from the send to the lift, and the same when an operator's command must fit in
# before it: on a busy two-core machine (three test processes and more) the first trusted
# copy came 10 s after the send, and a send plus a change took over 15 s.
LIFT_IN = 20
CHANGE_IN = 30
SLACK = 5         # beat sweeps every second; a batch of five takes well under a second here
ZONE = "Europe/Zurich"


@pytest.fixture
def engine(pg_store: Store, celery_workers: CeleryProcesses) -> CeleryProcesses:
    """Two workers and a beat on PostgreSQL, sweeping, before the release is made.

    Batches of five, so that each send is spread over several chains and both workers.
    """
    celery_workers.configure(database_url=pg_store.url, batch_size="5", commit_every="5")
    workers = [celery_workers.worker(name, concurrency=2, ready=False) for name in ("w1", "w2")]
    for worker in workers:
        celery_workers.wait_ready(worker)
    beat = celery_workers.beat("beat")
    celery_workers.wait_until(lambda: "Sending due task sweep" in beat.log.read_text(),
                              timeout=30, what="beat sends a sweep")
    return celery_workers


@dataclass(frozen=True)
class Sent:
    release_id: int
    distribution_id: int
    embargo_until: datetime

    @property
    def lift(self) -> float:
        """The lift as a POSIX timestamp, as the SMTP server's receive times are."""
        return self.embargo_until.timestamp()


def send_embargoed(store: Store, celery: CeleryProcesses, lift_in: float) -> Sent:
    """A release embargoed `lift_in` seconds ahead, sent to "media" (trusted) and "public"."""
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(seconds=lift_in))
        make_list(session, "media", TRUSTED, trusted=True)
        make_list(session, "public", PUBLIC)
        release_id, embargo_until = release.id, release.embargo_until
    result = celery.cli("send", str(release_id), "--list", "media", "--list", "public",
                        "--yes", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout)
    assert shown["queued"] is True and shown["recipients"] == len(TRUSTED) + len(PUBLIC)
    return Sent(release_id, int(shown["distribution_id"]), embargo_until)


def change_embargo(celery: CeleryProcesses, release_id: int, *flags: str) -> dict[str, Any]:
    result = celery.cli("release", "embargo", str(release_id), *flags, "--yes", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def described(store: Store, distribution_id: int) -> dict[str, Any]:
    """What `pressroom status ID` shows."""
    with store.Session() as session:
        return status.describe(session, distribution_id)


def wait_status(celery: CeleryProcesses, store: Store, distribution_id: int, wanted: str,
                timeout: float = 30) -> dict[str, Any]:
    celery.wait_until(lambda: described(store, distribution_id)["status"] == wanted,
                      timeout=timeout, what=f"distribution {distribution_id} {wanted}")
    return described(store, distribution_id)


def subject(received: Received) -> str:
    return str(parse(received)["Subject"])


def kind(received: Received) -> str:
    """Which message it is: a notice ("moved", "withdrawn") or a copy of the "release"."""
    title = subject(received)
    if "EMBARGO MOVED" in title:
        return "moved"
    if title.startswith("WITHDRAWN"):
        return "withdrawn"
    return "release"


def inbox(smtp: SmtpTestServer) -> dict[str, list[str]]:
    """What each recipient received, in the order the server received it."""
    return {address: [kind(m) for m in sorted(copies, key=lambda m: m.received_at)]
            for address, copies in smtp.by_recipient().items()}


def at(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S.%f")[:-3]


def timeline(smtp: SmtpTestServer, **moments: float) -> str:
    """The server's receive times next to the moments that matter, for a failure message."""
    lines = [f"{at(t)} {name}" for name, t in moments.items()]
    lines += [f"{at(m.received_at)} {','.join(m.rcpt_tos)}: {subject(m)[:60]}"
              for m in smtp.messages]
    return "\n".join(sorted(lines))


def test_two_workers_send_trusted_copies_before_the_lift_and_public_ones_after(
        pg_store, smtp_server, engine):
    sent = send_embargoed(pg_store, engine, LIFT_IN)
    shown = wait_status(engine, pg_store, sent.distribution_id, "done", timeout=LIFT_IN + 30)
    assert (shown["sent"], shown["held"], shown["pending"]) == (len(TRUSTED) + len(PUBLIC), 0, 0)

    times = timeline(smtp_server, LIFT=sent.lift)
    trusted, public = arrivals(smtp_server, TRUSTED), arrivals(smtp_server, PUBLIC)
    assert len(trusted) == len(TRUSTED) and len(public) == len(PUBLIC), times
    assert max(trusted) < sent.lift, times
    assert min(public) >= sent.lift, times
    assert max(public) <= sent.lift + SLACK, times
    assert inbox(smtp_server) == {address: ["release"] for address in TRUSTED + PUBLIC}, times
    for received in smtp_server.messages:
        public_copy = received.rcpt_tos[0] in PUBLIC
        assert subject(received).startswith("EMBARGOED ") is not public_copy


def test_moving_the_lift_later_while_the_workers_run(pg_store, smtp_server, engine):
    sent = send_embargoed(pg_store, engine, CHANGE_IN)
    smtp_server.wait_for(len(TRUSTED), timeout=max(0.0, sent.lift - time.time()))
    new_lift = sent.embargo_until + timedelta(seconds=LIFT_IN)
    local = new_lift.astimezone(ZoneInfo(ZONE))
    report = change_embargo(engine, sent.release_id,
                            "--until", f"{local:%Y-%m-%d %H:%M:%S.%f} {ZONE}")
    changed_at = time.time()
    assert changed_at < sent.lift, "the move came after the first lift: nothing to test"
    assert datetime.fromisoformat(report["embargo_until"]) == new_lift
    assert report["embargo_zone"] == ZONE
    assert (report["change"], report["notified"], report["held"]) == (
        "moved", len(TRUSTED), len(PUBLIC))
    assert [d["queued"] for d in report["delivery"]] == [True]

    wait_status(engine, pg_store, report["notice_id"], "done", timeout=SLACK + 10)
    shown = wait_status(engine, pg_store, sent.distribution_id, "done", timeout=CHANGE_IN + 30)
    assert (shown["sent"], shown["held"]) == (len(TRUSTED) + len(PUBLIC), 0)

    lift = new_lift.timestamp()
    times = timeline(smtp_server, FIRST_LIFT=sent.lift, MOVED=changed_at, NEW_LIFT=lift)
    public = arrivals(smtp_server, PUBLIC)
    assert len(public) == len(PUBLIC), times
    assert min(public) >= lift, times
    assert max(public) <= lift + SLACK, times
    # Each trusted recipient: the release, then the notice; each public one: the release.
    assert inbox(smtp_server) == {**{address: ["release", "moved"] for address in TRUSTED},
                                  **{address: ["release"] for address in PUBLIC}}, times
    notices = [m for m in smtp_server.messages if kind(m) == "moved"]
    assert max(m.received_at for m in notices) <= changed_at + SLACK, times
    for received in smtp_server.messages:
        if kind(received) == "release":
            public_copy = received.rcpt_tos[0] in PUBLIC
            assert subject(received).startswith("EMBARGOED ") is not public_copy


def test_withdrawing_before_the_lift_sends_the_public_nothing(pg_store, smtp_server, engine):
    sent = send_embargoed(pg_store, engine, CHANGE_IN)
    smtp_server.wait_for(len(TRUSTED), timeout=max(0.0, sent.lift - time.time()))
    report = change_embargo(engine, sent.release_id, "--withdraw")
    withdrawn_at = time.time()
    assert withdrawn_at < sent.lift, "the withdrawal came after the lift: nothing to test"
    assert (report["change"], report["notified"], report["cancelled_deliveries"]) == (
        "withdrawn", len(TRUSTED), len(PUBLIC))
    assert report["cancelled_distributions"] == [sent.distribution_id]

    wait_status(engine, pg_store, report["notice_id"], "done", timeout=SLACK + 10)
    # Through the lift and the few seconds its public copies would have taken.
    time.sleep(max(0.0, sent.lift + SLACK - time.time()))

    times = timeline(smtp_server, WITHDRAWN=withdrawn_at, LIFT=sent.lift)
    assert arrivals(smtp_server, PUBLIC) == [], times
    assert inbox(smtp_server) == {address: ["release", "withdrawn"] for address in TRUSTED}, times
    notices = [m for m in smtp_server.messages if kind(m) == "withdrawn"]
    assert max(m.received_at for m in notices) <= withdrawn_at + SLACK, times
    shown = described(pg_store, sent.distribution_id)
    assert (shown["status"], shown["sent"], shown["cancelled"], shown["held"],
            shown["pending"]) == ("cancelled", len(TRUSTED), len(PUBLIC), 0, 0)
