"""`pressroom doctor`: what an operator gets wrong before mail is accepted and trusted.

SPF for the envelope domain, the DKIM record against the configured key, DMARC for the From
domain and the alignment of both with it, the relay's TLS and authentication, an https
base_url, a bounce domain that receives mail; with a broker, whether its Redis keeps the
batch journals across a restart. Each check says ok, warn or fail, and why.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
import redis

from config import Settings
from distribution.engine.recovery.redisjournal import unsafe_store
from distribution.mail.signing.dkim import DkimError, configured_signer, load_key, public_record
from distribution.transport.url import parse_smtp_url

OK, WARN, FAIL = "ok", "warn", "fail"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str  # ok | warn | fail
    detail: str


class Dns:
    """TXT and MX look-ups, through the system's resolver or the one given (host:port)."""

    def __init__(self, server: str = "", timeout: float = 3.0) -> None:
        self.resolver = dns.resolver.Resolver(configure=not server)
        if server:
            host, _, port = server.rpartition(":")
            self.resolver.nameservers = [host or server]
            self.resolver.port = int(port) if host else 53
        self.resolver.lifetime = timeout

    def txt(self, name: str) -> list[str]:
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]

    def has_mail_host(self, name: str) -> bool:
        for kind in ("MX", "A", "AAAA"):
            try:
                self.resolver.resolve(name, kind)
                return True
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
        return False


def run_checks(settings: Settings, resolver: Dns,
               tls_context: ssl.SSLContext | None = None) -> list[Check]:
    from_domain = _domain(settings.from_addr)
    envelope_domain = _domain(settings.envelope_sender)
    checks = [_base_url(settings)]
    steps: tuple[Callable[[], list[Check]], ...] = (
                  lambda: _spf(resolver, envelope_domain),
                  lambda: _dkim(resolver, settings),
                  lambda: _dmarc(resolver, from_domain),
                  lambda: _alignment(settings, from_domain, envelope_domain),
                  lambda: _bounce_domain(resolver, envelope_domain))
    for check in steps:
        try:
            checks.extend(check())
        except dns.exception.DNSException as exc:
            checks.append(Check("dns", FAIL, f"no answer from DNS: {type(exc).__name__}"))
    checks.extend(_relay(settings, tls_context))
    if settings.broker_url:
        checks.append(_broker(settings))
    return checks


def _broker(settings: Settings) -> Check:
    """The batch journals live in the broker's Redis: lost with a restart, the messages of
    a batch that died meanwhile go out twice."""
    shown = str(settings.masked()["broker_url"])
    client = redis.Redis.from_url(settings.broker_url, socket_timeout=5,
                                  socket_connect_timeout=5)
    try:
        why = unsafe_store(client)
    except redis.RedisError as exc:
        return Check("broker", FAIL, f"cannot reach {shown}: {exc}")
    finally:
        client.close()
    if why:
        return Check("broker", WARN, f"{shown}: {why}; the batch journals kept there would "
                     "be lost with a restart: run Redis with appendonly yes")
    return Check("broker", OK, f"{shown}: appendonly yes")


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


def _aligned(a: str, b: str) -> bool:
    """Relaxed alignment (RFC 7489 3.1): one domain is the other or under it."""
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _base_url(settings: Settings) -> Check:
    if urlsplit(settings.base_url).scheme == "https":
        return Check("base_url", OK, settings.base_url)
    return Check("base_url", FAIL, f"{settings.base_url} is not https: unsubscribe and "
                 "preference links would travel in clear, and providers distrust them")


def _spf(resolver: Dns, domain: str) -> list[Check]:
    records = [r for r in resolver.txt(domain) if r.lower().startswith("v=spf1")]
    if not records:
        return [Check("spf", FAIL, f"{domain} publishes no SPF record (v=spf1)")]
    if len(records) > 1:
        return [Check("spf", FAIL, f"{domain} publishes {len(records)} SPF records; "
                      "receivers treat that as none")]
    record = records[0]
    if record.rstrip().endswith(("+all", " all")):
        return [Check("spf", FAIL, f"{domain}: '{record}' lets anyone send as it")]
    if not record.rstrip().endswith(("-all", "~all")):
        return [Check("spf", WARN, f"{domain}: '{record}' ends with neither -all nor ~all")]
    return [Check("spf", OK, f"{domain}: {record}")]


def _dkim(resolver: Dns, settings: Settings) -> list[Check]:
    if not settings.dkim_private_key_file:
        return [Check("dkim", WARN, "not signed here (dkim_* unset): the relay must sign "
                      "with the From domain, or Gmail, Yahoo and Microsoft junk bulk mail")]
    try:
        configured_signer(settings)
    except DkimError as exc:
        return [Check("dkim", FAIL, str(exc))]
    pairs = [(settings.dkim_selector, settings.dkim_private_key_file)]
    if settings.dkim_ed25519_key_file:
        pairs.append((settings.dkim_ed25519_selector, settings.dkim_ed25519_key_file))
    return [_dkim_record(resolver, settings.dkim_domain, sel, path) for sel, path in pairs]


