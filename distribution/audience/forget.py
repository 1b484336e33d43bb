"""Erasing a person (GDPR art. 17) while keeping the promise never to mail them again.

`forget` deletes the contact (and so its subscriptions), removes the address from past
deliveries and from the suppression list, and keeps one suppression entry holding only a
hash of the address. An import or a sign-up of that address later is recognised by the hash
and refused; nothing else about the person remains.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from distribution.errors import NotFound
from distribution.store.models import Contact, Delivery, Suppression

PREFIX = "forgotten:sha256:"
REASON = "forgotten at their request; never mail again"


def forgotten_key(email: str) -> str:
    """What stays of an address once forgotten: a hash of it, case-folded."""
    return PREFIX + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Forgotten:
    contacts: int
    deliveries: int


def forget(session: Session, email: str) -> Forgotten:
    """Erase everything Pressroom holds about the address; NotFound if it holds nothing."""
    lowered = email.strip().lower()
    key = forgotten_key(lowered)
    contacts = session.execute(delete(Contact).where(func.lower(Contact.email) == lowered)
                               .execution_options(synchronize_session=False)).rowcount
    deliveries = session.execute(
        update(Delivery).where(func.lower(Delivery.email) == lowered)
        .values(email=key, smtp_reply=None)
        .execution_options(synchronize_session=False)).rowcount
    plain = session.execute(delete(Suppression).where(func.lower(Suppression.email) == lowered)
                            .execution_options(synchronize_session=False)).rowcount
    if not (contacts or deliveries or plain) and _known(session, key):
        raise NotFound(f"{email} was already forgotten")
    if not (contacts or deliveries or plain):
        raise NotFound(f"no contact, delivery or suppression holds {email}")
    if not _known(session, key):
        session.add(Suppression(email=key, reason=REASON))
    return Forgotten(contacts, deliveries)


def _known(session: Session, key: str) -> bool:
    return session.scalar(select(Suppression.id).where(Suppression.email == key)) is not None


def forgotten_keys(session: Session) -> set[str]:
    """Every forgotten address's hash (few: one per erasure request)."""
    return set(session.scalars(select(Suppression.email)
                               .where(Suppression.email.startswith(PREFIX))))
