"""One batch: claim -> check the embargo -> render -> send over one connection -> record."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from distribution.embargo import may_send
from distribution.engine import claims, lifecycle
from distribution.engine.claims import Claimed
from distribution.engine.ledger import Result, RetryPolicy, Tally, record
from distribution.engine.messages import MessageError, MessageFactory
from distribution.engine.ratelimit import RateLimiter
from distribution.store.db import database_now
from distribution.store.models import (
    RELEASE_KINDS,
    DeliveryStatus,
    Distribution,
    DistributionStatus,
    Release,
)
from distribution.transport import (
    Envelope,
    Outcome,
    OutcomeKind,
    Transport,
    TransportError,
    open_transport,
)
from distribution.transport.parallel import SmtpConnections

log = logging.getLogger(__name__)

# SMTP connections a batch sends over side by side: each message costs the server's reply
# time (one round trip, pipelined), which a second connection overlaps. Measured: bench/.
SMTP_CONNECTIONS = 2


@dataclass
class BatchReport:
    distribution_id: int
    claimed: int = 0
    held_back: int = 0
    tally: Tally = field(default_factory=Tally)
    stopped: str | None = None   # why the batch ended early (paused, unreachable server)
    server_down: bool = False    # stopped by an SMTP server that may answer later
    owner: str = ""              # the claim token of this batch

    @property
    def more_may_remain(self) -> bool:
        return self.stopped is None and self.claimed > 0


TransportOpener = Callable[[], AbstractContextManager[Transport]]


@dataclass(frozen=True)
class BatchClock:
    """The database's time, read at the claim and carried on by this machine's monotonic
    clock: a batch lasts seconds, so it drifts by microseconds, and no group needs a query
    (and a pooled connection's ping) just to learn the time."""

    at_claim: datetime
    started: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.at_claim + timedelta(seconds=time.monotonic() - self.started)


def run_batch(factory: sessionmaker[Session], settings: Settings, distribution_id: int, *,
              worker: str, opener: TransportOpener | None = None,
              limit: int | None = None, on_sent: Callable[[int], None] | None = None,
              limiter: RateLimiter | None = None) -> BatchReport:
    """Deliver up to one batch of a distribution; safe to run anywhere, any number of times."""
    report = BatchReport(distribution_id)
    with factory() as session, session.begin():
        dist = session.get(Distribution, distribution_id)
        if dist is None or dist.status != DistributionStatus.SENDING:
            return report
        if dist.kind in RELEASE_KINDS:
            _share_release(session, dist.release_id)
        now = database_now(session)
        clock = BatchClock(now)
        # Unique per batch: only this batch may record or give back what it claimed.
        report.owner = f"{worker}/{secrets.token_hex(4)}"
        batch = claims.claim(session, distribution_id, limit or settings.batch_size,
                             report.owner, now)
        report.claimed = len(batch)
        batch = _hold_public_before_lift(session, dist, batch, now, report)
        factory_ = MessageFactory.for_batch(session, settings, dist, batch)
    if not batch:
        return report
    opener = opener or _default_opener(settings)
    _send(factory, settings, distribution_id, batch, factory_, opener, report, on_sent, limiter,
          clock)
    return report


def _default_opener(settings: Settings) -> TransportOpener:
    if settings.smtp_url and SMTP_CONNECTIONS > 1:
        return lambda: SmtpConnections(settings.smtp_url, SMTP_CONNECTIONS)
    return lambda: open_transport(settings.smtp_url, settings.outbox)


def _share_release(session: Session, release_id: int) -> None:
    """Hold the release row until the claim commits (PostgreSQL; SQLite writers queue anyway).

    An embargo change locks it for update: it waits for this claim, then counts the rows
    claimed here among those who received the release and tells them; or this claim waits
    for the change, and reads the new embargo.
    """
    session.execute(select(Release).where(Release.id == release_id)
                    .with_for_update(read=True)
                    .execution_options(populate_existing=True))


def _hold_public_before_lift(session: Session, dist: Distribution, batch: list[Claimed],
                             now: datetime, report: BatchReport) -> list[Claimed]:
    """The embargo rule, where the message is sent: whatever the queue holds."""
    if dist.kind not in RELEASE_KINDS:
        return batch
    embargo = dist.release.embargo_until
    early = {c.id for c in batch if not may_send(embargo, c.trusted, now)}
    if early:
        log.warning("distribution %s: %d public recipients held until the embargo lifts",
                    dist.id, len(early))
        claims.unclaim(session, sorted(early), DeliveryStatus.HELD, owner=report.owner)
        report.held_back = len(early)
    return [c for c in batch if c.id not in early]


def _send(factory: sessionmaker[Session], settings: Settings, distribution_id: int,
          batch: list[Claimed], messages: MessageFactory,
          opener: TransportOpener, report: BatchReport,
          on_sent: Callable[[int], None] | None, limiter: RateLimiter | None,
          clock: BatchClock) -> None:
    policy = RetryPolicy(settings.max_attempts, settings.retry_base_seconds,
                         settings.retry_max_seconds)
    step = max(1, settings.commit_every)
    unsent = list(batch)  # claimed by this batch and not yet recorded, in order
    retry_in = 0
    renewed = time.monotonic()
    try:
        with opener() as transport:
            while unsent:
                if limiter is not None:
                    limiter.acquire([c.email for c in unsent[:step]])
                if time.monotonic() - renewed > settings.claim_timeout_seconds / 4:
                    # Also after a long wait for the limiter: rows the reaper gave to
                    # another worker meanwhile are theirs now, and must not go out twice.
                    unsent = _renew(factory, unsent, report.owner)
                    renewed = time.monotonic()
                group = unsent[:step]
                if not group:
                    break
                report.stopped = _send_group(factory, settings, distribution_id, group,
                                             messages, transport, policy, report, clock)
                unsent = unsent[len(group):]
                if on_sent:
                    on_sent(len(group))
                if report.stopped:
                    break
    except MessageError as exc:
        # Every message of the distribution would fail the same way: pause, with the reason.
        with factory() as session, session.begin():
            lifecycle.pause_for_message(session, distribution_id, str(exc))
        report.stopped = f"paused: {exc}"
        log.warning("distribution %s: %s", distribution_id, report.stopped)
    except TransportError as exc:
        report.stopped = _server_trouble(factory, distribution_id, exc)
        report.server_down = not exc.lasting
        # Only a server that cannot be reached is given time; after a pause the rows
        # must be ready the moment the operator resumes.
        retry_in = 0 if exc.lasting else 30
        log.warning("distribution %s: %s", distribution_id, report.stopped)
    finally:
        if unsent:
            _give_back(factory, [c.id for c in unsent], report.owner, retry_in)


def _server_trouble(factory: sessionmaker[Session], distribution_id: int,
                    exc: TransportError) -> str:
    """Say on the distribution why it stopped: paused if waiting will not mend it."""
    with factory() as session, session.begin():
        if exc.lasting:
            lifecycle.pause_for_server(session, distribution_id, str(exc))
            return f"paused: {exc}"
        reason = f"SMTP server unreachable: {exc}"
        lifecycle.note_waiting(session, distribution_id, reason, database_now(session))
        return reason


def _send_group(factory: sessionmaker[Session], settings: Settings, distribution_id: int,
                group: list[Claimed], messages: MessageFactory,
                transport: Transport, policy: RetryPolicy, report: BatchReport,
                clock: BatchClock) -> str | None:
    now = clock.now()
    built = [messages.build(c, now) for c in group]
    sendable = [i for i, b in enumerate(built) if b.error is None]
    # Each delivery's own envelope sender (VERP), made with its message.
    sent = transport.send([Envelope(built[i].sender, group[i].email, built[i].data,
                                    built[i].data_block) for i in sendable])
    if sent and all(o.kind is OutcomeKind.TEMPORARY and o.code is None for o in sent):
        # No reply at all: the server is down, not the recipients at fault. Stop the batch
        # and give the group back, rather than burn attempts and pause the distribution.
        raise TransportError(sent[0].text)
    outcomes = [Outcome(OutcomeKind.PERMANENT, None, b.error) if b.error else None
                for b in built]
    for i, outcome in zip(sendable, sent, strict=True):
        outcomes[i] = outcome
    results = [Result(c.id, c.email, c.attempts, b.message_id, o)
               for c, b, o in zip(group, built, outcomes, strict=True)]
    marked = {c.id: b.marked for c, b in zip(group, built, strict=True)}
    with factory() as session, session.begin():
        tally = record(session, results, policy, now, marked, report.owner)
        report.tally.add(tally)
        rejected = [r for r in results if r.outcome.kind is OutcomeKind.SENDER_REJECTED]
        if rejected:
            claims.unclaim(session, [r.delivery_id for r in rejected], owner=report.owner)
        return lifecycle.after_group(session, distribution_id, tally, rejected, settings, now)


def _renew(factory: sessionmaker[Session], unsent: list[Claimed], owner: str) -> list[Claimed]:
    """Keep this batch's claims from the reaper; the rows still ours, in order."""
    with factory() as session, session.begin():
        kept = claims.renew(session, [c.id for c in unsent], database_now(session), owner)
    if len(kept) < len(unsent):
        log.warning("%d claims of batch %s were reaped while it waited; another worker "
                    "sends them", len(unsent) - len(kept), owner)
    return [c for c in unsent if c.id in kept]


def _give_back(factory: sessionmaker[Session], ids: list[int], owner: str,
               retry_in: int) -> None:
    with factory() as session, session.begin():
        not_before = database_now(session) + timedelta(seconds=retry_in) if retry_in else None
        claims.unclaim(session, ids, owner=owner, not_before=not_before)
