"""The writes of a send find their rows by primary key, however many rows came before;
the reaper reads only the claims of distributions still at work.

Every row of a distribution passes through 'sending' once. On PostgreSQL each passage
leaves an entry in any index on that status until a vacuum; a write that checks the
status and took such an index as its way in would read every row sent so far, and a
large send would slow down as it went. These tests pass rows through a claim and a
recorded result, as a batch does, then ask PostgreSQL how it would run each write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text, update

from distribution.engine import claims, dispatch
from distribution.engine.ledger import Result, RetryPolicy, record
from distribution.engine.lifecycle import activate_due, work_available
from distribution.engine.recovery.journal import NoJournal
from distribution.store.models import Delivery, DeliveryStatus, MailingList
from distribution.transport import Outcome, OutcomeKind
from tests.fixtures.builders import make_list, make_release, now_utc

ROWS = 10_000
OWNER = "w/plan"


def _send_through(session_factory, distribution_id: int) -> None:
    """Claim and record rows as sent, a batch at a time, as the engine does."""
    policy = RetryPolicy(3, 60, 3600)
    sent = Outcome(OutcomeKind.SENT, 250, "2.0.0 queued")
    while True:
        with session_factory() as session, session.begin():
            now = now_utc()
            batch = claims.claim(session, distribution_id, 500, OWNER, now)
            if not batch:
                return
            record(session, [Result(c.id, c.email, c.attempts, "<m@x>", sent) for c in batch],
                   policy, now, {}, OWNER)


@contextmanager
def _statements(engine) -> Iterator[list[tuple[str, object]]]:
    """The SQL and parameters the code sends, as the driver receives them."""
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _plans(session, seen: list[tuple[str, object]]) -> list[str]:
    conn = session.connection()
    return ["\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params))
            for sql, params in seen]


def _audience(session, size: int) -> MailingList:
    """A list of `size` contacts, written as an import would, in a few statements."""
    members = make_list(session, "media", [])
    session.execute(text(
        "INSERT INTO contacts (email, name, created_at) SELECT 'r' || i || '@outlet' "
        "|| (i % 50) || '.example', 'R' || i, now() FROM generate_series(1, :n) AS i"),
        {"n": size})
    session.execute(text(
        "INSERT INTO subscriptions (contact_id, list_id, status, created_at) "
        "SELECT id, :list, 'subscribed', now() FROM contacts"), {"list": members.id})
    return members


@pytest.fixture
def sent_distribution(pg_store) -> list[int]:
    """A distribution of ROWS recipients, all sent but the last 100, which are claimed."""
    with pg_store.Session() as session, session.begin():
        release = make_release(session)
        members = _audience(session, ROWS)
        dist, _ = dispatch.schedule(session, dispatch.plan(session, release.id, [members.name]),
                                    now=now_utc() - timedelta(seconds=1))
        activate_due(session, now_utc(), 3600)
        session.flush()
        last = session.scalars(select(Delivery.id).where(Delivery.distribution_id == dist.id)
                               .order_by(Delivery.id.desc()).limit(100)).all()
        dist_id = dist.id
        # Held back from the batches, to be claimed once the rest went out.
        session.execute(update(Delivery).where(Delivery.id.in_(last))
                        .values(status=DeliveryStatus.HELD.value))
    _send_through(pg_store.Session, dist_id)
    with pg_store.Session() as session, session.begin():
        session.execute(update(Delivery).where(Delivery.id.in_(last))
                        .values(status=DeliveryStatus.SENDING.value, claimed_by=OWNER,
                                claimed_at=now_utc()))
    return sorted(last)


def _assert_by_primary_key(plans: list[str]) -> None:
    for plan in plans:
        assert "deliveries_pkey" in plan, plan
        assert "ix_deliveries_" not in plan, plan


def test_recording_results_goes_by_primary_key(pg_store, sent_distribution):
    ids = sent_distribution
    sent = Outcome(OutcomeKind.SENT, 250, "2.0.0 queued")
    results = [Result(i, f"r{i}@x.example", 1, "<m@x>", sent) for i in ids]
    with pg_store.Session() as session, session.begin():
        with _statements(pg_store.engine) as seen:
            tally = record(session, results, RetryPolicy(3, 60, 3600), now_utc(), {}, OWNER)
        assert tally.sent == len(ids)
        _assert_by_primary_key(_plans(session, seen))


def test_renewing_and_giving_back_claims_go_by_primary_key(pg_store, sent_distribution):
    ids = sent_distribution
    with pg_store.Session() as session, session.begin():
        with _statements(pg_store.engine) as seen:
            assert claims.unclaim(session, ids, owner=OWNER) == len(ids)
        assert len(seen) == 1
        _assert_by_primary_key(_plans(session, seen))
        left = session.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'sending'"))
        assert left == 0


def test_the_reaper_reads_the_claims_not_the_table(pg_store, sent_distribution):
    """Once a sweep, every second: it must not read every delivery ever made. The table
    is as a large send leaves it, never analysed (autovacuum may lag or be off)."""
    with pg_store.Session() as session, session.begin():
        with _statements(pg_store.engine) as seen:
            taken, _ = claims.return_stale(session, now_utc() + timedelta(hours=1), 600,
                                           NoJournal())
            assert taken == 100
        for plan in _plans(session, seen)[1:]:
            assert "Seq Scan on deliveries" not in plan, plan
            assert "ix_deliveries_claim" in plan, plan


def test_the_heartbeat_renews_through_the_claim_index(pg_store, sent_distribution):
    """Every few seconds per batch: it must not read the distribution's sent rows."""
    with pg_store.Session() as session, session.begin():
        dist_id = session.scalar(select(Delivery.distribution_id).limit(1))
        with _statements(pg_store.engine) as seen:
            assert len(claims.renew(session, dist_id, OWNER, now_utc())) == 100
        (plan,) = _plans(session, seen)
        assert "Seq Scan on deliveries" not in plan, plan
        assert "ix_deliveries_claim" in plan, plan


def test_the_sweep_counts_due_rows_only_as_far_as_it_starts_batches(pg_store):
    """A sweep runs every few seconds and at every send: counting all of a large send's
    due rows each time read them all. Each distribution's count stops at the cap."""
    with pg_store.Session() as session, session.begin():
        release = make_release(session)
        members = _audience(session, ROWS)
        dist, _ = dispatch.schedule(session, dispatch.plan(session, release.id, [members.name]),
                                    now=now_utc() - timedelta(seconds=1))
        activate_due(session, now_utc(), 3600)
    with pg_store.Session() as session, session.begin():
        assert work_available(session, now_utc()) == {dist.id: ROWS}
        assert work_available(session, now_utc(), 4_000) == {dist.id: 4_000}
        assert work_available(session, now_utc(), 1) == {dist.id: 1}
        session.execute(update(Delivery).values(next_attempt_at=now_utc() + timedelta(hours=1)))
        assert work_available(session, now_utc(), 4_000) == {}  # none due yet
