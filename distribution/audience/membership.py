"""The subscription changes the web pages make: sign up, confirm, unsubscribe, preferences.

Functions take the caller's Session and commit nothing. Suppressions follow one rule:
"unsubscribe from everything" adds one with a reason starting "unsubscribed from all";
only such a suppression is lifted, and only by an explicit act from the mailbox itself
(pressing Confirm on a double opt-in link, or ticking a list on the preferences page).
Bounces and complaints are never lifted from the web.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from distribution.audience.forget import forgotten_key
from distribution.store.models import (
    Contact,
    MailingList,
    Subscription,
    SubscriptionStatus,
    Suppression,
)

ALL_REASON = "unsubscribed from all via web"
LIFTABLE_PREFIX = "unsubscribed from all"
ACTIVE = (SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.PENDING)
# At most one confirmation email to an address in this time, however many sign-ups ask.
CONFIRM_RESEND = timedelta(minutes=10)


class Confirmed(enum.Enum):
    NOW = "now"                  # pending -> subscribed by this request
    ALREADY = "already"          # confirmed before: the link was used
    USED_UP = "used_up"          # unsubscribed since: an old link does not re-subscribe
    BLOCKED = "blocked"          # suppressed for a reason the web does not lift
    GONE = "gone"                # the contact, list or request no longer exists
    REPLACED = "replaced"        # a newer sign-up was mailed its own link since


def find_contact(session: Session, email: str) -> Contact | None:
    exact = session.scalar(select(Contact).where(Contact.email == email))
    if exact is not None:
        return exact
    # Imports may have kept another spelling of the same address.
    return session.scalar(select(Contact).where(func.lower(Contact.email) == email.lower())
                          .order_by(Contact.id).limit(1))


def contact_for_signup(session: Session, email: str, name: str | None,
                       language: str | None) -> Contact:
    """The contact for the address, created if new. An existing contact is left as it is:
    anyone can type any address into the form; what it offered is applied on confirmation
    (`confirm`), by the mailbox's owner."""
    contact = find_contact(session, email)
    if contact is None:
        contact = Contact(email=email, name=name, language=language)
        session.add(contact)
        session.flush()
    return contact


def request_subscription(session: Session, contact: Contact, mailing_list: MailingList,
                         form: str, wording: str, now: datetime,
                         hourly_cap: int | None = None) -> bool:
    """Record a sign-up as pending; True when a confirmation email should go out.

    A subscribed contact stays as it is (its confirmation link then says so); a suppressed
    address that the web cannot lift gets no email at all, nor does a mailbox that was sent
    one, for any list and under any spelling (victim+1@, Victim@), within CONFIRM_RESEND,
    nor anyone once `hourly_cap` emails went out in the last hour: whoever submits the form.
    """
    sub = session.get(Subscription, (contact.id, mailing_list.id))
    if sub is None:
        sub = Subscription(contact_id=contact.id, list_id=mailing_list.id,
                           status=SubscriptionStatus.PENDING, created_at=now)
        session.add(sub)
    if sub.status is not SubscriptionStatus.SUBSCRIBED:
        sub.status = SubscriptionStatus.PENDING
        sub.changed_at = now
        sub.consent_form = form[:100]
        sub.consent_wording = wording
    suppression = suppression_of(session, contact.email)
    if suppression is not None and not liftable(suppression):
        return False
    if hourly_cap is not None and _sent_since(session, now - timedelta(hours=1)) >= hourly_cap:
        return False
    last = session.scalar(select(func.max(Subscription.confirm_sent_at))
                          .join(Contact, Contact.id == Subscription.contact_id)
                          .where(_same_mailbox(contact.email)))
    return last is None or now - last >= CONFIRM_RESEND


def mailbox_key(email: str) -> tuple[str, str]:
    """(local part without its +tag, domain), lower-cased: the mailbox mail reaches."""
    local, _, domain = email.rpartition("@")
    return local.split("+", 1)[0].lower(), domain.lower()


def _same_mailbox(email: str) -> ColumnElement[bool]:
    local, domain = mailbox_key(email)
    plain = f"{local}@{domain}"
    tagged = f"{_like_escaped(local)}+%@{_like_escaped(domain)}"
    lowered = func.lower(Contact.email)
    return or_(lowered == plain, lowered.like(tagged, escape="\\"))


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sent_since(session: Session, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Subscription)
                          .where(Subscription.confirm_sent_at >= since)) or 0


def confirmation_sent(session: Session, contact_id: int, list_id: int, now: datetime) -> None:
    """Note the email as sent, once it was: a failed send leaves the visitor free to retry."""
    sub = session.get(Subscription, (contact_id, list_id))
    if sub is not None:
        sub.confirm_sent_at = now


def confirmation_state(session: Session, contact_id: int, list_id: int,
                       sent_at: int | None) -> Confirmed | None:
    """What pressing Confirm on a link for this sign-up would meet; None: it would confirm."""
    sub = session.get(Subscription, (contact_id, list_id))
    if sub is None or sub.contact is None:
        return Confirmed.GONE
    if sub.status is SubscriptionStatus.SUBSCRIBED:
        return Confirmed.ALREADY
    if sub.status is SubscriptionStatus.UNSUBSCRIBED:
        return Confirmed.USED_UP
    if sent_at is not None and (sub.confirm_sent_at is None
                                or int(sub.confirm_sent_at.timestamp()) != sent_at):
        return Confirmed.REPLACED  # a link of an earlier sign-up, mailed before this one
    suppression = suppression_of(session, sub.contact.email)
    if suppression is not None and not liftable(suppression):
        return Confirmed.BLOCKED
    return None


