"""The embargo in real time: `pressroom worker` in a subprocess, a real SMTP server, a lift
~10 s after the send, judged by the SMTP server's own receive times."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest

from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.times import WhenParsed
from tests.fixtures.builders import addresses, make_list, make_release, now_utc
from tests.fixtures.embargo import arrivals as _arrivals
from tests.fixtures.environment import process_environment
from tests.fixtures.services import wait_until
from tests.fixtures.smtpd import parse

pytestmark = pytest.mark.slow

TRUSTED = addresses("media", 5)
PUBLIC = addresses("reader", 5)
LIFT_IN = 10      # seconds from the send to the lift
SLACK = 5         # the sweep runs every second; a batch takes well under a second here


@pytest.fixture
def worker(store, smtp_server, tmp_path) -> Iterator[subprocess.Popen]:
    """The embedded engine (no broker), sweeping every second, ready before the test goes on."""
    env = process_environment(tmp_path / "home", database_url=store.url,
                              smtp_url=smtp_server.url, sweep_seconds=1)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from distribution.cli import main; main()", "worker"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "polling" in log.read_text() or process.poll() is not None,
                   timeout=30, what="the worker polling", interval=0.05)
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


def _send_embargoed(store, lift_in: float) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(seconds=lift_in))
        make_list(session, "media", TRUSTED, trusted=True)
        make_list(session, "public", PUBLIC)
        dispatch.schedule(session, dispatch.plan(session, release.id, ["media", "public"]),
                          now=now_utc())
        return release.id, release.embargo_until.timestamp()


def test_no_public_copy_before_the_lift_every_trusted_copy_before_it(store, smtp_server,
                                                                      worker):
    _, lift = _send_embargoed(store, LIFT_IN)
    smtp_server.wait_for(len(TRUSTED) + len(PUBLIC), timeout=LIFT_IN + 20)
    trusted, public = _arrivals(smtp_server, TRUSTED), _arrivals(smtp_server, PUBLIC)
    assert len(trusted) == len(TRUSTED) and len(public) == len(PUBLIC)
    assert max(trusted) < lift
    assert min(public) >= lift
    assert max(public) <= lift + SLACK
    for received in smtp_server.messages:
        subject = parse(received)["Subject"]
        public_copy = received.rcpt_tos[0] in PUBLIC
        assert subject.startswith("EMBARGOED ") is not public_copy


def test_moving_the_lift_later_while_the_worker_runs(store, smtp_server, worker):
    release_id, first_lift = _send_embargoed(store, LIFT_IN)
    smtp_server.wait_for(len(TRUSTED), timeout=LIFT_IN)
    new_lift = now_utc() + timedelta(seconds=LIFT_IN)
    with store.Session() as session, session.begin():
        change_embargo(session, release_id, until=WhenParsed(new_lift, "Europe/Zurich", False),
                       now=now_utc())
    assert new_lift.timestamp() > first_lift
    # Each trusted recipient: the release, then the notice; each public one: the release.
    smtp_server.wait_for(2 * len(TRUSTED) + len(PUBLIC), timeout=LIFT_IN + 20)
    public = _arrivals(smtp_server, PUBLIC)
    assert len(public) == len(PUBLIC)
    assert min(public) >= new_lift.timestamp()
    assert max(public) <= new_lift.timestamp() + SLACK
    notices = [r for r in smtp_server.messages if "EMBARGO MOVED" in parse(r)["Subject"]]
    assert sorted(r.rcpt_tos[0] for r in notices) == sorted(TRUSTED)
    assert max(r.received_at for r in notices) < new_lift.timestamp()
