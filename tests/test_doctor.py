"""`pressroom doctor` against a DNS server on loopback serving a test zone."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from distribution.cli import main
from distribution.deliverability.doctor import Dns, run_checks
from distribution.mail.signing.dkim import public_record
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import SmtpTestServer
from tests.test_transport import certificate, server_context, trusting  # noqa: F401

DOMAIN = "iiim.example.org"


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_file(tmp_path, key):
    path = tmp_path / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, 0o600)
    return str(path)


def good_zone(zone, key):
    zone.txt(DOMAIN, "v=spf1 ip4:192.0.2.10 -all")
    zone.txt(f"press2026._domainkey.{DOMAIN}", public_record(key))
    zone.txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=quarantine; rua=mailto:dmarc@iiim.example.org")
    zone.mx(DOMAIN, f"mx.{DOMAIN}")
    zone.a(f"mx.{DOMAIN}", "192.0.2.25")


def _settings(tmp_path, server, key_file, smtp_url="", **more):
    return make_settings(tmp_path, "sqlite://", dns_server=server, smtp_url=smtp_url,
                         dkim_selector="press2026", dkim_domain=DOMAIN,
                         dkim_private_key_file=key_file,
                         bounce_address=f"bounces@{DOMAIN}", **more)


def verdicts(checks):
    return {c.name: c.verdict for c in checks}


def test_a_well_configured_domain_passes_every_check(tmp_path, dns_zone, key, key_file,
                                                     smtp_server):
    zone, server = dns_zone
    good_zone(zone, key)
    checks = run_checks(_settings(tmp_path, server, key_file, smtp_server.url), Dns(server))
    assert verdicts(checks) == {
        "base_url": "ok", "spf": "ok", "dkim": "ok", "dmarc": "ok", "spf alignment": "ok",
        "dkim alignment": "ok", "bounce domain": "ok",
        # The test relay runs on this host without TLS: acceptable there, and said so.
        "relay tls": "warn", "relay auth": "ok"}


def test_a_dkim_record_for_another_key_fails(tmp_path, dns_zone, key_file):
    zone, server = dns_zone
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good_zone(zone, other)
    checks = run_checks(_settings(tmp_path, server, key_file), Dns(server))
    dkim = next(c for c in checks if c.name == "dkim")
    assert dkim.verdict == "fail" and "another key" in dkim.detail


def test_missing_records_and_an_http_base_url_are_named(tmp_path, dns_zone, key_file):
    zone, server = dns_zone
    zone.txt(DOMAIN, "some-verification=abc")
    settings = _settings(tmp_path, server, key_file, base_url="http://press.iiim.example.org")
    found = {c.name: c for c in run_checks(settings, Dns(server))}
    assert found["base_url"].verdict == "fail"
    assert found["spf"].verdict == "fail" and "no SPF record" in found["spf"].detail
    assert found["dkim"].verdict == "fail" and "publish: v=DKIM1; k=rsa; p=" in \
        found["dkim"].detail
    assert found["dmarc"].verdict == "fail" and found["bounce domain"].verdict == "fail"


def test_permissive_spf_and_a_dmarc_policy_of_none_are_flagged(tmp_path, dns_zone, key,
                                                               key_file):
    zone, server = dns_zone
    zone.txt(DOMAIN, "v=spf1 +all")
    zone.txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=none")
    found = verdicts(run_checks(_settings(tmp_path, server, key_file), Dns(server)))
    assert found["spf"] == "fail" and found["dmarc"] == "warn"


def test_a_dkim_domain_that_does_not_align_with_from_fails(tmp_path, dns_zone, key, key_file):
    zone, server = dns_zone
    good_zone(zone, key)
    settings = make_settings(tmp_path, "sqlite://", dns_server=server,
                             dkim_selector="press2026", dkim_domain="relay.example.net",
                             dkim_private_key_file=key_file,
                             bounce_address="bounces@relay.example.net")
    found = verdicts(run_checks(settings, Dns(server)))
    assert found["dkim alignment"] == "fail" and found["spf alignment"] == "warn"


def test_the_relay_with_starttls_and_a_login_passes(tmp_path, dns_zone, key, key_file,
                                                    certificate):  # noqa: F811
    zone, server = dns_zone
    good_zone(zone, key)
    users = {"press": "s3cret"}
    with SmtpTestServer(tls_context=server_context(certificate), users=users) as relay:
        url = f"smtp://press:s3cret@127.0.0.1:{relay.port}"
        checks = run_checks(_settings(tmp_path, server, key_file, url), Dns(server),
                            tls_context=trusting(certificate))
        wrong = f"smtp://press:wrong@127.0.0.1:{relay.port}"
        refused = run_checks(_settings(tmp_path, server, key_file, wrong), Dns(server),
                             tls_context=trusting(certificate))
    assert verdicts(checks)["relay tls"] == "ok" and verdicts(checks)["relay auth"] == "ok"
    assert verdicts(refused)["relay auth"] == "fail"


def test_an_unreachable_relay_fails_without_a_traceback(tmp_path, dns_zone, key, key_file):
    zone, server = dns_zone
    good_zone(zone, key)
    env = {"PRESSROOM_HOME": str(tmp_path / "home"), "PRESSROOM_DNS_SERVER": server,
           "PRESSROOM_SMTP_URL": "smtp://127.0.0.1:1", "PRESSROOM_DKIM_SELECTOR": "press2026",
           "PRESSROOM_DKIM_DOMAIN": DOMAIN, "PRESSROOM_DKIM_PRIVATE_KEY_FILE": key_file,
           "PRESSROOM_FROM": f"Press <press@{DOMAIN}>", "PRESSROOM_CONFIG": "",
           "PRESSROOM_BASE_URL": "https://press.iiim.example.org"}
    result = CliRunner().invoke(main, ["doctor", "--json"], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    relay = next(c for c in json.loads(result.stdout) if c["name"] == "relay")
    assert relay["verdict"] == "fail" and "cannot reach" in relay["detail"]


@pytest.mark.redis
def test_a_broker_whose_redis_would_lose_the_batch_journals_is_warned_about(
        tmp_path, dns_zone, key, key_file, redis_server):
    zone, server = dns_zone
    good_zone(zone, key)
    settings = _settings(tmp_path, server, key_file, broker_url=redis_server.url)

    def broker():
        return next(c for c in run_checks(settings, Dns(server)) if c.name == "broker")

    # The test's Redis runs as a cache would: no append-only file, no snapshots.
    assert broker().verdict == "warn"
    assert "persists nothing" in broker().detail and "appendonly yes" in broker().detail
    redis_server.client().config_set("appendonly", "yes")
    assert (broker().verdict, broker().detail) == ("ok", f"{redis_server.url}: appendonly yes")
