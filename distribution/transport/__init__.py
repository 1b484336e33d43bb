"""The transport seam: how rendered messages leave Pressroom.

Dispatch hands a transport a batch of envelopes and gets back one Outcome per envelope, in
order. Two implementations: SMTP (`distribution.transport.smtp`) and an outbox folder of .eml files
(`distribution.transport.outbox`). A transport is used as a context manager: entering opens the
connection (one per batch), leaving closes it.
"""

from __future__ import annotations

import enum
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from distribution.smtpdata import data_block, message_of


class OutcomeKind(enum.StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # 4xx or a broken connection: retry later
    PERMANENT = "permanent"  # 5xx: the address is bad: fail and suppress it
    REFUSED = "refused"  # 5xx by policy or for the content: fail this copy, keep the address
    SENDER_REJECTED = "sender_rejected"  # 5xx on MAIL FROM: pause, do not blame recipients


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    code: int | None  # SMTP reply code; None for the outbox or a broken connection
    text: str  # the server's reply text, or the error: short, one line


@dataclass(frozen=True)
class Envelope:
    sender: str  # MAIL FROM (the bounce address)
    recipient: str  # RCPT TO
    # The full RFC 5322 message (CRLF line endings), or with `as_block` the same message
    # as SMTP's DATA carries it (dot-stuffed, ending in CRLF.CRLF), made so by the caller:
    # the SMTP transport sends that as it is, and only the outbox asks for the message.
    content: bytes
    as_block: bool = False

    @property
    def message(self) -> bytes:
        return message_of(self.content) if self.as_block else self.content

    @property
    def data_block(self) -> bytes:
        return self.content if self.as_block else data_block(self.content)


class TransportError(Exception):
    """No conversation with the server: leave the deliveries pending and say so.

    `lasting` marks what waiting will not mend (the login refused, TLS failing): the
    distribution pauses for an operator instead of retrying quietly.
    """

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


# Told the index of each envelope the server accepted, the moment its reply arrives (from
# the thread that read it): the batch journals it before anything else can go wrong.
Accepted = Callable[[int], None]


class Transport(Protocol):
    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, envelopes: Sequence[Envelope],
             accepted: Accepted | None = None) -> list[Outcome]:
        """Send each envelope; one Outcome per envelope, in the same order."""
        ...


def open_transport(smtp_url: str | None, outbox: str | os.PathLike[str]) -> Transport:
    """The SMTP transport when a URL is configured, else the outbox folder.

    Raises ValueError for a malformed URL. Nothing is connected until the transport is
    entered.
    """
    # Imported here: both modules import the types above.
    if smtp_url:
        from distribution.transport.smtp import SmtpTransport

        return SmtpTransport(smtp_url)
    from distribution.transport.outbox import OutboxTransport

    return OutboxTransport(outbox)


# How long asking the SMTP server about SMTPUTF8 may take: an import or a form waits for it.
PROBE_TIMEOUT_SECONDS = 5.0


class Smtputf8Probe:
    """Why the configured transport cannot carry an address with non-ASCII letters before
    the @ (SMTPUTF8, RFC 6531), or None when it can. Called as a function.

    The outbox can; an SMTP server can if its EHLO (after STARTTLS, logged in, as a send
    would be) offers SMTPUTF8, asked with a short timeout. Its answer is kept for `keep`
    seconds (None: for the life of the probe); that it could not be reached, which the
    refusal says, for `retry` seconds at most, so that a dead relay is not asked (and
    waited for) by every caller.
    """

    def __init__(self, smtp_url: str | None, *, keep: float | None = None,
                 retry: float = 30.0, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
        self._smtp_url, self._timeout = smtp_url, timeout
        self._keep, self._retry = keep, retry
        self._lock = threading.Lock()
        self._answer: tuple[float, str | None] | None = None  # (valid until, refusal)

    def __call__(self) -> str | None:
        if not self._smtp_url:
            return None
        with self._lock:  # one connection at a time: the others take its answer
            now = time.monotonic()
            if self._answer is not None and now <= self._answer[0]:
                return self._answer[1]
            refusal, lasting = self._ask()
            kept = (self._keep if lasting else min(self._retry, self._keep or self._retry))
            self._answer = (now + kept if kept is not None else float("inf"), refusal)
            return refusal

    def _ask(self) -> tuple[str | None, bool]:
        """The refusal (None: carried), and whether it is the server's own answer."""
        from distribution.transport.smtp import SmtpTransport

        transport = SmtpTransport(self._smtp_url or "", timeout=self._timeout)
        try:
            with transport:
                offered = transport.offers("SMTPUTF8")
        except TransportError as exc:
            return f"could not ask the SMTP server whether it takes such addresses: {exc}", False
        if offered:
            return None, True
        return (f"the SMTP server {transport.settings.address} does not offer SMTPUTF8, which "
                "an address with non-ASCII letters before the @ needs"), True


def one_line(text: str, limit: int = 200) -> str:
    """Collapse a reply or error message to one short line for Outcome.text."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
