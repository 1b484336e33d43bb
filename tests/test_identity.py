"""Message identity and threading: Message-IDs no other install repeats, the same on every
retry of a delivery, and notices that thread with the copy each recipient holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.runner import deliver_due
from distribution.store.db import make_engine, session_factory, upgrade
from distribution.store.installation import installation_token
from distribution.store.models import Delivery
from distribution.times import WhenParsed
from tests.fixtures.builders import make_list, make_release, now_utc
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import parse


@pytest.fixture
def settings(tmp_path, store, smtp_server):
    return make_settings(tmp_path, store.url, smtp_url=smtp_server.url)


def _send(store, settings, addresses, *, trusted=False, embargo_in=None):
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=embargo_in)
        make_list(session, "media", addresses, trusted=trusted)
        plan = dispatch.plan(session, release.id, ["media"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
    deliver_due(store.Session, settings)
    return release.id, dist.id


def test_message_ids_carry_this_installations_own_random_token(store, settings, smtp_server):
    _send(store, settings, ["a@example.org"])
    with store.Session() as session:
        token = installation_token(session)
    message_id = parse(smtp_server.messages[0])["Message-ID"]
    assert message_id.startswith("<pressroom.") and f".{token}." in message_id
    assert len(token) >= 10


def test_two_databases_make_different_message_ids(tmp_path):
    tokens = set()
    for name in ("staging", "production"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        with session_factory(engine)() as session:
            tokens.add(installation_token(session))
        engine.dispose()
    assert len(tokens) == 2


def test_a_retried_delivery_keeps_its_message_id(store, settings, smtp_server):
    smtp_server.answer("a@example.org", "451 4.3.0 try later", times=1, at="data")
    _, dist_id = _send(store, settings, ["a@example.org"])
    assert not smtp_server.messages
    with store.Session() as session, session.begin():
        first = session.scalar(select(Delivery.message_id)
                               .where(Delivery.distribution_id == dist_id))
        session.execute(update(Delivery).values(next_attempt_at=now_utc() - timedelta(1)))
    deliver_due(store.Session, settings)
    assert first is not None
    assert [parse(m)["Message-ID"] for m in smtp_server.messages] == [first]


def test_a_notice_replies_to_the_copy_the_recipient_received(store, settings, smtp_server):
    release_id, _ = _send(store, settings, ["t0@example.org", "t1@example.org"], trusted=True,
                          embargo_in=timedelta(hours=2))
    received = {m.rcpt_tos[0]: parse(m)["Message-ID"] for m in smtp_server.messages}
    before = len(smtp_server.messages)
    with store.Session() as session, session.begin():
        change_embargo(session, release_id, now=now_utc(),
                       until=WhenParsed(now_utc() + timedelta(days=1), "Europe/Zurich", False))
    deliver_due(store.Session, settings)
    notices = {m.rcpt_tos[0]: parse(m) for m in smtp_server.messages[before:]}
    assert set(notices) == set(received)
    for address, notice in notices.items():
        assert notice["In-Reply-To"] == received[address]
        assert notice["References"] == received[address]
        assert notice["Subject"].startswith("EMBARGO MOVED: EMBARGOED ")


def test_a_first_release_copy_replies_to_nothing(store, settings, smtp_server):
    _send(store, settings, ["a@example.org"])
    message = parse(smtp_server.messages[0])
    assert message["In-Reply-To"] is None and message["References"] is None
