"""What every command shares: settings, the store, JSON output and plain errors."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy import Engine, orm
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from config import ConfigError, Settings, load_settings
from config.urls import broker_url_problem
from distribution.accountability import Actor, Refused, Role, acting, process_origin
from distribution.accountability.log import record_refusal
from distribution.errors import PressroomError
from distribution.store.db import StoreError, check_schema, make_engine, session_factory
from distribution.transport import TransportError
from distribution.transport.url import parse_smtp_url

P = ParamSpec("P")
R = TypeVar("R")


class RowId(click.ParamType[int, Any]):
    """A row id as both databases store it (64-bit signed): a bigger number is a typing
    mistake, answered in one line instead of an overflow deep in the database driver."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            raise click.ClickException(f"{param.human_readable_name if param else 'id'} must "
                                       f"be a whole number, not {value!r}")
        if int(text) > 2**63 - 1:
            raise click.ClickException(f"no such id: {text} (ids are at most 2^63-1)")
        return int(text)


ROW_ID = RowId()


@dataclass
class App:
    config_file: str | None = None
    operator: str | None = None  # --as NAME or PRESSROOM_OPERATOR
    _settings: Settings | None = None
    _engine: Engine | None = None
    _factory: sessionmaker[Session] | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = _usable(load_settings(self.config_file))
            if self.config_file:
                # The Celery app reads settings from the environment when it is imported.
                os.environ["PRESSROOM_CONFIG"] = str(self.config_file)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            try:
                self._engine = make_engine(self.settings.database_url)
            except (ArgumentError, NoSuchModuleError) as exc:
                raise StoreError(f"cannot use database URL: {exc}") from None
        return self._engine

    @property
    def Session(self) -> sessionmaker[Session]:  # noqa: N802 - reads like the class it makes
        if self._factory is None:
            check_schema(self.engine)
            self._factory = session_factory(self.engine)
        return self._factory

    def close(self) -> None:
        """Hang up on the database politely (the server logs a dropped connection)."""
        if self._engine is not None:
            self._engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[orm.Session]:
        """One unit of work: committed when the block ends, rolled back on any error.

        A refusal (unknown operator, missing role, unapproved send) rolls the work back and
        is recorded in the audit log by a transaction of its own.
        """
        try:
            with self.Session() as session, session.begin():
                yield session
        except Refused as refusal:
            with self.Session() as session, session.begin():
                record_refusal(session, refusal)
            raise

    def acting(self, session: orm.Session, need: Role, action: str, obj: str,
               release_id: int | None = None) -> Actor:
        """The operator this command runs as, checked to hold `need` (accountability)."""
        return acting(session, self.operator, process_origin(), action=action, obj=obj,
                      need=need, release_id=release_id)


def _usable(settings: Settings) -> Settings:
    """Settings that can only be checked with the domain's own readers."""
    if settings.smtp_url:
        try:
            parse_smtp_url(settings.smtp_url)
        except ValueError as exc:
            raise ConfigError(f"setting 'smtp_url': {exc}") from None
    # Checked here, not with the other settings, which only read it: anything but a usable
    # Redis URL was taken for a broker that is down, and sends were recorded for no one.
    if settings.broker_url and (problem := broker_url_problem(settings.broker_url)):
        raise ConfigError(f"setting 'broker_url': {problem}")
    if settings.dkim_private_key_file:
        # Read the keys now: a key that cannot sign would otherwise stop every batch.
        from distribution.mail.signing.dkim import DkimError, configured_signer

        try:
            configured_signer(settings)
        except DkimError as exc:
            raise ConfigError(str(exc)) from None
    return settings


pass_app = click.make_pass_decorator(App, ensure=True)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can cause into one-line messages and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (PressroomError, ConfigError, StoreError, TransportError) as exc:
            raise click.ClickException(error_line(str(exc))) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(error_line(f"database error: {reason}")) from None

    return wrapper


MAX_ERROR = 400  # characters: an error quoting a huge input says so, not all of it


def error_line(message: str) -> str:
    """The message on one line, whatever it quotes: control characters shown escaped
    (a CR/LF typed into an option must not start a line of its own), long ones cut."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    return shown if len(shown) <= MAX_ERROR else shown[:MAX_ERROR] + "…"


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
