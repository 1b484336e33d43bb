"""`send --test-to`: one copy, exactly as a trusted recipient would get it, to one address."""

from __future__ import annotations

import secrets
from datetime import datetime

from email_validator import EmailNotValidError

from config import Settings
from distribution import embargo
from distribution.audience.rows import mailable_address
from distribution.errors import InvalidInput
from distribution.mail import tokens
from distribution.mail.dkim import signed
from distribution.mail.media import NO_MEDIA, MessageMedia
from distribution.mail.render import Recipient, load_templates, prepare
from distribution.mail.verp import Verp
from distribution.store.models import Release
from distribution.transport import Envelope, Outcome, open_transport


def send_test_copy(settings: Settings, release: Release, address: str,
                   now: datetime, media: MessageMedia = NO_MEDIA) -> Outcome:
    try:
        email = mailable_address(address)
    except EmailNotValidError as exc:
        raise InvalidInput(f"--test-to: invalid address '{address}': {exc}") from None
    prepared = prepare(release, settings, load_templates(settings),
                       marked=embargo.marked(release.embargo_until, now), kind="test",
                       media=media)
    # Contact and list 0 name nobody: the footer links work as pages but change nothing.
    recipient = Recipient(
        email=email, name=None, timezone=None,
        # Random: a test copy is sent once, and no other install may repeat its id.
        message_id=f"<pressroom.test.{release.id}.{secrets.token_hex(8)}@{settings.sender_domain}>",
        unsubscribe_url=tokens.unsubscribe_url(settings, 0, 0),
        preferences_url=tokens.preferences_url(settings, 0),
        unsubscribe_mailto=tokens.unsubscribe_mailto(settings, 0, 0),
    )
    with open_transport(settings.smtp_url, settings.outbox) as transport:
        # VERP for delivery 0: a bounce of a test copy is recognised, and matches no row.
        return transport.send([Envelope(Verp(settings).sender(0), email,
                                        signed(settings, prepared.personalise(
                                            recipient, date=now)))])[0]
