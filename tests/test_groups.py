"""A batch sends in groups, each committed in one transaction: about a second of sending
each, so that a fast server's messages share a transaction's cost and a slow server's
results are recorded (and a pause obeyed) within seconds."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

from distribution.engine import dispatch
from distribution.engine.batch import (
    FIRST_GROUP,
    SMTP_CONNECTIONS,
    START_MOST,
    GroupSizes,
    next_group_size,
    run_batch,
)
from distribution.engine.lifecycle import activate_due
from distribution.store.models import Distribution, DistributionStatus
from tests.fixtures.builders import now_utc
from tests.fixtures.services import wait_until
from tests.fixtures.settings import make_settings
from tests.test_faults import duplicates, seed, statuses


def test_a_fast_server_gets_groups_as_large_as_commit_every_allows():
    assert next_group_size(100, 0.1, 500) == 400  # four times at most: one group says little
    assert next_group_size(400, 0.2, 500) == 500
    assert next_group_size(500, 0.5, 500) == 500


def test_a_slow_server_gets_groups_of_about_a_second_one_per_connection_at_least():
    assert next_group_size(100, 20.0, 500) == 5
    assert next_group_size(5, 1.0, 500) == 5
    # Fewer than one a connection would leave one idle: the pace halved.
    assert next_group_size(100, 75.0, 500) == SMTP_CONNECTIONS
    assert next_group_size(2, 3.0, 500) == SMTP_CONNECTIONS
    assert next_group_size(1, 30.0, 1) == 1  # commit_every 1 is one
    assert next_group_size(10, 0.0, 500) == 40  # a clock that did not move


def test_a_batch_starts_where_the_last_one_of_its_distribution_ended():
    sizes = GroupSizes()
    first = ("postgresql://db", 7)
    assert sizes.first(first, 500) == FIRST_GROUP  # pace unknown: a small first group
    sizes.ended(first, 3)
    assert sizes.first(first, 500) == 3  # a slow server: its next batch starts slow
    sizes.ended(first, 500)
    assert sizes.first(first, 500) == START_MOST  # a server that turns slow holds few back
    assert sizes.first(first, 40) == 40
    assert sizes.first(("sqlite:///other.db", 7), 500) == FIRST_GROUP


@pytest.mark.slow
def test_behind_a_slow_server_results_are_recorded_and_a_pause_obeyed_within_seconds(
        store, smtp_server, tmp_path):
    settings = make_settings(tmp_path, store.url, smtp_url=smtp_server.url)  # commit_every 500
    _, emails = seed(store, 160)
    with store.Session() as session, session.begin():
        dist, _ = dispatch.schedule(session, dispatch.plan(session, 1, ["media"]),
                                    now=now_utc())
        activate_due(session, now_utc(), 3600)
        distribution_id = dist.id
    smtp_server.slow_down(0.15)  # two connections: about 13 messages a second
    batch = threading.Thread(target=run_batch, args=(store.Session, settings, distribution_id),
                             kwargs={"worker": "slow"})
    batch.start()
    # The first group is small (the pace is not known yet), the next ones about a second.
    wait_until(lambda: statuses(store)["sent"] >= FIRST_GROUP, timeout=10,
               what="the first group recorded within seconds")
    recorded = statuses(store)["sent"]
    wait_until(lambda: statuses(store)["sent"] > recorded, timeout=5,
               what="the next group recorded within seconds")
    with store.Session() as session, session.begin():
        session.execute(update(Distribution).where(Distribution.id == distribution_id)
                        .values(status=DistributionStatus.PAUSED.value))
    paused_at = len(smtp_server.messages)
    batch.join(timeout=10)
    assert not batch.is_alive(), "the pause was not obeyed within seconds"
    after = len(smtp_server.messages) - paused_at
    assert after <= 30 + SMTP_CONNECTIONS, f"{after} messages went out after the pause"
    left = statuses(store)
    assert left["sent"] == len(smtp_server.messages) < len(emails)
    assert left["pending"] == len(emails) - left["sent"]
    assert duplicates(smtp_server) == 0
