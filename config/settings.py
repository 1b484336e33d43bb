"""Layered settings: shipped defaults, then a TOML file, then PRESSROOM_* variables."""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from dataclasses import dataclass, fields
from email.utils import parseaddr
from importlib import resources
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import unquote

import platformdirs

from config.private import private_folder, write_private
from config.urls import base_url_problem
from distribution.mail.headers import parse_mailbox
from distribution.zones import normalize_zone

SECRET_FIELDS = {"secret_key", "old_secret_keys"}
# TOML/env names that differ from the attribute name ("from" is a Python keyword).
ALIASES = {"from": "from_addr"}


class ConfigError(ValueError):
    """A setting the user gave cannot be used."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    broker_url: str
    smtp_url: str
    outbox: str
    journal_dir: str
    from_addr: str
    bounce_address: str
    base_url: str
    secret_key: str
    old_secret_keys: str
    unsubscribe_mailto: str
    org_name: str
    org_address: str
    org_contact: str
    org_boilerplate_heading: str
    org_boilerplate: str
    timezone: str
    list_id_domain: str
    templates_dir: str
    batch_size: int
    commit_every: int
    max_attempts: int
    retry_base_seconds: int
    retry_max_seconds: int
    claim_timeout_seconds: int
    sweep_seconds: int
    pause_after_errors: int
    lateness_seconds: int
    rate_limit: float
    domain_rate_limit: float
    soft_bounce_limit: int
    complaint_rate_warning: float
    bounce_rate_warning: float
    dkim_selector: str
    dkim_domain: str
    dkim_private_key_file: str
    dkim_ed25519_selector: str
    dkim_ed25519_key_file: str
    dns_server: str
    confirmations_per_hour: int
    media_store: str
    media_dir: str
    media_max_bytes: int
    media_max_pixels: int
    require_approval: bool

    @property
    def sender_domain(self) -> str:
        return parseaddr(self.from_addr)[1].rpartition("@")[2] or "localhost"

    @property
    def envelope_sender(self) -> str:
        return self.bounce_address or parseaddr(self.from_addr)[1]

    @property
    def verify_keys(self) -> list[str]:
        """The signing key first, then older keys that still verify."""
        old = [k.strip() for k in self.old_secret_keys.split(",") if k.strip()]
        return [self.secret_key, *old]

    def masked(self) -> dict[str, object]:
        """Every setting, with secrets and URL passwords hidden, for display."""
        shown: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "********"
            elif isinstance(value, str) and "://" in value:
                value = _mask_url_password(value)
            shown[_public_name(f.name)] = value
        return shown


def data_dir(environ: dict[str, str] | None = None) -> Path:
    """Where the embedded default keeps its database, outbox and key."""
    override = (os.environ if environ is None else environ).get("PRESSROOM_HOME")
    return Path(override) if override else Path(platformdirs.user_data_dir("pressroom"))


def load_settings(config_file: str | os.PathLike[str] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file (argument or PRESSROOM_CONFIG), then the environment."""
    env = dict(os.environ if environ is None else environ)
    values = _read_toml(resources.files("config").joinpath("defaults.toml").read_text("utf-8"))
    path = config_file or env.get("PRESSROOM_CONFIG")
    if path:
        values.update(_read_user_file(Path(path), known=set(values)))
    for key in list(values):
        env_value = env.get("PRESSROOM_" + key.upper())
        if env_value is not None:
            values[key] = env_value
    return _checked(_fill_computed(_typed(values), data_dir(env)))


def _read_toml(text: str) -> dict[str, object]:
    return dict(tomllib.loads(text))


