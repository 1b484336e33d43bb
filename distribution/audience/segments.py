"""Aiming a send: conditions on contact fields, and segments that save lists with them.

A condition is `field=value[,value…]` on one of FIELDS; a contact matches when, for every
field named, its value is one of those given (compared without regard to case). A segment
is a named set of lists and conditions, sent to by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from distribution.errors import InvalidInput, NotFound
from distribution.store.models import Contact, MailingList, Segment

Conditions = dict[str, list[str]]
FIELDS = ("beat", "country", "language", "outlet", "timezone")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MAX_VALUES = 200


def parse_where(specs: Iterable[str]) -> Conditions:
    """`--where beat=justice --where country=SY,LB` -> {"beat": ["justice"], ...}."""
    conditions: Conditions = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise InvalidInput(f"--where {spec!r}: write it as FIELD=VALUE[,VALUE…], e.g. "
                               "beat=justice or country=SY,LB")
        if name not in FIELDS:
            raise InvalidInput(f"--where: no contact field {name!r}; the fields are "
                               + ", ".join(FIELDS))
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not values:
            raise InvalidInput(f"--where {spec!r} gives no value")
        merged = conditions.setdefault(name, [])
        merged += [v for v in values if v not in merged]
        if len(merged) > _MAX_VALUES:
            raise InvalidInput(f"--where {name}: more than {_MAX_VALUES} values")
    return conditions


def matches(conditions: Mapping[str, list[str]] | None) -> ColumnElement[bool] | None:
    """The SQL condition on Contact; None when there is nothing to narrow."""
    if not conditions:
        return None
    return and_(*(func.lower(getattr(Contact, name)).in_([v.lower() for v in values])
                  for name, values in conditions.items()))


def describe(conditions: Mapping[str, list[str]]) -> str:
    return " and ".join(f"{name} is {' or '.join(values)}"
                        for name, values in conditions.items())


def create_segment(session: Session, name: str, list_names: list[str], conditions: Conditions,
                   now: datetime) -> Segment:
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"segment name {name!r}: use letters, digits, '-', '_', '.'")
    if not list_names:
        raise InvalidInput("name at least one list with --list")
    known = set(session.scalars(select(MailingList.name).where(MailingList.name.in_(list_names))))
    missing = [n for n in list_names if n not in known]
    if missing:
        raise NotFound(f"no list named '{missing[0]}'")
    if session.scalar(select(Segment.id).where(Segment.name == name)) is not None:
        raise InvalidInput(f"a segment named '{name}' already exists")
    segment = Segment(name=name, list_names=list(dict.fromkeys(list_names)),
                      conditions=conditions, created_at=now)
    session.add(segment)
    session.flush()
    return segment


def get_segment(session: Session, name: str) -> Segment:
    segment = session.scalar(select(Segment).where(Segment.name == name))
    if segment is None:
        raise NotFound(f"no segment named '{name}'")
    return segment


def all_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def delete_segment(session: Session, name: str) -> None:
    session.delete(get_segment(session, name))
