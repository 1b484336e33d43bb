"""The envelope of one message on one connection: whether it may go, and its commands."""

from __future__ import annotations

import re
import smtplib

from distribution.transport import Envelope, Outcome, OutcomeKind


def commands(smtp: smtplib.SMTP, envelope: Envelope) -> list[bytes]:
    """MAIL FROM, RCPT TO and DATA lines, with BODY=8BITMIME and SMTPUTF8 as needed."""
    options = ""
    if not envelope.content.isascii() and smtp.has_extn("8bitmime"):  # a block or not, alike
        options += " BODY=8BITMIME"
    if not (envelope.sender.isascii() and envelope.recipient.isascii()):
        options += " SMTPUTF8"  # EnvelopeCheck made sure the server offers it
    return [
        f"MAIL FROM:<{envelope.sender}>{options}\r\n".encode(),
        f"RCPT TO:<{envelope.recipient}>\r\n".encode(),
        b"DATA\r\n",
    ]


class EnvelopeCheck:
    """Which envelopes must not be sent on this connection; a batch has one sender,
    checked once."""

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self._utf8 = smtp.has_extn("smtputf8")
        self._senders: dict[str, Outcome | None] = {}

    def refusal(self, envelope: Envelope) -> Outcome | None:
        """An Outcome for an envelope that must not be sent, else None."""
        sender = envelope.sender
        if sender not in self._senders:
            self._senders[sender] = self._sender_refusal(sender)
        if found := self._senders[sender]:
            return found
        if not _usable_address(envelope.recipient, allow_empty=False):
            return Outcome(OutcomeKind.PERMANENT, None,
                           "recipient address cannot be used in SMTP")
        if not (envelope.recipient.isascii() or self._utf8):
            return Outcome(
                OutcomeKind.PERMANENT,
                None,
                "recipient address is not ASCII and the SMTP server does not offer SMTPUTF8",
            )
        return None

    def _sender_refusal(self, sender: str) -> Outcome | None:
        if not _usable_address(sender, allow_empty=True):
            return Outcome(OutcomeKind.SENDER_REJECTED, None,
                           "sender address cannot be used in SMTP")
        if not (sender.isascii() or self._utf8):
            return Outcome(
                OutcomeKind.SENDER_REJECTED,
                None,
                "sender address is not ASCII and the SMTP server does not offer SMTPUTF8",
            )
        return None


_UNUSABLE_IN_PATH = re.compile(r"[\x00-\x20\x7f<>\ud800-\udfff]")


def _usable_address(address: str, *, allow_empty: bool) -> bool:
    # Control characters or brackets would inject commands or break the reverse-path.
    return (allow_empty or bool(address)) and not _UNUSABLE_IN_PATH.search(address)
