"""The delivery engine without a broker: ledger, claims, outcomes, embargo at send time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from distribution.accountability.log import entries
from distribution.engine import claims, dispatch, lifecycle
from distribution.engine.batch import run_batch
from distribution.engine.recovery.journal import NoJournal
from distribution.engine.runner import deliver_due
from distribution.errors import InvalidInput
from distribution.store.models import (
    Delivery,
    DeliveryStatus,
    Distribution,
    DistributionStatus,
    SubscriptionStatus,
    Suppression,
)
from tests.fixtures.builders import addresses, make_list, make_release, now_utc
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import parse


def _send(store, release_id, lists, **kwargs):
    with store.Session() as session, session.begin():
        plan = dispatch.plan(session, release_id, lists)
        dist, rows = dispatch.schedule(session, plan, now=now_utc(), **kwargs)
    return dist.id, rows


def _statuses(store, distribution_id):
    with store.Session() as session:
        rows = session.execute(select(Delivery.email, Delivery.status)
                               .where(Delivery.distribution_id == distribution_id))
        return {email: status.value for email, status in rows}


def _smtp_settings(tmp_path, store, server, **overrides):
    return make_settings(tmp_path, store.url, smtp_url=server.url, **overrides)


def test_each_recipient_once_across_lists_without_suppressed_or_unsubscribed(store):
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["a@example.org", "b@example.org", "gone@example.org"],
                  trusted=True)
        make_list(session, "public", ["b@example.org", "c@example.org"])
        make_list(session, "left", ["d@example.org"], status=SubscriptionStatus.UNSUBSCRIBED)
        session.add(Suppression(email="gone@example.org", reason="550 no such user"))
    distribution_id, rows = _send(store, release.id, ["media", "public", "left"])
    assert rows == 3
    assert set(_statuses(store, distribution_id)) == {"a@example.org", "b@example.org",
                                                      "c@example.org"}
    with store.Session() as session:
        trusted = {e: t for e, t in session.execute(select(Delivery.email, Delivery.trusted))}
    # b is on a trusted and a public list: the office vetted them, so trusted.
    assert trusted == {"a@example.org": True, "b@example.org": True, "c@example.org": False}


def test_embedded_run_delivers_every_recipient_once(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server, batch_size="7", commit_every="3")
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("j", 20), trusted=True)
    distribution_id, _ = _send(store, release.id, ["media"])
    report = deliver_due(store.Session, settings)
    assert report.tally.sent == 20
    received = smtp_server.by_recipient()
    assert sorted(received) == sorted(addresses("j", 20))
    assert all(len(copies) == 1 for copies in received.values())
    assert set(_statuses(store, distribution_id).values()) == {"sent"}
    message = parse(received["j3@example.org"][0])
    assert message["Message-ID"].endswith("@iiim.example.org>")
    with store.Session() as session:
        dist = session.get(Distribution, distribution_id)
        assert dist.status == DistributionStatus.DONE
        assert dist.release.status.value == "sent"
        row = session.scalars(select(Delivery).where(Delivery.email == "j3@example.org")).one()
        assert row.message_id == message["Message-ID"]
        assert row.smtp_code == 250 and row.attempts == 1 and row.sent_at is not None


def test_temporary_failure_is_retried_later_then_sent(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    smtp_server.answer("busy@example.org", "450 4.2.1 Mailbox busy, try later", times=1)
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["busy@example.org", "ok@example.org"])
    distribution_id, _ = _send(store, release.id, ["media"])
    deliver_due(store.Session, settings)
    with store.Session() as session:
        row = session.scalars(select(Delivery).where(Delivery.email == "busy@example.org")).one()
        assert row.status == DeliveryStatus.PENDING
        assert row.attempts == 1 and row.smtp_code == 450
        assert row.next_attempt_at > now_utc() + timedelta(seconds=30)
        assert "Mailbox busy" in row.last_error
    # The retry time comes (moved into the past rather than waiting a minute).
    with store.Session() as session, session.begin():
        session.execute(update(Delivery).values(next_attempt_at=now_utc() - timedelta(seconds=1)))
    deliver_due(store.Session, settings)
    assert _statuses(store, distribution_id) == {"busy@example.org": "sent",
                                                 "ok@example.org": "sent"}
    assert len(smtp_server.by_recipient()["busy@example.org"]) == 1


def test_temporary_failures_give_up_after_max_attempts(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server, max_attempts="2")
    smtp_server.answer("busy@example.org", "451 4.3.0 Try again", times=10)
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["busy@example.org"])
    distribution_id, _ = _send(store, release.id, ["media"])
    for _ in range(2):
        deliver_due(store.Session, settings)
        with store.Session() as session, session.begin():
            session.execute(update(Delivery).values(next_attempt_at=None))
    assert _statuses(store, distribution_id) == {"busy@example.org": "failed"}


def test_permanent_failure_fails_and_suppresses_the_address(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    smtp_server.answer("nobody@example.org", "550 5.1.1 No such user")
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["nobody@example.org", "ok@example.org"])
    distribution_id, _ = _send(store, release.id, ["media"])
    deliver_due(store.Session, settings)
    assert _statuses(store, distribution_id) == {"nobody@example.org": "failed",
                                                 "ok@example.org": "sent"}
    with store.Session() as session:
        suppression = session.scalars(select(Suppression)).one()
        assert suppression.email == "nobody@example.org"
        assert "No such user" in suppression.reason
    # The next distribution skips the suppressed address, even sent --again.
    _, rows = _send(store, release.id, ["media"], again=True)
    assert rows == 1


def test_sender_rejection_pauses_instead_of_suppressing_everyone(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    smtp_server.reject_sender("550 5.7.1 Sender not authorised")
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("r", 5))
    distribution_id, _ = _send(store, release.id, ["media"])
    deliver_due(store.Session, settings)
    assert set(_statuses(store, distribution_id).values()) == {"pending"}
    with store.Session() as session:
        dist = session.get(Distribution, distribution_id)
        assert dist.status == DistributionStatus.PAUSED
        assert "refused the sender" in dist.paused_reason and "5.7.1" in dist.paused_reason
        assert session.scalars(select(Suppression)).all() == []
        assert {d.attempts for d in session.scalars(select(Delivery))} == {0}
        logged = [(e.actor_kind, e.action, e.object) for e in entries(session)]
        assert logged == [("system", "send.started", f"distribution {distribution_id}"),
                          ("system", "send.paused", f"distribution {distribution_id}")]


def test_server_down_leaves_everything_pending_then_completes(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("p", 4))
    distribution_id, _ = _send(store, release.id, ["media"])
    smtp_server.stop()
    report = deliver_due(store.Session, settings)
    assert report.stopped and "unreachable" in report.stopped
    assert set(_statuses(store, distribution_id).values()) == {"pending"}
    smtp_server.start()
    with store.Session() as session, session.begin():
        session.execute(update(Delivery).values(next_attempt_at=None))
    deliver_due(store.Session, settings)
    assert set(_statuses(store, distribution_id).values()) == {"sent"}
    assert len(smtp_server.messages) == 4


def test_concurrent_claims_never_share_a_delivery(store, tmp_path):
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("c", 30))
    distribution_id, _ = _send(store, release.id, ["media"])
    with store.Session() as session, session.begin():
        lifecycle.activate_due(session, now_utc(), 3600)
    taken = []
    for worker in ("w1", "w2", "w3", "w4"):
        with store.Session() as session, session.begin():
            taken.append({c.id for c in claims.claim(session, distribution_id, 10, worker,
                                                     now_utc())})
    assert [len(t) for t in taken] == [10, 10, 10, 0]
    assert len(set().union(*taken)) == 30


def test_stale_claims_return_to_pending(store):
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("s", 3))
    distribution_id, _ = _send(store, release.id, ["media"])
    with store.Session() as session, session.begin():
        lifecycle.activate_due(session, now_utc(), 3600)
        claims.claim(session, distribution_id, 10, "dead-worker", now_utc() - timedelta(hours=1))
    with store.Session() as session, session.begin():
        # An hour on: a lease also counts from the database server's start, maybe recent.
        later = now_utc() + timedelta(hours=1)
        assert claims.return_stale(session, later, 600, NoJournal())[0] == 3
    assert set(_statuses(store, distribution_id).values()) == {"pending"}


def test_public_recipients_are_held_and_trusted_get_marked_copies(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "media", ["trusted@example.org"], trusted=True)
        make_list(session, "public", ["public@example.org"])
    distribution_id, _ = _send(store, release.id, ["media", "public"])
    deliver_due(store.Session, settings)
    assert _statuses(store, distribution_id) == {"trusted@example.org": "sent",
                                                 "public@example.org": "held"}
    marked = parse(smtp_server.messages[0])
    assert marked["Subject"].startswith("EMBARGOED ")
    # The embargo lifts: the held recipient gets an unmarked copy.
    with store.Session() as session, session.begin():
        session.execute(update(type(release)).values(embargo_until=now_utc()
                                                     - timedelta(seconds=1)))
    deliver_due(store.Session, settings)
    assert _statuses(store, distribution_id)["public@example.org"] == "sent"
    public = parse(smtp_server.by_recipient()["public@example.org"][0])
    assert "EMBARGO" not in public["Subject"]
    assert "EMBARGO" not in public.get_body(("plain",)).get_content()


def test_a_public_row_that_reaches_the_batch_early_is_held_again(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "public", ["public@example.org"])
    distribution_id, _ = _send(store, release.id, ["public"])
    # Whatever the queue holds (a bug, a manual fix): the batch itself checks the rule.
    with store.Session() as session, session.begin():
        session.execute(update(Delivery).values(status="pending"))
        lifecycle.activate_due(session, now_utc(), 3600)
    report = run_batch(store.Session, settings, distribution_id, worker="t")
    assert report.held_back == 1
    assert smtp_server.messages == []
    assert _statuses(store, distribution_id) == {"public@example.org": "held"}


def test_scheduled_send_waits_and_late_send_waits_for_resume(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server, lateness_seconds="60")
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["a@example.org"])
    later, _ = _send(store, release.id, ["media"], send_at=now_utc() + timedelta(hours=1))
    deliver_due(store.Session, settings)
    assert smtp_server.messages == []
    # The service was down: the send time passed long ago.
    with store.Session() as session, session.begin():
        session.execute(update(Distribution).values(send_at=now_utc() - timedelta(hours=2)))
    deliver_due(store.Session, settings)
    assert smtp_server.messages == []
    with store.Session() as session, session.begin():
        dist = session.get(Distribution, later)
        assert dist.status == DistributionStatus.PAUSED and "late" in dist.paused_reason
        lifecycle.resume(session, later, now_utc())
    deliver_due(store.Session, settings)
    assert len(smtp_server.messages) == 1


def test_cancel_stops_what_is_not_yet_sent(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("x", 5))
    distribution_id, _ = _send(store, release.id, ["media"], send_at=now_utc()
                               + timedelta(minutes=5))
    with store.Session() as session, session.begin():
        assert lifecycle.cancel(session, distribution_id, now_utc()) == 5
    deliver_due(store.Session, settings)
    assert smtp_server.messages == []
    assert set(_statuses(store, distribution_id).values()) == {"cancelled"}


def test_a_recipient_whose_message_cannot_be_built_fails_alone(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["ok@example.org", "jörg@exämple.org"])
    distribution_id, _ = _send(store, release.id, ["media"])
    deliver_due(store.Session, settings)
    assert _statuses(store, distribution_id) == {"ok@example.org": "sent",
                                                 "jörg@exämple.org": "failed"}
    with store.Session() as session:
        row = session.scalars(select(Delivery).where(Delivery.email == "jörg@exämple.org")).one()
        assert "cannot build the message" in row.last_error
        # Our own limitation is not the recipient's fault: the address is not suppressed.
        assert session.scalars(select(Suppression)).all() == []


def test_a_message_no_one_can_get_pauses_the_send_with_the_reason(store, smtp_server,
                                                                   tmp_path):
    """A site template broken after the send was recorded: paused, nothing left claimed."""
    folder = tmp_path / "site-templates"
    folder.mkdir()
    (folder / "_footer.txt.j2").write_text("\n{{ unsubscribe_url | lower }}\n", "utf-8")
    settings = _smtp_settings(tmp_path, store, smtp_server, templates_dir=str(folder))
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["a@example.org", "b@example.org"])
    distribution_id, _ = _send(store, release.id, ["media"])
    deliver_due(store.Session, settings)
    assert set(_statuses(store, distribution_id).values()) == {"pending"}
    with store.Session() as session:
        dist = session.get_one(Distribution, distribution_id)
        assert dist.status is DistributionStatus.PAUSED
        assert "per-recipient link" in (dist.paused_reason or "")
        assert session.scalar(select(Delivery.id).where(Delivery.claimed_by.is_not(None))) is None
    assert smtp_server.messages == []


def test_relay_denied_at_rcpt_pauses_instead_of_suppressing(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    for address in addresses("q", 3):
        smtp_server.answer(address, "554 5.7.1 <x>: Relay access denied")
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("q", 3))
    distribution_id, _ = _send(store, release.id, ["media"])
    deliver_due(store.Session, settings)
    assert set(_statuses(store, distribution_id).values()) == {"pending"}
    with store.Session() as session:
        assert session.get(Distribution, distribution_id).status == DistributionStatus.PAUSED
        assert session.scalars(select(Suppression)).all() == []


def test_a_corrected_release_cannot_be_sent_in_its_old_version(store):
    with store.Session() as session, session.begin():
        old = make_release(session)
        new = make_release(session, headline="Corrected", corrects_id=old.id)
        make_list(session, "media", ["a@example.org"])
    with store.Session() as session, pytest.raises(InvalidInput,
                                                   match=f"corrected by release {new.id}"):
        dispatch.plan(session, old.id, ["media"])


def test_a_lift_found_long_after_it_passed_waits_for_resume(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server, lateness_seconds="60")
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "public", ["public@example.org"])
    distribution_id, _ = _send(store, release.id, ["public"])
    deliver_due(store.Session, settings)
    # The service was down across the lift: it is found two hours late.
    with store.Session() as session, session.begin():
        session.execute(update(type(release)).values(embargo_until=now_utc()
                                                     - timedelta(hours=2)))
    deliver_due(store.Session, settings)
    assert smtp_server.messages == []
    with store.Session() as session, session.begin():
        dist = session.get(Distribution, distribution_id)
        assert dist.status == DistributionStatus.PAUSED and "late" in dist.paused_reason
        lifecycle.resume(session, distribution_id, now_utc())
    deliver_due(store.Session, settings)
    assert _statuses(store, distribution_id) == {"public@example.org": "sent"}


def test_a_release_nobody_received_is_not_marked_sent(store, smtp_server, tmp_path):
    settings = _smtp_settings(tmp_path, store, smtp_server)
    smtp_server.answer("nobody@example.org", "550 5.1.1 No such user")
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["nobody@example.org"])
    distribution_id, _ = _send(store, release.id, ["media"])
    deliver_due(store.Session, settings)
    with store.Session() as session:
        dist = session.get(Distribution, distribution_id)
        assert dist.status == DistributionStatus.DONE
        assert dist.release.status.value != "sent" and dist.release.first_sent_at is None


@settings_(max_examples=25, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(embargo_minutes=st.none() | st.integers(-180, 180), trusted=st.lists(st.booleans(),
                                                                          min_size=1, max_size=6))
def test_new_rows_hold_exactly_the_public_recipients_of_an_unlifted_embargo(
        sqlite_store, embargo_minutes, trusted):
    """The SQL rule in audience.create_deliveries, for any embargo and any audience."""
    with sqlite_store.Session() as session, session.begin():
        embargo = None if embargo_minutes is None else timedelta(minutes=embargo_minutes)
        release = make_release(session, embargo_in=embargo)
        names = []
        for i, is_trusted in enumerate(trusted):
            name = f"l{release.id}-{i}"
            make_list(session, name, [f"r{release.id}-{i}@example.org"], trusted=is_trusted)
            names.append(name)
    distribution_id, rows = _send(sqlite_store, release.id, names)
    assert rows == len(trusted)
    statuses = _statuses(sqlite_store, distribution_id)
    unlifted = embargo_minutes is not None and embargo_minutes > 0
    for i, is_trusted in enumerate(trusted):
        expected = "held" if unlifted and not is_trusted else "pending"
        assert statuses[f"r{release.id}-{i}@example.org"] == expected


def test_a_batch_whose_claims_were_reaped_cannot_overwrite_the_new_claimant(store):
    """A slow worker still alive after the reaper took its rows records nothing over them."""
    from distribution.engine.ledger import Result, RetryPolicy, record
    from distribution.transport import Outcome, OutcomeKind

    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["a@example.org"])
    distribution_id, _ = _send(store, release.id, ["media"])
    with store.Session() as session, session.begin():
        lifecycle.activate_due(session, now_utc(), 3600)
        (first,) = claims.claim(session, distribution_id, 10, "slow", now_utc()
                                - timedelta(hours=1))
        claims.return_stale(session, now_utc() + timedelta(hours=1), 600, NoJournal())
        claims.claim(session, distribution_id, 10, "fresh", now_utc())
    failed = Result(first.id, first.email, first.attempts, "<m@x>",
                    Outcome(OutcomeKind.PERMANENT, None, "slow worker's late answer"))
    with store.Session() as session, session.begin():
        policy = RetryPolicy(5, 60, 3600)
        record(session, [failed], policy, now_utc(), {}, "slow")
        assert claims.unclaim(session, [first.id], owner="slow") == 0
    with store.Session() as session:
        row = session.get(Delivery, first.id)
        assert (row.status, row.claimed_by) == (DeliveryStatus.SENDING, "fresh")


def test_two_sends_of_one_release_at_once_schedule_each_person_once(store):
    """The second waits for the first's rows (a unique index, not a check) and finds that
    everyone has the release: it records nothing, and names the distribution to finish."""
    import threading

    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("m", 20))
    first_in = threading.Event()
    errors: list[Exception] = []

    def first() -> None:
        with store.Session() as session, session.begin():
            dispatch.schedule(session, dispatch.plan(session, release.id, ["media"]),
                              now=now_utc())
            first_in.set()
            time_to_race = threading.Event()
            time_to_race.wait(0.5)

    def second() -> None:
        first_in.wait(10)
        try:
            with store.Session() as session, session.begin():
                dispatch.schedule(session, dispatch.plan(session, release.id, ["media"]),
                                  now=now_utc())
        except dispatch.EveryoneHasIt as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with store.Session() as session:
        per_person = session.execute(select(Delivery.contact_id, func.count())
                                     .group_by(Delivery.contact_id)).all()
        (only,) = session.scalars(select(Distribution.id)).all()
    assert len(per_person) == 20 and {n for _, n in per_person} == {1}
    assert len(errors) == 1 and errors[0].unfinished == only
