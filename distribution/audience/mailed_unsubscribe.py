"""Unsubscribe requests that arrive by email, at the List-Unsubscribe mailto address.

Every message offers `mailto:unsubscribe@domain?subject=unsubscribe-TOKEN` beside the
one-click HTTPS link; some mail clients use the mailto. The MTA hands each such email to
`pressroom unsubscribe-mail` (a pipe alias or a maildir), which finds the token in the
subject and does what the one-click link does. The signed token is the authority, as for
the link: the sender's address is not trusted (it may be forged, or forwarded from).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy.orm import Session

from config import Settings
from distribution.audience import membership
from distribution.mail import tokens

# A request is a short email; a reply may quote a whole release. Anything larger is not
# read at all, and only the start of a subject is looked at: hostile input costs nothing.
MAX_MAIL_BYTES = 1_000_000
MAX_SUBJECT = 2_000
# The subject the mailto sets; a reply prefix or a client's own words around it are fine.
_PREFIX = "unsubscribe-"
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_WORD_BREAKS = re.compile(r"[\s:;,()<>\[\]\"']+")


@dataclass(frozen=True)
class Request:
    contact_id: int
    list_id: int  # 0: every list


def read_request(settings: Settings, raw: bytes) -> Request | None:
    """The unsubscribe request a mailed message carries, or None (no valid token)."""
    for token in _candidates(_subject(raw[:MAX_MAIL_BYTES])):
        try:
            return Request(*tokens.read_unsubscribe_token(settings, token))
        except tokens.BadToken:
            continue
    return None


def _subject(raw: bytes) -> str:
    """The start of the decoded subject; "" when there is none or it cannot be read."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    value = headers.get("Subject")
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value)[:MAX_SUBJECT])))[:MAX_SUBJECT]
    except (ValueError, TypeError, LookupError, UnicodeError):
        return str(value)[:MAX_SUBJECT]  # undecodable words: their plain text may do


def _candidates(subject: str) -> list[str]:
    """Tokens after "unsubscribe-", word by word: one pass over the subject."""
    found = []
    for word in _WORD_BREAKS.split(subject):
        start = word.lower().find(_PREFIX)
        if start >= 0 and _TOKEN.fullmatch(token := word[start + len(_PREFIX):]):
            found.append(token)
    return found


def apply_request(session: Session, request: Request, now: datetime) -> str:
    """Do what the one-click link does; says what was left: a list's name, or "every list"."""
    left = membership.leave(session, request.contact_id, request.list_id, now)
    return f"list {left}" if left else "every list"
