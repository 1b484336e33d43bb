"""Who acts: operators and their roles, the implicit operator, the system and subscribers."""

from __future__ import annotations

import enum
import getpass
import os
import socket
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from distribution.errors import PressroomError
from distribution.store.models import Operator


class Role(enum.StrEnum):
    """Each role may do what the ones before it may."""

    EDITOR = "editor"        # draft, import, send approved releases, steer sends
    APPROVER = "approver"    # also approve releases
    ADMIN = "admin"          # also manage operators, lists and settings

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidRole(f"no role '{text}'; choose editor, approver or admin") from None


class InvalidRole(PressroomError):
    """A role name that is not one of the three."""


@dataclass(frozen=True)
class Actor:
    """Who an audit entry names. kind: operator (a known one), implicit (no operators are
    configured: the name is the one given, else the system user), system (the sweep and
    workers), subscriber (named by contact id), unknown (a refused name)."""

    name: str
    kind: str
    origin: str
    role: Role | None = None

    @property
    def unchecked(self) -> bool:
        """No operators exist: every command is allowed, as before operators existed."""
        return self.kind == "implicit"


class Refused(PressroomError):
    """A command refused for who asked (unknown operator, missing role, unapproved send).

    The change's transaction rolls back; the refusal itself is recorded in a transaction of
    its own (the CLI's App.transaction does it), so the log shows who was turned away.
    """

    def __init__(self, message: str, *, actor: Actor, action: str, obj: str,
                 release_id: int | None = None) -> None:
        super().__init__(message)
        self.actor, self.action, self.obj, self.release_id = actor, action, obj, release_id


@cache
def process_origin() -> str:
    """Where a command or worker runs: host and process id."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def system_actor() -> Actor:
    return Actor("pressroom", "system", process_origin())


def subscriber_actor(contact_id: int, origin: str) -> Actor:
    """A subscriber acting on their own subscription: the contact id, never the address."""
    return Actor(f"contact {contact_id}", "subscriber", origin)


def acting(session: Session, name: str | None, origin: str, *, action: str,
           obj: str, need: Role = Role.EDITOR, release_id: int | None = None) -> Actor:
    """The operator named for a changing command, checked to hold the role it needs.

    With no operators at all, anyone may act (as Pressroom did before operators existed),
    recorded under the name given or the system user's name.
    """
    name = _printable(name) if name else name
    if not _any_operator(session):
        return Actor(name or _system_user(), "implicit", origin)
    if not name:
        raise Refused("name the acting operator with --as NAME or PRESSROOM_OPERATOR",
                      actor=Actor("(none)", "unknown", origin), action=action, obj=obj,
                      release_id=release_id)
    operator = session.scalar(select(Operator).where(Operator.name == name))
    if operator is None:
        raise Refused(f"unknown operator '{name}'", actor=Actor(name, "unknown", origin),
                      action=action, obj=obj, release_id=release_id)
    actor = Actor(operator.name, "operator", origin, Role(operator.role))
    require(actor, need, action=action, obj=obj, release_id=release_id)
    return actor


def require(actor: Actor, need: Role, *, action: str, obj: str,
            release_id: int | None = None) -> None:
    """Refuse an operator whose role is below `need`; the implicit operator may do all."""
    if actor.unchecked:
        return
    if actor.role is None or actor.role.rank < need.rank:
        held = actor.role.value if actor.role else actor.kind
        raise Refused(f"operator '{actor.name}' is {_article(held)} {held}; {action} needs "
                      f"the {need.value} role", actor=actor, action=action, obj=obj,
                      release_id=release_id)


def _printable(name: str) -> str:
    """A name as typed, unless it hides line breaks or control characters: then quoted."""
    return name if name.isprintable() else repr(name)


def _any_operator(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Operator)))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's uid)
        return f"uid {os.getuid()}"
