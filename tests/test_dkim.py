"""DKIM signed in the application: every message verifies with dkimpy against the record
published for the key; the hand-written canonicalisation is pinned to dkimpy."""

from __future__ import annotations

import email
import email.policy
import os
import string
from datetime import UTC, datetime, timedelta

import dkim
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from config import ConfigError
from distribution.cli import main
from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.runner import deliver_due
from distribution.engine.testsend import send_test_copy
from distribution.mail.signing.dkim import DkimSigner, public_record, relaxed_body
from distribution.store.models import Release
from distribution.times import WhenParsed
from distribution.web.pages import Pages
from distribution.web.subscribers.confirm_mail import confirmation_email
from tests.fixtures.builders import make_list, make_release, now_utc
from tests.fixtures.settings import make_settings

DOMAIN, SELECTOR = "iiim.example.org", "press2026"


def _write_key(path, key, mode=0o600):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, mode)
    return str(path)


@pytest.fixture(scope="module")
def keys():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), \
        ed25519.Ed25519PrivateKey.generate()


@pytest.fixture
def key_files(tmp_path, keys):
    rsa_key, ed_key = keys
    return _write_key(tmp_path / "dkim.pem", rsa_key), _write_key(tmp_path / "ed.pem", ed_key)


def dns_for(keys, selector=SELECTOR, domain=DOMAIN):
    """dkimpy's dnsfunc: the TXT records a domain publishes for its two keys."""
    rsa_key, ed_key = keys
    records = {f"{selector}._domainkey.{domain}.".encode(): public_record(rsa_key).encode(),
               f"{selector}ed._domainkey.{domain}.".encode(): public_record(ed_key).encode()}
    return lambda name, timeout=5: records.get(name)


def verified(message: bytes, keys) -> list[bool]:
    """Each DKIM signature on the message, verified by dkimpy."""
    checker = dkim.DKIM(message)
    count = message.count(b"DKIM-Signature:")
    return [checker.verify(idx=i, dnsfunc=dns_for(keys)) for i in range(count)]


@pytest.fixture
def settings(tmp_path, store, smtp_server, key_files):
    return make_settings(tmp_path, store.url, smtp_url=smtp_server.url, dkim_selector=SELECTOR,
                         dkim_domain=DOMAIN, dkim_private_key_file=key_files[0])


def _send(store, settings, addresses, **release):
    with store.Session() as session, session.begin():
        made = make_release(session, **release)
        make_list(session, "media", addresses, trusted=True)
        plan = dispatch.plan(session, made.id, ["media"])
        dispatch.schedule(session, plan, now=now_utc())
    deliver_due(store.Session, settings)
    return made.id


def test_every_release_copy_is_signed_and_verifies_against_the_published_key(
        store, settings, smtp_server, keys):
    _send(store, settings, ["a@example.org", "b@example.org"])
    assert len(smtp_server.messages) == 2
    for received in smtp_server.messages:
        assert verified(received.data, keys) == [True]
        parsed = email.message_from_bytes(received.data, policy=email.policy.strict)
        signature = parsed["DKIM-Signature"]
        assert "a=rsa-sha256" in signature and "c=relaxed/relaxed" in signature
        signed = set(signature.split("h=")[1].split(";")[0].replace(" ", "").split(":"))
        assert {"from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
                "list-unsubscribe-post", "mime-version", "content-type"} <= signed


def test_a_copy_to_an_address_with_a_utf8_local_part_verifies_too(store, settings,
                                                                    smtp_server, keys):
    _send(store, settings, ["jürgen@zeitung.example"])
    [received] = smtp_server.messages
    # His name (make_list's "Jürgen") encoded as ever, his address raw (RFC 6532).
    assert "\r\nTo: =?utf-8?q?J=C3=BCrgen?= <jürgen@zeitung.example>\r\n".encode() \
        in received.data
    assert verified(received.data, keys) == [True]


def test_a_changed_subject_breaks_the_signature(store, settings, smtp_server, keys):
    _send(store, settings, ["a@example.org"])
    data = smtp_server.messages[0].data
    tampered = data.replace(b"Subject: ", b"Subject: FREE MONEY ", 1)
    assert verified(tampered, keys) == [False]


def test_notices_are_signed_too(store, settings, smtp_server, keys):
    release_id = _send(store, settings, ["a@example.org"], embargo_in=timedelta(hours=2))
    with store.Session() as session, session.begin():
        change_embargo(session, release_id, now=now_utc(), until=WhenParsed(
            now_utc() + timedelta(days=1), "Europe/Zurich", False))
    deliver_due(store.Session, settings)
    notice = smtp_server.messages[-1].data
    assert b"EMBARGO MOVED" in notice and verified(notice, keys) == [True]


