"""Unsubscribe requests that arrive by email, at the List-Unsubscribe mailto address.

Every message offers `mailto:unsubscribe@domain?subject=unsubscribe-TOKEN` beside the
one-click HTTPS link; some mail clients use the mailto. The MTA hands each such email to
`pressroom unsubscribe-mail` (a pipe alias or a maildir), which finds the token in the
subject and does what the one-click link does. The signed token is the authority, as for
the link: the sender's address is not trusted (it may be forged, or forwarded from).
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from config import Settings
from distribution.audience import membership
from distribution.mail import tokens

# The subject the mailto sets; a reply prefix or a client's own words around it are fine.
_TOKEN = re.compile(r"unsubscribe-([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Request:
    contact_id: int
    list_id: int  # 0: every list


def read_request(settings: Settings, raw: bytes) -> Request | None:
    """The unsubscribe request a mailed message carries, or None (no valid token)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        subject = str(message.get("Subject", ""))
    except (ValueError, TypeError):  # an undecodable header is no request
        return None
    for found in _TOKEN.finditer(subject):
        try:
            return Request(*tokens.read_unsubscribe_token(settings, found.group(1)))
        except tokens.BadToken:
            continue
    return None


def apply_request(session: Session, request: Request, now: datetime) -> str:
    """Do what the one-click link does; says what was left: a list's name, or "every list"."""
    left = membership.leave(session, request.contact_id, request.list_id, now)
    return f"list {left}" if left else "every list"
