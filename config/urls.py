"""The URLs among the settings, checked before anything uses them: one line saying what is
wrong, never the value (a broker URL may hold a password)."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qsl, urlsplit

# The unsubscribe link (base_url, "/u/", a signed token) must fit one header line with room.
MAX_BASE_URL = 400
MAX_BROKER_URL = 2_000
# White space and controls, anywhere: urlsplit drops tabs and line ends without a word.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# Options a redis:// URL may carry after "?"; the password and database go in the URL itself
# (given twice, redis-py refused the URL when it was first used, in a worker).
_BROKER_OPTIONS = frozenset({
    "socket_timeout", "socket_connect_timeout", "socket_keepalive", "retry_on_timeout",
    "health_check_interval", "client_name", "ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile",
    "ssl_keyfile", "ssl_check_hostname", "protocol"})


def base_url_problem(url: str) -> str | None:
    """What is wrong with the newsroom's public address, if anything."""
    if len(url) > MAX_BASE_URL:
        return f"longer than {MAX_BASE_URL} characters"
    if _UNSAFE.search(url):
        return "holds spaces or control characters"
    parts = _split(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an address such as https://press.example.org"
    if parts.query or parts.fragment:
        return "has a '?' or '#' part; links are made by adding paths to it"
    return None


def broker_url_problem(url: str) -> str | None:
    """What is wrong with a redis:// or rediss:// URL, if anything: Celery queues on it and
    the batch journals live in it, so only Redis serves."""
    if len(url) > MAX_BROKER_URL or _UNSAFE.search(url) or not url.isascii():
        return "not a Redis URL: it holds spaces, control or non-ASCII characters"
    parts = _split(url)
    if parts is None or url.split(":", 1)[0] not in ("redis", "rediss"):
        return "not a Redis URL (redis://HOST:6379/0 or rediss://...)"
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return ("its port is not a number from 1 to 65535 (a '/', '?' or '#' in the "
                "password is written %2F, %3F or %23)")
    host = parts.hostname or ""
    if not (host.startswith("[") or ":" in host or _valid_host(host)):
        return "its host is not a host name or address"
    if parts.path not in ("", "/") and not re.fullmatch(r"/\d{1,9}", parts.path):
        return "its database (the path) is not a number, as in redis://HOST:6379/0"
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _BROKER_OPTIONS:
            return (f"its query has an option Pressroom does not pass on ({key[:40]}); "
                    "a password or database goes in the URL itself")
    return None


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # an unmatched "[" (IPv6), say
        return None


def _valid_host(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    return 0 < len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)