def _read_user_file(path: Path, known: set[str]) -> dict[str, object]:
    try:
        data = _read_toml(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting {unknown[0]!r}")
    return data


def _typed(values: dict[str, object]) -> dict[str, Any]:
    types = get_type_hints(Settings)
    typed: dict[str, Any] = {}
    for key, value in values.items():
        name = ALIASES.get(key, key)
        kind = types[name]
        if kind is bool:
            typed[name] = _boolean(key, value)
            continue
        if kind is int and isinstance(value, (bool, float)):
            # TOML's true and 500.5: int() would take them for 1 and 500, silently.
            raise ConfigError(f"setting {key!r} must be a whole number, not {value!r}")
        try:
            typed[name] = (kind if kind in (int, float) else str)(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"setting {key!r} must be a number, not {value!r}") from None
    return typed


def _boolean(key: str, value: object) -> bool:
    """true/false from TOML; from the environment, also 1/0, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"setting {key!r} must be true or false, not {value!r}")


def _fill_computed(values: dict[str, Any], home: Path) -> Settings:
    if not values["database_url"]:
        values["database_url"] = f"sqlite:///{home / 'pressroom.db'}"
    if not values["outbox"]:
        values["outbox"] = str(home / "outbox")
    if not values["journal_dir"]:
        values["journal_dir"] = str(home / "journal")
    if not values["media_dir"]:
        values["media_dir"] = str(home / "media")
    if not values["secret_key"]:
        values["secret_key"] = _stored_secret(home)
    if not values["unsubscribe_mailto"]:
        domain = parseaddr(str(values["from_addr"]))[1].rpartition("@")[2] or "localhost"
        values["unsubscribe_mailto"] = f"unsubscribe@{domain}"
    return Settings(**values)


# Lower bounds that keep the engine working: zero batches claim nothing, and a claim
# timeout shorter than one group's send hands live claims to a second worker.
MINIMUMS = {"batch_size": 1, "commit_every": 1, "max_attempts": 1, "retry_base_seconds": 1,
            "claim_timeout_seconds": 5, "sweep_seconds": 1, "lateness_seconds": 0,
            "pause_after_errors": 0, "rate_limit": 0, "domain_rate_limit": 0,
            "soft_bounce_limit": 1, "confirmations_per_hour": 0, "media_max_bytes": 1,
            "media_max_pixels": 1, "complaint_rate_warning": 0, "bounce_rate_warning": 0}
MEDIA_STORES = ("folder", "database")
# A bounce address is a plain address VERP can extend: local+TOKEN@domain.
_BOUNCE_ADDRESS = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+")
# The mailto: of List-Unsubscribe: any one address without white space or brackets.
_MAILTO = re.compile(r"[^\s<>@,;]+@[^\s<>@,;]+")


# Upper bounds: a value past these is a typing mistake (claim_timeout_seconds = 1e20 passed
# the minimum and overflowed a date once a distribution was recorded).
DAY = 86_400
MAXIMUMS = {"batch_size": 100_000, "commit_every": 100_000, "max_attempts": 1_000,
            "retry_base_seconds": 30 * DAY, "retry_max_seconds": 365 * DAY,
            "claim_timeout_seconds": 30 * DAY, "sweep_seconds": DAY,
            "lateness_seconds": 365 * DAY, "pause_after_errors": 1_000_000,
            "rate_limit": 1_000_000, "domain_rate_limit": 1_000_000,
            "confirmations_per_hour": 1_000_000, "soft_bounce_limit": 1_000,
            # Rates are fractions: 1 (100 %) never warns.
            "complaint_rate_warning": 1, "bounce_rate_warning": 1}


def _checked(settings: Settings) -> Settings:
    """Refuse settings that would send malformed mail or stall the engine."""
    try:
        parse_mailbox(settings.from_addr)
    except ValueError as exc:
        raise ConfigError(f"setting 'from' {exc}: {settings.from_addr!r}") from None
    for name, low in MINIMUMS.items():
        if not getattr(settings, name) >= low:  # "not >=": NaN is refused too
            raise ConfigError(f"setting {name!r} must be at least {low}")
    for name, high in MAXIMUMS.items():
        if getattr(settings, name) > high:
            raise ConfigError(f"setting {name!r} must be at most {high}")
    if settings.timezone:
        try:
            normalize_zone(settings.timezone)
        except ValueError as exc:
            raise ConfigError(f"setting 'timezone': {exc}") from None
    if problem := base_url_problem(settings.base_url):
        raise ConfigError(f"setting 'base_url': {problem}")
    if len(settings.unsubscribe_mailto) > 254 or not _MAILTO.fullmatch(
            settings.unsubscribe_mailto):
        raise ConfigError("setting 'unsubscribe_mailto' must be a plain address such as "
                          "unsubscribe@press.example.org")
    if settings.media_store not in MEDIA_STORES:
        raise ConfigError(f"setting 'media_store' must be one of {', '.join(MEDIA_STORES)}, "
                          f"not {settings.media_store!r}")
    if settings.bounce_address and not _BOUNCE_ADDRESS.fullmatch(settings.bounce_address):
        raise ConfigError("setting 'bounce_address' must be a plain address such as "
                          f"bounces@press.example.org (no '+'), not {settings.bounce_address!r}")
    _check_dkim(settings)
    if "change-me" in settings.secret_key:
        raise ConfigError("setting 'secret_key' is still the example value; set a long random "
                          "secret")
    return settings


DKIM_SETTINGS = ("dkim_selector", "dkim_domain", "dkim_private_key_file")


def _check_dkim(settings: Settings) -> None:
    """All three DKIM settings or none; key files only their owner can read."""
    given = [name for name in DKIM_SETTINGS if getattr(settings, name)]
    if given and len(given) < len(DKIM_SETTINGS):
        missing = ", ".join(n for n in DKIM_SETTINGS if n not in given)
        raise ConfigError(f"DKIM signing needs {missing} too (or none of the DKIM settings)")
    if bool(settings.dkim_ed25519_key_file) != bool(settings.dkim_ed25519_selector):
        raise ConfigError("set dkim_ed25519_key_file and dkim_ed25519_selector together")
    if settings.dkim_ed25519_key_file and not given:
        raise ConfigError("dkim_ed25519_key_file signs beside an RSA key: set "
                          "dkim_private_key_file, dkim_selector and dkim_domain too")
    if given and settings.dkim_ed25519_selector == settings.dkim_selector:
        raise ConfigError("dkim_ed25519_selector must differ from dkim_selector: each "
                          "key is published under its own selector")
    for name in ("dkim_private_key_file", "dkim_ed25519_key_file"):
        path = getattr(settings, name)
        if not path:
            continue
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError as exc:
            raise ConfigError(f"setting {name!r}: cannot read {path}: "
                              f"{exc.strerror or exc}") from None
        if mode & 0o077:
            raise ConfigError(f"setting {name!r}: {path} can be read by others (mode "
                              f"{mode:o}); run chmod 600 {path}")


def _stored_secret(home: Path) -> str:
    """A random key made once per data directory, so signed links survive restarts.

    Several hosts must share one key: set secret_key there (see defaults.toml).
    """
    path = home / "secret_key"
    try:
        if not path.exists():
            private_folder(home)
            _write_new_secret(path)
        key = path.read_text("ascii").strip()
    except OSError as exc:
        raise ConfigError(f"cannot keep the signing key in {home}: {exc.strerror}") from None
    if not key:
        raise ConfigError(f"the signing key file {path} is empty; delete it to make a new one")
    return key


def _write_new_secret(path: Path) -> None:
    # Not replacing: of two processes starting at once, one writes the key, both read it.
    write_private(path, secrets.token_urlsafe(32).encode("ascii"), replace=False)


def _public_name(name: str) -> str:
    return {v: k for k, v in ALIASES.items()}.get(name, name)


# Query parameters that carry a secret: libpq's password=, redis's password=, tokens, keys.
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|auth", re.IGNORECASE)


def _mask_url_password(url: str) -> str:
    """The URL with the password in its user part and secret query parameters masked."""
    scheme, _, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:********@{hostpart}"
    head, question, query = rest.partition("?")
    if question:
        masked = []
        for pair in query.split("&"):
            name, equals, value = pair.partition("=")
            masked.append(f"{name}=********" if equals and value and _SECRET_PARAM.search(
                unquote(name)) else pair)
        rest = f"{head}?{'&'.join(masked)}"
    return f"{scheme}://{rest}"
