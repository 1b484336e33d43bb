"""The SMTP transport: one connection per batch, pipelined when the server allows it.

The URL (`distribution.transport.url`) says where and how to connect; certificates are verified.

smtplib connects, greets, upgrades and logs in. The transactions themselves are driven over
its socket: with PIPELINING (RFC 2920) each message costs one round trip, because the data
of message n travels in the same write as RSET/MAIL/RCPT/DATA of message n+1 ("the actual
transfer of message content is explicitly allowed to be the first command in a group").
Without PIPELINING each command waits for its reply, as smtplib.sendmail would.

Replies are read off the socket by `distribution.transport.wire` and judged by
`distribution.transport.replies`; a broken connection (or 421) is temporary for the envelopes in
flight. RSET follows a transaction that failed before its data; a refused data block
already ends its transaction (RFC 5321 4.1.1.4).
"""

from __future__ import annotations

import functools
import smtplib
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from distribution.transport import (
    Accepted,
    Envelope,
    Outcome,
    OutcomeKind,
    TransportError,
    one_line,
)
from distribution.transport.envelope import EnvelopeCheck, commands
from distribution.transport.replies import Stage, accepted, classify
from distribution.transport.url import parse_smtp_url
from distribution.transport.wire import Reply, ReplyReader

_IDLE_CHECK_SECONDS = 5.0  # a connection idle longer than this is checked with NOOP first

