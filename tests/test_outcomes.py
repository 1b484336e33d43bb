"""What the SMTP server's answers and troubles do to deliveries and distributions."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import select, update

from distribution.accountability.log import entries
from distribution.engine import claims, dispatch
from distribution.engine.batch import run_batch
from distribution.engine.lifecycle import activate_due
from distribution.engine.ratelimit import LocalBuckets, RateLimiter
from distribution.engine.runner import deliver_due
from distribution.store.models import Delivery, Distribution, DistributionStatus, Suppression
from distribution.transport import OutcomeKind
from distribution.transport.replies import Stage, classify
from tests.fixtures.builders import addresses, make_list, make_release, now_utc
from tests.fixtures.settings import make_settings

K = OutcomeKind


@pytest.mark.parametrize(("stage", "reply", "kind"), [
    (Stage.BODY, "250 2.0.0 Ok: queued as 4XyZ", K.SENT),
    (Stage.RCPT, "450 4.2.0 Mailbox busy", K.TEMPORARY),
    (Stage.RCPT, "451 4.7.1 Greylisted, try again", K.TEMPORARY),
    # The address is bad: suppress it.
    (Stage.RCPT, "550 5.1.1 No such user", K.PERMANENT),
    (Stage.RCPT, "550 No such user here", K.PERMANENT),
    (Stage.RCPT, "550 5.1.10 Recipient domain has a null MX", K.PERMANENT),
    (Stage.RCPT, "550 5.2.1 Mailbox disabled", K.PERMANENT),
    (Stage.BODY, "550 5.1.1 User unknown", K.PERMANENT),
    # Policy or content: fail this copy, keep the address.
    (Stage.RCPT, "550 5.7.1 Message rejected as spam", K.REFUSED),
    (Stage.RCPT, "554 5.7.1 <r@x.org>: Recipient address rejected: Access denied", K.REFUSED),
    (Stage.BODY, "554 5.7.1 Message refused", K.REFUSED),
    (Stage.BODY, "552 5.2.2 Mailbox full", K.REFUSED),
    (Stage.BODY, "552 5.3.4 Message too big", K.REFUSED),
    (Stage.BODY, "554 Transaction failed", K.REFUSED),
    (Stage.DATA, "554 5.5.1 No valid recipients", K.REFUSED),
    # Our own sending is refused: pause, blame no recipient.
    (Stage.MAIL, "550 5.1.0 Sender rejected", K.SENDER_REJECTED),
    (Stage.RCPT, "554 5.7.1 <r@x.org>: Relay access denied", K.SENDER_REJECTED),
    (Stage.RCPT, "554 5.7.1 <p@x.org>: Sender address rejected: Access denied",
     K.SENDER_REJECTED),
    (Stage.RCPT, "554 5.7.1 <h>: Client host rejected: Access denied", K.SENDER_REJECTED),
    (Stage.BODY, "550 5.7.26 Unauthenticated email is not accepted (DMARC)", K.SENDER_REJECTED),
    (Stage.RCPT, "530 5.7.0 Authentication required", K.SENDER_REJECTED),
    # An enhanced code that disagrees with the reply code is ignored.
    (Stage.BODY, "554 4.1.1 odd", K.REFUSED),
])
def test_replies_are_read_by_their_enhanced_status_codes(stage, reply, kind):
    code, text = int(reply[:3]), reply[4:]
    outcome = classify(stage, code, text)
    assert (outcome.kind, outcome.code, outcome.text) == (kind, code, text)


def _send(store, lists, **release):
    with store.Session() as session, session.begin():
        release_id = make_release(session, **release).id
        dist, _ = dispatch.schedule(session, dispatch.plan(session, release_id, lists),
                                    now=now_utc())
        return dist.id


def _rows(store, distribution_id) -> dict[str, Delivery]:
    with store.Session() as session:
        rows = session.scalars(select(Delivery).where(Delivery.distribution_id
                                                       == distribution_id))
        return {row.email: row for row in rows}


def _distribution(store, distribution_id) -> Distribution:
    with store.Session() as session:
        return session.get_one(Distribution, distribution_id)


def _suppressed(store) -> list[str]:
    with store.Session() as session:
        return sorted(session.scalars(select(Suppression.email)))


def test_a_policy_refusal_fails_the_copy_but_keeps_the_address(store, smtp_server, tmp_path):
    smtp_server.answer("filtered@example.org", "550 5.7.1 Message rejected as spam")
    smtp_server.answer("gone@example.org", "550 5.1.1 No such user")
    with store.Session() as session, session.begin():
        make_list(session, "media", ["filtered@example.org", "gone@example.org",
                                     "ok@example.org"])
    distribution_id = _send(store, ["media"])
    deliver_due(store.Session, make_settings(tmp_path, store.url, smtp_url=smtp_server.url))
    rows = _rows(store, distribution_id)
    assert {email: row.status.value for email, row in rows.items()} == {
        "filtered@example.org": "failed", "gone@example.org": "failed",
        "ok@example.org": "sent"}
    assert "rejected as spam" in rows["filtered@example.org"].last_error
    assert _suppressed(store) == ["gone@example.org"]
    # The next release reaches the filtered address again.
    assert "filtered@example.org" in _rows(store, _send(store, ["media"]))


def test_each_delivery_keeps_the_servers_reply(store, smtp_server, tmp_path):
    smtp_server.answer("busy@example.org", "450 4.2.0 Mailbox busy")
    with store.Session() as session, session.begin():
        make_list(session, "media", ["ok@example.org", "busy@example.org"])
    distribution_id = _send(store, ["media"])
    deliver_due(store.Session, make_settings(tmp_path, store.url, smtp_url=smtp_server.url))
    rows = _rows(store, distribution_id)
    sent, busy = rows["ok@example.org"], rows["busy@example.org"]
    assert (sent.smtp_code, sent.smtp_reply, sent.last_error) == (250, "2.0.0 OK queued", None)
    assert (busy.smtp_code, busy.smtp_reply) == (450, "4.2.0 Mailbox busy")
    assert busy.status.value == "pending" and busy.next_attempt_at is not None


def test_a_sender_rejected_at_rcpt_pauses_and_suppresses_no_one(store, smtp_server, tmp_path):
    for address in addresses("p", 3):
        smtp_server.answer(address, "554 5.7.1 <press@x>: Sender address rejected: "
                                    "Access denied")
    with store.Session() as session, session.begin():
        make_list(session, "media", addresses("p", 3))
    distribution_id = _send(store, ["media"])
    deliver_due(store.Session, make_settings(tmp_path, store.url, smtp_url=smtp_server.url))
    dist = _distribution(store, distribution_id)
    assert dist.status == DistributionStatus.PAUSED
    assert "Sender address rejected" in dist.paused_reason
    assert {row.status.value for row in _rows(store, distribution_id).values()} == {"pending"}
    assert _suppressed(store) == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_that_is_down_is_waited_for_and_status_says_so(store, smtp_server, tmp_path,
                                                                 cli):
    with store.Session() as session, session.begin():
        make_list(session, "media", addresses("w", 3))
    distribution_id = _send(store, ["media"])
    down = make_settings(tmp_path, store.url, smtp_url=f"smtp://127.0.0.1:{_closed_port()}")
    report = deliver_due(store.Session, down)
    assert report.server_down and "unreachable" in report.stopped
    dist = _distribution(store, distribution_id)
    assert dist.status == DistributionStatus.SENDING
    assert "SMTP server unreachable" in dist.waiting_reason and dist.waiting_since
    rows = _rows(store, distribution_id).values()
    assert {(r.status.value, r.attempts) for r in rows} == {("pending", 0)}
    cli.env["PRESSROOM_DATABASE_URL"] = store.url
    shown = cli("status", str(distribution_id))
    assert shown.exit_code == 0 and "waiting  since" in shown.stdout
    assert "unreachable" in shown.stdout
    # The server is back: once mail flows, the distribution no longer says it waits.
    with store.Session() as session, session.begin():
        session.execute(update(Delivery).values(next_attempt_at=None))
    deliver_due(store.Session, make_settings(tmp_path, store.url, smtp_url=smtp_server.url))
    dist = _distribution(store, distribution_id)
    assert dist.status == DistributionStatus.DONE and dist.waiting_reason is None
    assert len(smtp_server.messages) == 3


def test_a_login_that_cannot_work_pauses_with_the_reason(store, smtp_server, tmp_path):
    with store.Session() as session, session.begin():
        make_list(session, "media", addresses("l", 2))
    distribution_id = _send(store, ["media"])
    # A user but no TLS and a server without AUTH: waiting will not mend this.
    url = f"smtp://press:secret@127.0.0.1:{smtp_server.port}?starttls=no"
    report = deliver_due(store.Session, make_settings(tmp_path, store.url, smtp_url=url))
    assert not report.server_down
    dist = _distribution(store, distribution_id)
    assert dist.status == DistributionStatus.PAUSED
    assert "does not offer AUTH" in dist.paused_reason
    with store.Session() as session:
        assert [e.summary for e in entries(session) if e.action == "send.paused"] == [
            f"paused by the engine: {dist.paused_reason}"]
    rows = _rows(store, distribution_id).values()
    assert {(r.status.value, r.attempts, r.next_attempt_at) for r in rows} == {
        ("pending", 0, None)}
    assert smtp_server.messages == []


def test_rows_reaped_while_a_batch_waits_for_the_rate_limit_are_not_sent_twice(
        store, smtp_server, tmp_path):
    """A batch outlives its claim timeout waiting for the limiter; meanwhile the reaper hands
    its later rows to another worker. Those rows are the other worker's: not sent here."""
    settings = make_settings(tmp_path, store.url, smtp_url=smtp_server.url,
                             commit_every="2", claim_timeout_seconds="5")
    with store.Session() as session, session.begin():
        make_list(session, "media", addresses("r", 4))
    distribution_id = _send(store, ["media"])
    with store.Session() as session, session.begin():
        activate_due(session, now_utc(), 3600)
    taken: list[int] = []

    def slow_wait(seconds: float) -> None:
        # Longer than a quarter of the claim timeout: the batch renews its claims after it.
        time.sleep(1.3)
        if smtp_server.messages and not taken:
            # Meanwhile the reaper returned this batch's claims and another worker took them.
            with store.Session() as session, session.begin():
                session.execute(update(Delivery).where(Delivery.status == "sending")
                                .values(status="pending", claimed_by=None, claimed_at=None))
                taken.extend(c.id for c in claims.claim(session, distribution_id, 10,
                                                        "other", now_utc()))

    # Two messages a group (commit_every, and a second of the limit) at two a second: the
    # second group waits about a second.
    limiter = RateLimiter(LocalBuckets(), rate=2.0, sleep=slow_wait)
    report = run_batch(store.Session, settings, distribution_id, worker="slow",
                       limiter=limiter)
    assert report.tally.sent == len(smtp_server.messages) == 2
    assert len(taken) == 2
    rows = _rows(store, distribution_id).values()
    sent = {r.email for r in rows if r.status.value == "sent"}
    assert {m.rcpt_tos[0] for m in smtp_server.messages} == sent
    assert {(r.status.value, r.claimed_by) for r in rows if r.id in taken} == {
        ("sending", "other")}
