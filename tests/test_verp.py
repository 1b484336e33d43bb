"""VERP: each delivery goes out from its own signed bounce address, which maps back to it."""

from __future__ import annotations

import hmac
from base64 import b32encode
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from config import ConfigError
from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.runner import deliver_due
from distribution.engine.testsend import send_test_copy
from distribution.mail.signing.verp import Verp
from distribution.store.models import Delivery, Release
from distribution.times import WhenParsed
from tests.fixtures.builders import make_list, make_release, now_utc
from tests.fixtures.settings import make_settings

BOUNCES = "bounces@press.iiim.example.org"


@pytest.fixture
def settings(tmp_path, store, smtp_server):
    return make_settings(tmp_path, store.url, smtp_url=smtp_server.url, bounce_address=BOUNCES)


def _send(store, settings, addresses, *, trusted=False, embargo_in=None):
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=embargo_in)
        make_list(session, "media", addresses, trusted=trusted)
        plan = dispatch.plan(session, release.id, ["media"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
    deliver_due(store.Session, settings)
    return release.id, dist.id


def _deliveries(store):
    with store.Session() as session:
        return {(email, dist): id_ for id_, email, dist in session.execute(
            select(Delivery.id, Delivery.email, Delivery.distribution_id))}


def test_each_delivery_has_its_own_envelope_sender_that_maps_back_to_it(store, settings,
                                                                      smtp_server):
    _, dist_id = _send(store, settings, ["a@example.org", "b@example.org"])
    verp = Verp(settings)
    rows = _deliveries(store)
    senders = {m.rcpt_tos[0]: m.mail_from for m in smtp_server.messages}
    assert len(set(senders.values())) == 2
    for address, sender in senders.items():
        local, domain = sender.split("@")
        assert local.startswith("bounces+") and domain == "press.iiim.example.org"
        assert len(local) <= 30 and local == local.lower()
        assert verp.delivery_of(sender) == rows[(address, dist_id)]
        # Relays may change the case of a local part: it still maps.
        assert verp.delivery_of(sender.upper()) == rows[(address, dist_id)]


def test_notices_go_out_with_their_own_verp_sender(store, settings, smtp_server):
    release_id, _ = _send(store, settings, ["t@example.org"], trusted=True,
                          embargo_in=timedelta(hours=2))
    before = len(smtp_server.messages)
    with store.Session() as session, session.begin():
        report = change_embargo(session, release_id, now=now_utc(), until=WhenParsed(
            now_utc() + timedelta(days=1), "Europe/Zurich", False))
    deliver_due(store.Session, settings)
    [notice] = smtp_server.messages[before:]
    assert Verp(settings).delivery_of(notice.mail_from) == \
        _deliveries(store)[("t@example.org", report.notice_id)]


def test_a_test_copy_goes_out_from_a_verp_address_matching_no_delivery(store, settings,
                                                                      smtp_server):
    with store.Session() as session, session.begin():
        release_id = make_release(session).id
    with store.Session() as session:
        send_test_copy(settings, session.get(Release, release_id), "officer@example.org",
                       now_utc())
    [copy] = smtp_server.messages
    assert Verp(settings).delivery_of(copy.mail_from) == 0


@pytest.mark.parametrize("forged", [
    "bounces+1-aaaaaaaa@press.iiim.example.org",       # a made-up signature
    "bounces+2-{sig}@press.iiim.example.org",          # another delivery's signature
    "bounces+1-{sig}@elsewhere.example.org",           # another domain
    "other+1-{sig}@press.iiim.example.org",            # another mailbox
    "bounces+1-{sig}x@press.iiim.example.org",
])
def test_a_forged_or_altered_token_maps_to_nothing(tmp_path, forged):
    settings = make_settings(tmp_path, "sqlite://", bounce_address=BOUNCES)
    verp = Verp(settings)
    genuine = verp.sender(1)
    signature = genuine.split("-")[1].split("@")[0]
    assert verp.delivery_of(genuine) == 1
    assert verp.delivery_of(forged.format(sig=signature)) is None


def test_a_token_signed_with_an_older_key_still_maps(tmp_path):
    old = make_settings(tmp_path, "sqlite://", bounce_address=BOUNCES, secret_key="old-key")
    new = make_settings(tmp_path, "sqlite://", bounce_address=BOUNCES, secret_key="new-key",
                        old_secret_keys="old-key")
    assert Verp(new).delivery_of(Verp(old).sender(42)) == 42
    assert Verp(old).delivery_of(Verp(new).sender(42)) is None


@pytest.mark.parametrize("address", ["bounces+x@example.org", "Bounces <b@example.org>",
                                     "no-domain", "b@example.org\r\nBcc: x@y.z"])
def test_a_bounce_address_verp_cannot_extend_is_refused(tmp_path, address):
    with pytest.raises(ConfigError, match="bounce_address"):
        make_settings(tmp_path, "sqlite://", bounce_address=address)


def test_without_a_bounce_address_the_from_address_is_the_envelope_sender(tmp_path):
    settings = make_settings(tmp_path, "sqlite://")
    assert Verp(settings).sender(7) == "press@iiim.example.org"


@given(st.integers(min_value=0, max_value=10**18), st.binary(min_size=1, max_size=32))
def test_the_signature_is_base32_of_the_hmac(delivery_id, key):
    from distribution.mail.signing.verp import _signature

    digest = hmac.digest(key, str(delivery_id).encode(), "sha256")
    assert _signature(key, delivery_id) == b32encode(digest[:5]).decode().lower()


@given(st.binary(min_size=0, max_size=6).map(lambda b: b * 5))
def test_lower_base32_is_b32encode_in_lower_case(data):
    from distribution.mail.signing.verp import lower_base32

    assert lower_base32(data) == b32encode(data).decode().lower()
