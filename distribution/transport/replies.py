"""What an SMTP reply means for a delivery: sent, retry, a bad address, a refused copy, or
a refused sender. Decided here and only here.

5xx replies are read by their enhanced status code (RFC 3463) where the server gives one:
only an addressing failure (X.1.x, X.2.1 disabled mailbox) says the address is bad and puts
it on the suppression list. A policy or content refusal (X.7.x, X.6.x, a full mailbox)
fails this copy and keeps the address: the next release may well be accepted. Refusals of
our own sending (authentication, SPF/DKIM/DMARC, relaying) pause the distribution instead,
since they would refuse every recipient alike.
"""

from __future__ import annotations

import enum
import re

from distribution.transport import Outcome, OutcomeKind


class Stage(enum.Enum):
    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"
    BODY = "end of data"


# "5.1.1 ..." at the start of the reply text: class, subject, detail.
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})\b")

# Our configuration, not the recipient: a relay that will not relay for us, and Postfix's
# restrictions that it reports at RCPT although they judge the client or the sender.
_SENDER_SIDE_TEXT = re.compile(
    r"relay(ing)? (access )?(denied|not permitted)|sender address rejected|"
    r"client host rejected|helo command rejected|authentication required",
    re.IGNORECASE)

# Enhanced codes about the sender: bad sender address (1.7, 1.8), authentication and
# encryption (7.8, 7.9, 7.11, 7.13, 7.14), SPF/DKIM/DMARC and reverse DNS (7.20-7.27).
_SENDER_SIDE_CODES = {(1, 7), (1, 8), (7, 8), (7, 9), (7, 11), (7, 13), (7, 14),
                      *((7, n) for n in range(20, 28))}

# The address itself is bad: any addressing status (X.1.x) but the sender's, a disabled
# mailbox (X.2.1).
_BAD_ADDRESS_CODES = {(2, 1)}


def enhanced_code(code: int, text: str) -> tuple[int, int] | None:
    """(subject, detail) of the reply's enhanced status code, if it agrees with the code."""
    found = _ENHANCED.match(text)
    if found is None or int(found[1]) != code // 100:
        return None
    return int(found[2]), int(found[3])


def classify(stage: Stage, code: int, text: str) -> Outcome:
    """Turn a final (or failing) reply into an Outcome."""
    if 200 <= code < 300:
        return Outcome(OutcomeKind.SENT, code, text)
    if code < 500:
        return Outcome(OutcomeKind.TEMPORARY, code, text)
    return Outcome(_permanent_kind(stage, enhanced_code(code, text), text), code, text)


def _permanent_kind(stage: Stage, enhanced: tuple[int, int] | None, text: str) -> OutcomeKind:
    if stage is Stage.MAIL or enhanced in _SENDER_SIDE_CODES or _SENDER_SIDE_TEXT.search(text):
        return OutcomeKind.SENDER_REJECTED
    if enhanced is None:
        # A bare 5xx: at RCPT it refuses the address ("550 no such user"); after the data,
        # the message.
        return OutcomeKind.PERMANENT if stage is Stage.RCPT else OutcomeKind.REFUSED
    if enhanced[0] == 1 or enhanced in _BAD_ADDRESS_CODES:
        return OutcomeKind.PERMANENT
    return OutcomeKind.REFUSED


def accepted(stage: Stage, code: int) -> bool:
    """Whether a reply lets the transaction go on (354 after DATA, else 2xx)."""
    return code == 354 if stage is Stage.DATA else 200 <= code < 300