def test_an_ed25519_signature_goes_beside_the_rsa_one(tmp_path, store, smtp_server, keys,
                                                      key_files):
    dual = make_settings(tmp_path, store.url, smtp_url=smtp_server.url, dkim_selector=SELECTOR,
                         dkim_domain=DOMAIN, dkim_private_key_file=key_files[0],
                         dkim_ed25519_selector=SELECTOR + "ed",
                         dkim_ed25519_key_file=key_files[1])
    _send(store, dual, ["a@example.org"])
    data = smtp_server.messages[0].data
    assert b"a=ed25519-sha256" in data and b"a=rsa-sha256" in data
    assert verified(data, keys) == [True, True]


def test_an_ed25519_key_under_the_rsa_selector_is_refused(tmp_path, key_files):
    with pytest.raises(ConfigError, match="differ"):
        make_settings(tmp_path, "sqlite://", dkim_selector=SELECTOR, dkim_domain=DOMAIN,
                      dkim_private_key_file=key_files[0], dkim_ed25519_selector=SELECTOR,
                      dkim_ed25519_key_file=key_files[1])


def test_test_copies_and_confirmation_mails_are_signed(store, settings, smtp_server, keys):
    with store.Session() as session, session.begin():
        release_id = make_release(session).id
    with store.Session() as session:
        send_test_copy(settings, session.get(Release, release_id), "officer@example.org",
                       now_utc())
    assert verified(smtp_server.messages[0].data, keys) == [True]
    confirmation = confirmation_email(settings, Pages(settings), "new@example.org", "media",
                                      "https://press.iiim.example.org/c/x",
                                      datetime.now(UTC), 7)
    assert verified(confirmation, keys) == [True]


def test_a_key_file_others_can_read_is_refused(tmp_path, keys):
    path = _write_key(tmp_path / "open.pem", keys[0], mode=0o644)
    with pytest.raises(ConfigError, match="read by others"):
        make_settings(tmp_path, "sqlite://", dkim_selector=SELECTOR, dkim_domain=DOMAIN,
                      dkim_private_key_file=path)


def test_half_a_dkim_configuration_is_refused(tmp_path, key_files):
    with pytest.raises(ConfigError, match="dkim_domain"):
        make_settings(tmp_path, "sqlite://", dkim_selector=SELECTOR,
                      dkim_private_key_file=key_files[0])


# --- the canonicalisation, pinned to dkimpy ----------------------------------------------------

_NAMES = st.sampled_from(["From", "To", "Subject", "Date", "Message-ID", "List-Id",
                          "X-Other", "subject", "References"])
_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " \t<>@.,;:=-\"'()",
                max_size=60)
_LINES = st.lists(st.text(alphabet=string.ascii_letters + " \t.=-", max_size=80), max_size=8)


@st.composite
def messages(draw):
    headers = [("From", "a@iiim.example.org")] + draw(st.lists(st.tuples(_NAMES, _TEXT),
                                                               max_size=8))
    lines = []
    for name, value in headers:
        # A value may be folded onto a continuation line.
        folded = draw(st.booleans()) and " " in value.strip()
        if folded:
            head, _, tail = value.strip().partition(" ")
            value = f"{head}\r\n {tail}"
        lines.append(f"{name}: {value}".encode())
    body = "\r\n".join(draw(_LINES)) + draw(st.sampled_from(["", "\r\n", "\r\n\r\n", " "]))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body.encode()


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages())
def test_any_message_signed_here_verifies_with_dkimpy(keys, message):
    signed = DkimSigner(DOMAIN, SELECTOR, keys[0]).sign(message)
    assert verified(signed, keys) == [True]


@hsettings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300).map(lambda b: b.replace(b"\x00", b" ")) | st.lists(
    st.sampled_from([b"a", b" ", b"\t", b"\r\n", b"\r", b"\n", b"=20", b"  x"]),
    max_size=40).map(b"".join))
def test_the_body_canonicalisation_is_dkimpys(body):
    from dkim.canonicalization import Relaxed

    assert relaxed_body(body) == Relaxed.canonicalize_body(body)
    assert relaxed_body(body) == Relaxed.canonicalize_body(body)  # and again, from the cache


@pytest.mark.parametrize("content", [b"not a key at all\n", b""])
def test_a_key_file_that_is_no_key_is_refused_in_one_line(tmp_path, content):
    path = tmp_path / "broken.pem"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    env = {"PRESSROOM_HOME": str(tmp_path / "home"), "PRESSROOM_CONFIG": "",
           "PRESSROOM_DKIM_SELECTOR": SELECTOR, "PRESSROOM_DKIM_DOMAIN": DOMAIN,
           "PRESSROOM_DKIM_PRIVATE_KEY_FILE": str(path)}
    result = CliRunner().invoke(main, ["send", "1", "--list", "media"], env=env)
    assert result.exit_code != 0 and "not an unencrypted PEM private key" in result.output
    assert "Traceback" not in result.output
