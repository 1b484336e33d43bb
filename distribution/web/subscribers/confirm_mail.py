"""The double opt-in email: built with the email package, sent through the transport seam."""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from config import Settings
from distribution import locales
from distribution.mail import headers as h
from distribution.mail import tokens
from distribution.mail.folding import check_header_block
from distribution.mail.signing.dkim import signed
from distribution.transport import Envelope, OutcomeKind, TransportError, open_transport
from distribution.web.language import current as page_language
from distribution.web.pages import Pages
from distribution.web.subscribers.forms import consent_text

log = logging.getLogger("pressroom.web")


def confirmation_email(settings: Settings, pages: Pages, to: str, list_name: str,
                       confirm_url: str, now: datetime, max_age_days: int,
                       language: str | None = None) -> bytes:
    """A multipart/alternative message (text, then HTML) asking to confirm a sign-up, in the
    language the subscriber chose (else the page's)."""
    code = locales.catalog_language(language or page_language())
    context = {"list_name": list_name, "confirm_url": confirm_url, "days": max_age_days,
               "consent": consent_text(settings.org_name, list_name, code)}
    message = EmailMessage(policy=SMTP)  # CRLF line endings, as transports expect
    # Every value written by Pressroom's own header code: the list name and the address
    # come from a public form.
    message["From"] = h.mailbox("From", *h.parse_mailbox(settings.from_addr))
    message["To"] = h.mailbox("To", None, to, utf8=True)
    message["Subject"] = h.text("Subject", locales.translate(
        code, "Please confirm your subscription: %(list)s", list=list_name))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("confirm", domain=settings.sender_domain)
    # Tells autoresponders not to answer, and mail providers that no person sent it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(pages.text("confirm_email.txt.j2", context, code))
    message.add_alternative(pages.text("confirm_email.html.j2", context, code), subtype="html")
    message["Content-Language"] = code  # after the content: setting it clears the header
    # UTF-8 where our own header code wrote it (an address's non-ASCII local part, RFC 6532);
    # every other value is ASCII already.
    data = message.as_bytes(policy=SMTP.clone(utf8=True))
    check_header_block(data, message.keys(), utf8=("To",))
    return signed(settings, data)


def send_confirmation(settings: Settings, pages: Pages, to: str, list_name: str,
                      signup: tokens.SignupRequest, now: datetime, max_age_days: int) -> bool:
    """Send it now; False when the transport could not take it (the visitor may retry).

    The link is bound to this email: `now` is what the subscription records as sent. The
    mail, and the page it opens, speak the language chosen at sign-up."""
    contact_id = signup.contact_id
    url = tokens.confirm_url(settings, contact_id, signup.list_id,
                             sent_at=int(now.timestamp()), name=signup.name,
                             language=signup.language)
    if signup.language:
        url += f"?lang={locales.catalog_language(signup.language)}"
    data = confirmation_email(settings, pages, to, list_name, url, now, max_age_days,
                              signup.language)
    try:
        with open_transport(settings.smtp_url or None, settings.outbox) as transport:
            outcome = transport.send([Envelope(settings.envelope_sender, to, data)])[0]
    except TransportError as exc:
        log.warning("confirmation email for contact %d not sent: %s", contact_id,
                    type(exc).__name__)
        return False
    if outcome.kind is not OutcomeKind.SENT:
        # Reply texts can quote the address: log the contact id and the code only.
        log.warning("confirmation email for contact %d not sent: %s %s", contact_id,
                    outcome.kind.value, outcome.code or "")
        return False
    return True

