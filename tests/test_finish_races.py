"""A retry that commits while the sweep is finishing the same distribution."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

from distribution.engine import dispatch
from distribution.engine.lifecycle import activate_due, finish_done, retry_failed
from distribution.store.models import Delivery, DeliveryStatus, Distribution, DistributionStatus
from tests.fixtures.builders import addresses, make_list, make_release, now_utc


@pytest.mark.postgres
def test_a_retry_committed_while_the_sweep_finishes_keeps_the_distribution_open(pg_store):
    with pg_store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", addresses("media", 2))
        dist, _ = dispatch.schedule(session, dispatch.plan(session, release.id, ["media"]),
                                    now=now_utc())
        activate_due(session, now_utc(), 3600)
        session.execute(update(Delivery).where(Delivery.distribution_id == dist.id)
                        .values(status=DeliveryStatus.FAILED.value))
        distribution_id = dist.id

    retrying = pg_store.Session()
    retrying.begin()
    assert retry_failed(retrying, distribution_id, now_utc()) == 2  # not committed yet

    finished: list[list[int]] = []

    def sweep_finishes() -> None:
        with pg_store.Session() as session, session.begin():
            finished.append(finish_done(session, now_utc()))

    sweep = threading.Thread(target=sweep_finishes)
    sweep.start()
    sweep.join(1)
    assert sweep.is_alive(), "the sweep should wait for the retry's lock"
    retrying.commit()
    retrying.close()
    sweep.join(30)

    assert finished == [[]]
    with pg_store.Session() as session:
        assert session.get(Distribution, distribution_id).status == DistributionStatus.SENDING