def confirm(session: Session, contact_id: int, list_id: int, ip: str, now: datetime, *,
            sent_at: int | None = None, name: str | None = None,
            language: str | None = None) -> Confirmed:
    """Apply a double opt-in confirmation, once; the contact gains the name and language
    the sign-up offered where it has none."""
    refused = confirmation_state(session, contact_id, list_id, sent_at)
    if refused is not None:
        return refused
    sub = session.get_one(Subscription, (contact_id, list_id))
    suppression = suppression_of(session, sub.contact.email)
    if suppression is not None:
        session.delete(suppression)
    sub.status = SubscriptionStatus.SUBSCRIBED
    sub.changed_at = sub.consent_at = now
    sub.consent_ip = ip[:64]
    sub.contact.name = sub.contact.name or name
    sub.contact.language = sub.contact.language or language
    return Confirmed.NOW


def unsubscribe(session: Session, contact_id: int, list_id: int, now: datetime) -> None:
    """Leave one list; nothing happens when already off it (the link may be clicked twice)."""
    sub = session.get(Subscription, (contact_id, list_id))
    if sub is not None and sub.status in ACTIVE:
        sub.status = SubscriptionStatus.UNSUBSCRIBED
        sub.changed_at = now


def leave(session: Session, contact_id: int, list_id: int, now: datetime, *,
          everything: bool = False) -> str | None:
    """What an unsubscribe token asks for: leave its list; or every list, suppressed, when
    `everything` is asked or the token names no list that exists (list id 0). Returns the
    name of the one list left, else None."""
    mailing_list = None if everything or not list_id else session.get(MailingList, list_id)
    if mailing_list is None:
        unsubscribe_all(session, contact_id, now)
        return None
    unsubscribe(session, contact_id, mailing_list.id, now)
    return mailing_list.name


def unsubscribe_all(session: Session, contact_id: int, now: datetime) -> None:
    """Leave every list and suppress the address, so no future list reaches it either."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return
    subs = session.scalars(select(Subscription).where(
        Subscription.contact_id == contact_id, Subscription.status.in_(ACTIVE)))
    for sub in subs:
        sub.status = SubscriptionStatus.UNSUBSCRIBED
        sub.changed_at = now
    suppress(session, contact.email, now)


def suppress(session: Session, email: str, now: datetime) -> None:
    """Add a suppression unless one exists (an earlier reason, e.g. a bounce, is kept)."""
    if suppression_of(session, email) is not None:
        return
    try:
        with session.begin_nested():  # a concurrent click may insert the same address
            session.add(Suppression(email=email, reason=ALL_REASON, created_at=now))
    except IntegrityError:
        pass


def suppression_of(session: Session, email: str) -> Suppression | None:
    """The address's suppression, also one left by `forget` (a hash of the address)."""
    return session.scalar(select(Suppression).where(
        Suppression.email.in_([email, forgotten_key(email)])).limit(1))


def forgotten(session: Session, email: str) -> bool:
    """Whether the person behind the address asked to be forgotten (`forget.forget`)."""
    return session.scalar(select(Suppression.id).where(
        Suppression.email == forgotten_key(email))) is not None


def liftable(suppression: Suppression) -> bool:
    return suppression.reason.startswith(LIFTABLE_PREFIX)


def set_lists(session: Session, contact: Contact, wanted: set[int], offered: set[int],
              form: str, wording: str, ip: str, now: datetime) -> None:
    """Make the contact's lists among `offered` match `wanted` (the preferences form).

    The preferences link reached this mailbox, so ticking an open list subscribes at once,
    with consent recorded. A pending sign-up that stays ticked stays pending: only its own
    confirmation link confirms it.
    """
    for list_id in offered:
        sub = session.get(Subscription, (contact.id, list_id))
        if list_id not in wanted:
            if sub is not None and sub.status in ACTIVE:
                sub.status = SubscriptionStatus.UNSUBSCRIBED
                sub.changed_at = now
        elif sub is None or sub.status is SubscriptionStatus.UNSUBSCRIBED:
            _subscribe_by_preferences(session, contact, list_id, sub, form, wording, ip, now)


def _subscribe_by_preferences(session: Session, contact: Contact, list_id: int,
                              sub: Subscription | None, form: str, wording: str, ip: str,
                              now: datetime) -> None:
    suppression = suppression_of(session, contact.email)
    if suppression is not None and not liftable(suppression):
        return
    if suppression is not None:
        session.delete(suppression)
        session.flush()
    if sub is None:
        sub = Subscription(contact_id=contact.id, list_id=list_id, created_at=now)
        session.add(sub)
    sub.status = SubscriptionStatus.SUBSCRIBED
    sub.changed_at = sub.consent_at = now
    sub.consent_ip = ip[:64]
    sub.consent_form = form[:100]
    sub.consent_wording = wording