class _Lost(Exception):
    """The connection broke; `outcome` is what the envelopes caught in flight get."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.text)
        self.outcome = outcome


@dataclass
class _Batch:
    envelopes: Sequence[Envelope]
    outcomes: list[Outcome | None]
    written: int = -1  # the last envelope whose commands went out; later ones are untouched
    accepted: Accepted | None = None

    def remaining(self) -> list[int]:
        return [i for i, outcome in enumerate(self.outcomes) if outcome is None]

    def settle(self, index: int | None, outcome: Outcome) -> None:
        if index is not None:  # None: the reply to an aborted, empty DATA
            self.outcomes[index] = outcome
            if self.accepted is not None and outcome.kind is OutcomeKind.SENT:
                self.accepted(index)

    def settle_written(self, outcome: Outcome) -> None:
        for i in range(self.written + 1):
            if self.outcomes[i] is None:
                self.outcomes[i] = outcome

    def settle_remaining(self, outcome: Outcome) -> None:
        for i in self.remaining():
            self.outcomes[i] = outcome


class SmtpTransport:
    """Sends batches over one SMTP connection, opened on `with`. One per thread.

    send() does not raise for server trouble: a connection lost mid-batch makes the
    envelopes in flight TEMPORARY and is reopened once per send() call for the rest; if
    that fails too, the rest are TEMPORARY with the reason.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        local_hostname: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = parse_smtp_url(url)
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._tls_context = tls_context  # None: the system's trusted CAs
        self._smtp: smtplib.SMTP | None = None
        self._replies: ReplyReader | None = None
        self._entered = False
        self._needs_rset = False
        self._last_used = 0.0

    @property
    def pipelining(self) -> bool:
        """Whether the open connection pipelines (the server advertised PIPELINING)."""
        return self._smtp is not None and self._smtp.has_extn("pipelining")

    def offers(self, extension: str) -> bool:
        """Whether the open connection's server advertised the extension (e.g. SMTPUTF8)."""
        return self._smtp is not None and self._smtp.has_extn(extension.lower())

    def __enter__(self) -> SmtpTransport:
        self._open()
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._entered = False
        self._close(polite=True)

    def send(self, envelopes: Sequence[Envelope],
             accepted: Accepted | None = None) -> list[Outcome]:
        if not self._entered:
            raise RuntimeError("SmtpTransport.send() needs an open transport: use `with`")
        batch = _Batch(envelopes, [None] * len(envelopes), accepted=accepted)
        loss = Outcome(OutcomeKind.TEMPORARY, None, "connection lost")
        reconnects_left = 1
        while todo := batch.remaining():
            if not self._still_open():
                if reconnects_left == 0:
                    batch.settle_remaining(loss)
                    break
                reconnects_left -= 1
                try:
                    self._open()
                except TransportError as exc:
                    batch.settle_remaining(Outcome(OutcomeKind.TEMPORARY, None, one_line(str(exc))))
                    break
            try:
                self._transmit(batch, todo)
            except _Lost as lost:
                loss = lost.outcome
                batch.settle_written(loss)
                self._close(polite=False)
        assert None not in batch.outcomes
        return cast(list[Outcome], batch.outcomes)

    # Connection

    def _open(self) -> None:
        self._close(polite=False)
        self._smtp = self._connect()
        # After the greeting, STARTTLS and AUTH (smtplib's), on the socket they left.
        self._replies = ReplyReader(_socket(self._smtp))
        self._needs_rset = False
        self._last_used = time.monotonic()

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        name = self._local_hostname or _ehlo_name()
        try:
            if settings.tls == "implicit":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    name,
                    timeout=self._timeout,
                    context=self._context(),
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, name, timeout=self._timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise self._connection_error(exc) from exc
        try:
            # Whole groups are written at once, so Nagle's delay would only add latency.
            _socket(smtp).setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._greet(smtp)
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise self._connection_error(exc) from exc
        except TransportError:
            smtp.close()
            raise
        return smtp

    def _context(self) -> ssl.SSLContext:
        if self._tls_context is None:
            # Loading the system's CA bundle takes tens of milliseconds: only when needed.
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    def _greet(self, smtp: smtplib.SMTP) -> None:
        settings = self.settings
        smtp.ehlo_or_helo_if_needed()
        if settings.tls in ("required", "opportunistic") and smtp.has_extn("starttls"):
            smtp.starttls(context=self._context())
            smtp.ehlo()
        elif settings.tls == "required":
            raise TransportError(
                f"SMTP server {settings.address} does not offer STARTTLS, which this URL "
                "requires (a user is given or starttls=always); add ?starttls=no to allow "
                "sending without TLS",
                lasting=True,
            )
        if settings.user is not None:
            smtp.login(settings.user, settings.password or "")

    def _connection_error(self, exc: BaseException) -> TransportError:
        address = self.settings.address
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            error = exc.smtp_error  # bytes from the server; str only if smtplib made it up
            reply = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
            return TransportError(
                one_line(f"SMTP server {address} refused the login: {exc.smtp_code} {reply}"),
                lasting=True,
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return TransportError(
                f"SMTP server {address} does not offer AUTH, so cannot log in", lasting=True
            )
        if isinstance(exc, ssl.SSLError):
            return TransportError(
                one_line(
                    f"TLS with SMTP server {address} failed: {exc}; for a local relay "
                    "without a valid certificate use smtp://…?starttls=no"
                ),
                # A certificate that fails verification fails again; a handshake cut short
                # may not.
                lasting=isinstance(exc, ssl.SSLCertVerificationError),
            )
        return TransportError(one_line(f"cannot connect to SMTP server {address}: {exc}"))

    def _still_open(self) -> bool:
        """False when there is no connection, or an idle one no longer answers NOOP."""
        if self._smtp is None:
            return False
        if time.monotonic() - self._last_used < _IDLE_CHECK_SECONDS:
            return True
        try:
            code, _ = self._smtp.noop()
        except (OSError, smtplib.SMTPException):
            code = -1
        if code != 250:
            self._close(polite=False)
            return False
        return True

    def _close(self, *, polite: bool) -> None:
        smtp, self._smtp, self._replies = self._smtp, None, None
        if smtp is None:
            return
        try:
            if polite:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()

    # Transactions

    def _transmit(self, batch: _Batch, todo: list[int]) -> None:
        smtp, replies = self._smtp, self._replies
        assert smtp is not None and replies is not None
        try:
            if smtp.has_extn("pipelining"):
                self._send_pipelined(smtp, replies, batch, todo)
            else:
                self._send_one_by_one(smtp, replies, batch, todo)
        except (OSError, smtplib.SMTPException) as exc:
            lost = Outcome(OutcomeKind.TEMPORARY, None, one_line(f"connection lost: {exc}"))
            raise _Lost(lost) from exc
        finally:
            self._last_used = time.monotonic()

    def _send_pipelined(self, smtp: smtplib.SMTP, replies: ReplyReader, batch: _Batch,
                        todo: list[int]) -> None:
        sock = _socket(smtp)
        pending = b""  # the previous message's data block: it opens the next write
        pending_index: int | None = None
        checked = EnvelopeCheck(smtp)
        for i in todo:
            envelope = batch.envelopes[i]
            if refusal := checked.refusal(envelope):
                batch.settle(i, refusal)
                continue
            batch.written = i
            rset, self._needs_rset = self._needs_rset, False
            group = [pending, b"RSET\r\n" if rset else b"", *commands(smtp, envelope)]
            sock.sendall(b"".join(group))
            if pending:
                batch.settle(pending_index, _body_outcome(_reply(replies)))
            if rset:
                _reply(replies)
            mail, rcpt, data = _reply(replies), _reply(replies), _reply(replies)
            refused = _first_refusal(mail, rcpt, data)
            if refused is None:
                pending, pending_index = envelope.data_block, i
                continue
            stage, reply = refused
            batch.settle(i, classify(stage, reply.code, reply.text))
            self._needs_rset = True
            # A server that opened DATA although MAIL or RCPT failed must get an empty
            # message, which it will refuse for lack of recipients (RFC 2920 3.1).
            pending, pending_index = (b".\r\n" if data.code == 354 else b""), None
        if pending:
            sock.sendall(pending)
            batch.settle(pending_index, _body_outcome(_reply(replies)))

    def _send_one_by_one(self, smtp: smtplib.SMTP, replies: ReplyReader, batch: _Batch,
                         todo: list[int]) -> None:
        sock = _socket(smtp)
        checked = EnvelopeCheck(smtp)
        for i in todo:
            envelope = batch.envelopes[i]
            if refusal := checked.refusal(envelope):
                batch.settle(i, refusal)
                continue
            batch.written = i
            if self._needs_rset:
                sock.sendall(b"RSET\r\n")
                _reply(replies)
                self._needs_rset = False
            stages = (Stage.MAIL, Stage.RCPT, Stage.DATA)
            for stage, command in zip(stages, commands(smtp, envelope), strict=True):
                sock.sendall(command)
                reply = _reply(replies)
                if not accepted(stage, reply.code):
                    batch.settle(i, classify(stage, reply.code, reply.text))
                    self._needs_rset = True
                    break
            else:
                sock.sendall(envelope.data_block)
                batch.settle(i, _body_outcome(_reply(replies)))


def _socket(smtp: smtplib.SMTP) -> socket.socket:
    """The connection's socket: smtplib sets it on connect and clears it only on close."""
    if smtp.sock is None:
        raise smtplib.SMTPServerDisconnected("not connected")
    return smtp.sock


def _reply(replies: ReplyReader) -> Reply:
    reply = replies.next()
    if reply.code == 421 or not 200 <= reply.code <= 599:
        # 421: the server is closing the connection; anything else: replies are out of
        # step and must not be pinned on the wrong recipient.
        code = reply.code if reply.code > 0 else None
        raise _Lost(Outcome(OutcomeKind.TEMPORARY, code, reply.text))
    return reply


def _first_refusal(mail: Reply, rcpt: Reply, data: Reply) -> tuple[Stage, Reply] | None:
    for stage, reply in ((Stage.MAIL, mail), (Stage.RCPT, rcpt), (Stage.DATA, data)):
        if not accepted(stage, reply.code):
            return stage, reply
    return None


def _body_outcome(reply: Reply) -> Outcome:
    return classify(Stage.BODY, reply.code, reply.text)


@functools.cache
def _ehlo_name() -> str:
    """smtplib's default EHLO name, worked out once: it may cost DNS look-ups."""
    fqdn = socket.getfqdn()
    if "." in fqdn:
        return fqdn
    try:
        return f"[{socket.gethostbyname(socket.gethostname())}]"
    except OSError:
        return "[127.0.0.1]"
