"""An embargo change that meets a batch in the middle of its claim.

The batch has claimed trusted recipients but not yet committed; the officer moves the
embargo. Whatever the order, each recipient who gets the release must also get the notice.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.batch import run_batch
from distribution.engine.messages import MessageFactory
from distribution.engine.runner import deliver_due
from distribution.store.models import Delivery, Distribution, DistributionKind
from distribution.times import WhenParsed
from tests.fixtures.builders import addresses, make_list, make_release, now_utc
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import parse

TRUSTED = addresses("media", 3)


def test_a_move_during_an_uncommitted_claim_still_tells_those_recipients(
        store, smtp_server, tmp_path, monkeypatch):
    settings = make_settings(tmp_path, store.url, smtp_url=smtp_server.url)
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "media", TRUSTED, trusted=True)
        dist, _ = dispatch.schedule(session, dispatch.plan(session, release.id, ["media"]),
                                    now=now_utc())
        release_id, distribution_id = release.id, dist.id
    deliver_due(store.Session, settings, only=-1)  # starts it; sends nothing yet

    claimed, go_on = threading.Event(), threading.Event()
    prepare = MessageFactory.for_batch

    def slow_prepare(*args, **kwargs):  # runs inside the claim's transaction
        claimed.set()
        assert go_on.wait(30)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(MessageFactory, "for_batch", slow_prepare)
    batch = threading.Thread(target=run_batch, args=(store.Session, settings, distribution_id),
                             kwargs={"worker": "w"})
    batch.start()
    assert claimed.wait(30)

    changed = threading.Event()

    def move() -> None:
        with store.Session() as session, session.begin():
            until = WhenParsed(now_utc() + timedelta(hours=3), "Europe/Zurich", False)
            change_embargo(session, release_id, until=until, now=now_utc())
        changed.set()

    mover = threading.Thread(target=move)
    mover.start()
    changed.wait(1)  # give a change that does not wait for the claim the time to finish
    go_on.set()
    batch.join(30)
    mover.join(60)
    assert changed.is_set()
    monkeypatch.setattr(MessageFactory, "for_batch", prepare)
    deliver_due(store.Session, settings)

    received = smtp_server.by_recipient()
    with store.Session() as session:
        notice = session.scalars(select(Distribution).where(
            Distribution.kind == DistributionKind.NOTICE_MOVED)).one_or_none()
        noticed = [] if notice is None else session.scalars(
            select(Delivery.email).where(Delivery.distribution_id == notice.id)).all()
    releases = [a for a, copies in received.items()
                if any("EMBARGO MOVED" not in parse(c)["Subject"] for c in copies)]
    notices = [a for a, copies in received.items() for c in copies
               if "EMBARGO MOVED" in parse(c)["Subject"]]
    # The change waited for the claim: it counted the claimed rows among those who hold the
    # release, and each of them hears of the move once.
    assert sorted(releases) == sorted(noticed) == sorted(notices) == sorted(TRUSTED)
