"""Managing operators, and trusted lists only named operators may send to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from distribution.accountability.actors import Actor, Refused, Role
from distribution.accountability.log import record
from distribution.errors import InvalidInput, NotFound
from distribution.store.models import ListSender, MailingList, Operator

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")


def checked_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidInput(f"an operator name is 1-100 letters, digits, '.', '_', '@' or '-', "
                           f"starting with a letter or digit; not {name!r}")
    return name


def add_operator(session: Session, actor: Actor, name: str, role: Role) -> Operator:
    """Add an operator; the first one is an admin whatever was asked (someone must be)."""
    checked_name(name)
    if _find(session, name) is not None:
        raise InvalidInput(f"operator '{name}' already exists")
    first = not session.scalar(select(func.count()).select_from(Operator))
    operator = Operator(name=name, role=(Role.ADMIN if first else role).value)
    session.add(operator)
    session.flush()
    why = " (the first operator is an admin)" if first and role != Role.ADMIN else ""
    record(session, actor, "operator.add", f"operator {name}",
           f"added {name} as {operator.role}{why}")
    return operator


def remove_operator(session: Session, actor: Actor, name: str) -> None:
    operator = get_operator(session, name)
    _keep_an_admin(session, operator, None)
    session.delete(operator)
    session.flush()
    record(session, actor, "operator.remove", f"operator {name}",
           f"removed {name} ({operator.role})")


def set_role(session: Session, actor: Actor, name: str, role: Role) -> Operator:
    operator = get_operator(session, name)
    if operator.role == role.value:
        raise InvalidInput(f"operator '{name}' is already {role.value}")
    _keep_an_admin(session, operator, role)
    before, operator.role = operator.role, role.value
    session.flush()
    record(session, actor, "operator.set-role", f"operator {name}",
           f"{name}: {before} -> {role.value}")
    return operator


def get_operator(session: Session, name: str) -> Operator:
    operator = _find(session, name)
    if operator is None:
        raise NotFound(f"no operator named '{name}'")
    return operator


def all_operators(session: Session) -> list[dict[str, Any]]:
    lists = _restricted_lists_by_operator(session)
    return [{"name": o.name, "role": o.role, "created_at": o.created_at.isoformat(),
             "may_send_to": lists.get(o.id, [])}
            for o in session.scalars(select(Operator).order_by(Operator.name))]


def restrict_list(session: Session, actor: Actor, list_name: str,
                  names: Sequence[str]) -> list[str]:
    """Only these operators may send to the list from now on; none: anyone may again."""
    mailing_list = session.scalar(select(MailingList).where(MailingList.name == list_name))
    if mailing_list is None:
        raise NotFound(f"no list named '{list_name}'")
    operators = [get_operator(session, name) for name in dict.fromkeys(names)]
    session.execute(delete(ListSender).where(ListSender.list_id == mailing_list.id))
    session.add_all(ListSender(list_id=mailing_list.id, operator_id=o.id) for o in operators)
    session.flush()
    shown = ", ".join(o.name for o in operators) or "anyone"
    record(session, actor, "list.restrict", f"list {list_name}", f"who may send: {shown}")
    return [o.name for o in operators]


def check_may_send(session: Session, actor: Actor, list_ids: Sequence[int],
                   release_id: int) -> None:
    """Refuse a send to a restricted list by an operator it does not name."""
    if actor.unchecked:
        return
    rows = session.execute(
        select(MailingList.name, Operator.name)
        .join(ListSender, ListSender.list_id == MailingList.id)
        .join(Operator, Operator.id == ListSender.operator_id)
        .where(MailingList.id.in_(list_ids))).all()
    allowed: dict[str, set[str]] = {}
    for list_name, operator in rows:
        allowed.setdefault(list_name, set()).add(operator)
    for list_name, names in sorted(allowed.items()):
        if actor.name not in names:
            raise Refused(f"operator '{actor.name}' may not send to list '{list_name}' "
                          f"(only {', '.join(sorted(names))})", actor=actor, action="send",
                          obj=f"release {release_id}", release_id=release_id)


def _find(session: Session, name: str) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.name == name))


def _keep_an_admin(session: Session, operator: Operator, new_role: Role | None) -> None:
    """Someone must be able to manage operators: the last admin stays one."""
    if operator.role != Role.ADMIN.value or new_role == Role.ADMIN:
        return
    # The admins' rows locked: two admins demoting each other at once cannot both pass.
    admins = session.scalars(select(Operator.id).where(Operator.role == Role.ADMIN.value)
                             .with_for_update()).all()
    if len(admins) == 1:
        raise InvalidInput(f"'{operator.name}' is the last admin; make another operator an "
                           "admin first")


def _restricted_lists_by_operator(session: Session) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for operator_id, list_name in session.execute(
            select(ListSender.operator_id, MailingList.name)
            .join(MailingList, MailingList.id == ListSender.list_id)
            .order_by(MailingList.name)):
        found.setdefault(operator_id, []).append(list_name)
    return found
