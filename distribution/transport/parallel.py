"""Several SMTP connections for one batch, each driven by a thread of its own."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from distribution.transport import Accepted, Envelope, Outcome, TransportError
from distribution.transport.smtp import SmtpTransport


class SmtpConnections:
    """A few SmtpTransports of one batch, each driven by a thread of its own: while one
    connection waits for the server's replies, another writes (socket calls release the
    GIL). send() splits the envelopes into one contiguous slice per connection and returns
    the outcomes in order. Connections the server refuses beyond the first are done
    without, so a relay that limits connections per client still gets the batch."""

    def __init__(self, url: str, connections: int) -> None:
        self._spare = [SmtpTransport(url) for _ in range(max(1, connections))]
        self._open: list[SmtpTransport] = []
        self._threads: ThreadPoolExecutor | None = None

    def __enter__(self) -> SmtpConnections:
        first, *others = self._spare
        self._open = [first.__enter__()]  # unreachable: TransportError, as with one
        for transport in others:
            try:
                self._open.append(transport.__enter__())
            except TransportError:
                break
        self._threads = ThreadPoolExecutor(len(self._open), thread_name_prefix="smtp")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._threads is not None:
            self._threads.shutdown()
        for transport in self._open:
            transport.__exit__(*exc)

    def send(self, envelopes: Sequence[Envelope],
             accepted: Accepted | None = None) -> list[Outcome]:
        if self._threads is None:
            raise RuntimeError("SmtpConnections.send() needs an open transport: use `with`")
        count = len(self._open)
        bounds = [len(envelopes) * i // count for i in range(count + 1)]
        slices = [envelopes[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        running = [self._threads.submit(transport.send, part, _shifted(accepted, start))
                   for transport, part, start in zip(self._open, slices, bounds, strict=False)
                   if part]
        return [outcome for future in running for outcome in future.result()]




def _shifted(accepted: Accepted | None, start: int) -> Accepted | None:
    """A slice's indexes as the whole batch counts them."""
    if accepted is None or start == 0:
        return accepted
    return lambda index: accepted(start + index)
