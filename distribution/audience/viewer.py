"""Whose copy to show: a contact as one of their lists makes them a recipient, for
`release preview --as` and `send --test-to --as`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.audience.membership import find_contact
from distribution.errors import NotFound
from distribution.mail.preview import Viewer
from distribution.store.models import MailingList, Subscription, SubscriptionStatus


def viewer_for(session: Session, address: str) -> Viewer:
    """The contact with this address, as a member of a trusted list if they are on one
    (theirs is the copy that goes out before the lift), else of their first public list."""
    contact = find_contact(session, address)
    if contact is None:
        raise NotFound(f"no contact with the address {address!r}; --public shows the copy "
                       "a public subscriber gets")
    lists = session.execute(
        select(MailingList.id, MailingList.name, MailingList.title, MailingList.trusted)
        .join(Subscription, Subscription.list_id == MailingList.id)
        .where(Subscription.contact_id == contact.id,
               Subscription.status == SubscriptionStatus.SUBSCRIBED)
        .order_by(MailingList.trusted.desc(), MailingList.id)).first()
    list_id, list_name, title, trusted = lists if lists is not None else (0, None, None, False)
    return Viewer(email=contact.email, name=contact.name, timezone=contact.timezone,
                  contact_id=contact.id, list_id=list_id, list_name=list_name,
                  trusted=bool(trusted), list_title=title)
