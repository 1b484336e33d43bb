"""`send --test-to`: one copy, exactly as a trusted recipient would get it, to one address."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime

from email_validator import EmailNotValidError
from sqlalchemy.orm import Session

from config import Settings
from distribution import embargo
from distribution.audience.rows import Unsendable, mailable_address
from distribution.audience.suppressed import refusals
from distribution.errors import InvalidInput
from distribution.mail import tokens
from distribution.mail.media import NO_MEDIA, MessageMedia
from distribution.mail.preview import Viewer, recipient_for
from distribution.mail.render import Recipient, load_templates, prepare
from distribution.mail.signing.dkim import signed
from distribution.mail.signing.verp import Verp
from distribution.store.models import Release
from distribution.transport import Envelope, Outcome, Smtputf8Probe, open_transport


def checked_test_address(session: Session, settings: Settings, address: str) -> str:
    """The address as a test copy goes to it; InvalidInput for one that is not an address,
    that the transport cannot carry (a non-ASCII local part without SMTPUTF8), or that
    must get nothing (suppressed, or a person who asked to be forgotten)."""
    try:
        email = mailable_address(address, Smtputf8Probe(settings.smtp_url))
    except EmailNotValidError as exc:
        raise InvalidInput(f"--test-to: invalid address '{address}': {exc}") from None
    except Unsendable as exc:
        raise InvalidInput(f"--test-to: cannot send to '{address}': {exc}") from None
    refused = refusals(session, [email]).get(email)
    if refused is not None and refused.forgotten:
        raise InvalidInput(f"--test-to: {address} asked to be forgotten; nothing is sent to it")
    if refused is not None:
        raise InvalidInput(f"--test-to: {address} is suppressed ({refused.reason}); nothing "
                           "is sent to it")
    return email


def send_test_copy(settings: Settings, release: Release, email: str,
                   now: datetime, viewer: Viewer | None = None,
                   media: MessageMedia = NO_MEDIA) -> Outcome:
    """One copy to `email` (as `checked_test_address` gives it); with a viewer, the copy
    that contact would get (marked only for a trusted list, their zone and their footer's
    links, which work as theirs)."""
    marked = embargo.marked(release.embargo_until, now) and (viewer is None or viewer.trusted)
    prepared = prepare(release, settings, load_templates(settings), marked=marked, kind="test",
                       list_name=viewer.list_name if viewer else None,
                       list_title=viewer.list_title if viewer else None, media=media)
    if viewer is not None:
        recipient = replace(recipient_for(settings, viewer, f"test.{release.id}"), email=email,
                            message_id=_test_message_id(settings, release.id))
        return _send(settings, email, prepared.personalise(recipient, date=now))
    # Contact and list 0 name nobody: the footer links work as pages but change nothing.
    unsubscribe_url, preferences_url, mailto = tokens.RecipientLinks(settings).links(0, 0)
    recipient = Recipient(
        email=email, name=None, timezone=None,
        message_id=_test_message_id(settings, release.id),
        unsubscribe_url=unsubscribe_url, preferences_url=preferences_url,
        unsubscribe_mailto=mailto,
    )
    return _send(settings, email, prepared.personalise(recipient, date=now))


def _test_message_id(settings: Settings, release_id: int) -> str:
    # Random: a test copy is sent once, and no other install may repeat its id.
    return f"<pressroom.test.{release_id}.{secrets.token_hex(8)}@{settings.sender_domain}>"


def _send(settings: Settings, email: str, data: bytes) -> Outcome:
    with open_transport(settings.smtp_url, settings.outbox) as transport:
        # VERP for delivery 0: a bounce of a test copy is recognised, and matches no row.
        return transport.send([Envelope(Verp(settings).sender(0), email,
                                        signed(settings, data))])[0]
