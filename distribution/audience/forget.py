"""Erasing a person (GDPR art. 17) while keeping the promise never to mail them again.

`forget` deletes the contact (and so its subscriptions), cancels what was still to go to
them, removes the address from past deliveries and from the suppression list, and keeps
one suppression entry holding only a hash of the address. An import, a sign-up or a test
copy to that address later is recognised by the hash and refused, and a row that reaches
a batch anyway is cancelled there (`audience.suppressed`); nothing else about the person
remains.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from email_validator import EmailNotValidError
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from distribution.audience.rows import Unsendable, mailable_address
from distribution.errors import NotFound
from distribution.store.db import rows_written
from distribution.store.models import Contact, Delivery, DeliveryStatus, Suppression

PREFIX = "forgotten:sha256:"
REASON = "forgotten at their request; never mail again"
_UNSENT = [DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]


def forgotten_key(email: str) -> str:
    """What stays of an address once forgotten: a hash of it, case-folded."""
    return PREFIX + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Forgotten:
    contacts: int
    deliveries: int


def forget(session: Session, email: str) -> Forgotten:
    """Erase everything Pressroom holds about the address; NotFound if it holds nothing."""
    lowered = _as_stored(email).lower()
    key = forgotten_key(lowered)
    contacts = rows_written(session, delete(Contact).where(func.lower(Contact.email) == lowered)
                            .execution_options(synchronize_session=False))
    # What was still to go to them goes nowhere (a held copy would leave at the lift): in
    # the same statement, one pass over the deliveries.
    unsent = Delivery.status.in_(_UNSENT)
    deliveries = rows_written(
        session, update(Delivery).where(func.lower(Delivery.email) == lowered)
        .values(email=key, smtp_reply=None,
                status=case((unsent, DeliveryStatus.CANCELLED.value), else_=Delivery.status),
                last_error=case((unsent, REASON), else_=Delivery.last_error))
        .execution_options(synchronize_session=False))
    plain = rows_written(
        session, delete(Suppression).where(func.lower(Suppression.email) == lowered)
        .execution_options(synchronize_session=False))
    if not (contacts or deliveries or plain) and _known(session, key):
        raise NotFound(f"{email} was already forgotten")
    if not (contacts or deliveries or plain):
        raise NotFound(f"no contact, delivery or suppression holds {email}")
    if not _known(session, key):
        session.add(Suppression(email=key, reason=REASON))
    return Forgotten(contacts, deliveries)


def _as_stored(email: str) -> str:
    """The address as imports and sign-ups store it (an IDNA domain...), so that its hash is
    the one they will look for; text that is no address is taken as it is."""
    try:
        return mailable_address(email, lambda: None)  # nothing is sent: any local part
    except (EmailNotValidError, Unsendable):
        return email.strip()


def _known(session: Session, key: str) -> bool:
    return session.scalar(select(Suppression.id).where(Suppression.email == key)) is not None


def forgotten_keys(session: Session) -> set[str]:
    """Every forgotten address's hash (few: one per erasure request)."""
    return set(session.scalars(select(Suppression.email)
                               .where(Suppression.email.startswith(PREFIX))))