def _dkim_record(resolver: Dns, domain: str, selector: str, key_file: str) -> Check:
    name = f"{selector}._domainkey.{domain}"
    expected = _tags(public_record(load_key(key_file)))
    published = [_tags(r) for r in resolver.txt(name)]
    if not published:
        return Check("dkim", FAIL, f"no DKIM record at {name}; publish: "
                     f"{public_record(load_key(key_file))}")
    if any(tags.get("p") == expected["p"] for tags in published):
        return Check("dkim", OK, f"{name} matches the configured key")
    return Check("dkim", FAIL, f"{name} holds another key than {key_file}: receivers "
                 "will reject every signature")


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        key, _, value = part.partition("=")
        tags[key.strip().lower()] = "".join(value.split())
    return tags


def _dmarc(resolver: Dns, domain: str) -> list[Check]:
    for name in (f"_dmarc.{domain}", f"_dmarc.{'.'.join(domain.split('.')[-2:])}"):
        records = [r for r in resolver.txt(name) if r.lower().startswith("v=dmarc1")]
        if records:
            policy = _tags(records[0]).get("p", "")
            if policy == "none":
                return [Check("dmarc", WARN, f"{name}: p=none asks receivers to do nothing; "
                              "fine while starting, then quarantine or reject")]
            return [Check("dmarc", OK, f"{name}: {records[0]}")]
    return [Check("dmarc", FAIL, f"{domain} publishes no DMARC record (_dmarc.{domain}); "
                  "Gmail and Yahoo require one of bulk senders")]


def _alignment(settings: Settings, from_domain: str, envelope_domain: str) -> list[Check]:
    checks = []
    if _aligned(envelope_domain, from_domain):
        checks.append(Check("spf alignment", OK, f"envelope {envelope_domain} aligns with "
                            f"From {from_domain}"))
    else:
        checks.append(Check("spf alignment", WARN, f"envelope {envelope_domain} does not "
                            f"align with From {from_domain}: DMARC rests on DKIM alone"))
    if settings.dkim_domain:
        aligned = _aligned(settings.dkim_domain.lower(), from_domain)
        checks.append(Check("dkim alignment", OK if aligned else FAIL,
                            f"d={settings.dkim_domain} "
                            + ("aligns with" if aligned else "does not align with")
                            + f" From {from_domain}"))
    return checks


def _bounce_domain(resolver: Dns, domain: str) -> list[Check]:
    if resolver.has_mail_host(domain):
        return [Check("bounce domain", OK, f"{domain} receives mail")]
    return [Check("bounce domain", FAIL, f"{domain} has no MX or address record: bounces "
                  "and complaints are lost")]


def _relay(settings: Settings, tls_context: ssl.SSLContext | None) -> list[Check]:
    if not settings.smtp_url:
        return [Check("relay", WARN, "no smtp_url: messages are written to the outbox folder")]
    relay = parse_smtp_url(settings.smtp_url)
    local = relay.host in _LOCAL_HOSTS
    context = tls_context or ssl.create_default_context()
    try:
        if relay.tls == "implicit":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(relay.host, relay.port, timeout=10,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(relay.host, relay.port, timeout=10)
    except (OSError, smtplib.SMTPException) as exc:
        return [Check("relay", FAIL, f"cannot reach {relay.address}: {exc}")]
    try:
        return _relay_session(smtp, relay.tls == "implicit", relay.user, relay.password,
                              local, context, relay.address)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _relay_session(smtp: smtplib.SMTP, implicit: bool, user: str | None,
                   password: str | None, local: bool, context: ssl.SSLContext,
                   address: str) -> list[Check]:
    try:
        smtp.ehlo()
        if not implicit and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        encrypted = isinstance(smtp.sock, ssl.SSLSocket)
        tls = Check("relay tls", OK, f"{address}: TLS") if encrypted else Check(
            "relay tls", WARN if local else FAIL,
            f"{address} offers no TLS" + ("; acceptable for a relay on this host" if local
                                          else ": mail and passwords cross the network in "
                                               "clear"))
        if user is None:
            auth = Check("relay auth", OK if local else WARN,
                         f"{address}: no login" + ("" if local else
                                                   " (the relay must trust this host)"))
        else:
            smtp.login(user, password or "")
            auth = Check("relay auth", OK, f"{address}: logged in as {user}")
        return [tls, auth]
    except smtplib.SMTPAuthenticationError as exc:
        return [Check("relay auth", FAIL, f"{address} refused the login: {exc.smtp_code}")]
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return [Check("relay tls", FAIL, f"{address}: {type(exc).__name__}: {exc}")]
