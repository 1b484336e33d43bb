"""Reading an smtp:// or smtps:// URL into the settings of a connection.

    smtp://[user[:password]@]host[:port][?starttls=auto|always|no]    port 25
    smtps://[user[:password]@]host[:port]                              port 465, TLS at once

User and password are percent-decoded. STARTTLS: `auto` (the default) upgrades when the
server offers it, and insists on it when a user is given, so a password never crosses in
clear; `always` insists on it; `no` never upgrades (a local relay without a certificate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

TlsMode = Literal["implicit", "required", "opportunistic", "none"]

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_STARTTLS_TO_TLS: dict[str, TlsMode | None] = {"always": "required", "no": "none", "auto": None}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: TlsMode
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read an smtp:// or smtps:// URL; ValueError with a one-line message if malformed."""
    parts = urlsplit(url.strip())
    shown = re.sub(r"//.*@", "//***@", url.strip())  # never echo a user or a password
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"SMTP URL must start with smtp:// or smtps://: {shown!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"SMTP URL has a bad port: {shown!r}") from None
    if not parts.hostname:
        raise ValueError(f"SMTP URL has no host: {shown!r}")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"SMTP URL takes no path or fragment: {shown!r}")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpSettings(
        host=parts.hostname,
        port=_DEFAULT_PORTS[scheme] if port is None else port,
        tls=_tls_mode(scheme, parts.query, user is not None, shown),
        user=user,
        password=password,
    )


def _tls_mode(scheme: str, query: str, has_user: bool, shown: str) -> TlsMode:
    options = parse_qs(query, keep_blank_values=True)
    if set(options) - {"starttls"}:
        raise ValueError(f"SMTP URL accepts only the starttls= option: {shown!r}")
    if scheme == "smtps":
        if options:
            raise ValueError(f"starttls= applies to smtp:// URLs, not smtps://: {shown!r}")
        return "implicit"
    choice = options.get("starttls", ["auto"])[-1].lower()
    if choice not in _STARTTLS_TO_TLS:
        raise ValueError(f"starttls= must be auto, always or no: {shown!r}")
    return _STARTTLS_TO_TLS[choice] or ("required" if has_user else "opportunistic")


