"""One batch: claim -> check the embargo -> render -> send over one connection -> record."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from config import Settings
from distribution.audience.forget import forget
from distribution.audience.suppressed import refusals
from distribution.embargo import may_send
from distribution.engine import claims, lifecycle
from distribution.engine.claims import Claimed
from distribution.engine.ledger import Result, RetryPolicy, Tally, record
from distribution.engine.messages import MessageError, MessageFactory
from distribution.engine.ratelimit import RateLimiter, RateLimitUnavailable
from distribution.engine.recovery.journal import Entry, Journal, Writer, journal_for
from distribution.engine.recovery.lease import Lease
from distribution.engine.recovery.outage import write_through
from distribution.store.db import database_now, first_line
from distribution.store.models import (
    CARRIES_RELEASE,
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
# A group (sent, then its results committed in one transaction) lasts about this long, and
# holds at most `commit_every` messages: at full speed hundreds share a transaction's fixed
# cost (about 3 ms of CPU); behind a slow server or a rate limit a few, so that results are
# recorded, a pause obeyed and the limit kept within seconds.
GROUP_SECONDS = 1.0
# A process's first group of a distribution: the pace is not known yet. A later batch starts
# where the last one ended, at most START_MOST: a server that turned slow meanwhile holds
# that many back.
FIRST_GROUP = 10
START_MOST = 100
T = TypeVar("T")


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
              limiter: RateLimiter | None = None, journal: Journal | None = None
              ) -> BatchReport:
    """Deliver up to one batch of a distribution; safe to run anywhere, any number of times."""
    report = BatchReport(distribution_id)
    with factory() as session, session.begin():
        dist = session.get(Distribution, distribution_id)
        if dist is None or dist.status != DistributionStatus.SENDING:
            return report
        if dist.kind in CARRIES_RELEASE:
            # The row just read is the one the batch goes by (the relationship would read
            # it again).
            set_committed_value(dist, "release", _share_release(session, dist.release_id))
        now = database_now(session)
        # Unique per batch: only this batch may record or give back what it claimed.
        report.owner = f"{worker}/{secrets.token_hex(4)}"
        claimed = claims.claim(session, distribution_id, limit or settings.batch_size,
                               report.owner, now)
        report.claimed = len(claimed)
        claimed = _hold_public_before_lift(session, dist, claimed, now, report)
        claimed = _skip_refused(session, claimed, report)
        messages = MessageFactory.for_batch(session, settings, dist, claimed)
    if not claimed:
        return report
    batch = Batch(factory, settings, report, messages, BatchClock(now),
                  journal or journal_for(settings), on_sent, limiter)
    batch.send(claimed, opener or _default_opener(settings))
    return report


def _default_opener(settings: Settings) -> TransportOpener:
    if settings.smtp_url and SMTP_CONNECTIONS > 1:
        return lambda: SmtpConnections(settings.smtp_url, SMTP_CONNECTIONS)
    return lambda: open_transport(settings.smtp_url, settings.outbox)


def _share_release(session: Session, release_id: int) -> Release:
    """Hold the release row until the claim commits (PostgreSQL; SQLite writers queue anyway).

    An embargo change locks it for update: it waits for this claim, then counts the rows
    claimed here among those who received the release and tells them; or this claim waits
    for the change, and reads the new embargo.
    """
    return session.execute(select(Release).where(Release.id == release_id)
                           .with_for_update(read=True)
                           .execution_options(populate_existing=True)).scalar_one()


def _hold_public_before_lift(session: Session, dist: Distribution, batch: list[Claimed],
                             now: datetime, report: BatchReport) -> list[Claimed]:
    """The embargo rule, where the message is sent: whatever the queue holds."""
    if dist.kind not in CARRIES_RELEASE:
        return batch
    embargo = dist.release.embargo_until
    early = {c.id for c in batch if not may_send(embargo, c.trusted, now)}
    if early:
        log.warning("distribution %s: %d public recipients held until the embargo lifts",
                    dist.id, len(early))
        claims.unclaim(session, sorted(early), DeliveryStatus.HELD, owner=report.owner)
        report.held_back = len(early)
    return [c for c in batch if c.id not in early]


def _skip_refused(session: Session, batch: list[Claimed],
                  report: BatchReport) -> list[Claimed]:
    """Who must get nothing now, whatever the queue holds: rows made before the address was
    suppressed are cancelled, and a forgotten person who came back (an import racing the
    erasure) is erased again. One query per batch."""
    refused = refusals(session, [c.email for c in batch])
    if not refused:
        return batch
    stopped = [c for c in batch if c.email in refused]
    for reason in {refused[c.email].reason for c in stopped}:
        claims.cancel(session, [c.id for c in stopped if refused[c.email].reason == reason],
                      owner=report.owner, reason=f"suppressed: {reason}")
    for email in {c.email for c in stopped if refused[c.email].forgotten}:
        forget(session, email)
    log.warning("distribution %s: %d recipients suppressed since their rows were made; "
                "cancelled", report.distribution_id, len(stopped))
    return [c for c in batch if c.email not in refused]


def next_group_size(done: int, seconds: float, most: int) -> int:
    """As many as the last group's pace sends in GROUP_SECONDS; growing at most fourfold a
    group (one fast group says little), within `most` and one message per connection (fewer
    would leave a connection idle)."""
    paced = int(done * GROUP_SECONDS / max(seconds, 1e-3))
    return max(min(SMTP_CONNECTIONS, most), min(most, done * 4, paced))


class GroupSizes:
    """The group size each distribution's last batch in this process ended with, by
    database and distribution id."""

    KEEP = 64  # distributions remembered; a worker runs few at a time

    def __init__(self) -> None:
        self._last: dict[tuple[str, int], int] = {}

    def first(self, distribution: tuple[str, int], most: int) -> int:
        return min(self._last.get(distribution, FIRST_GROUP), START_MOST, most)

    def ended(self, distribution: tuple[str, int], size: int) -> None:
        if len(self._last) >= self.KEEP and distribution not in self._last:
            self._last.clear()
        self._last[distribution] = size


_GROUP_SIZES = GroupSizes()


@dataclass
class Batch:
    """One batch at work: what every step of sending it needs, in one place."""

    factory: sessionmaker[Session]
    settings: Settings
    report: BatchReport
    messages: MessageFactory
    clock: BatchClock
    journal: Journal
    on_sent: Callable[[int], None] | None = None
    limiter: RateLimiter | None = None
    # Accepted by the server and not yet recorded: what the journal holds, in memory.
    accepted: dict[int, Entry] = field(default_factory=dict)
    unsent: list[Claimed] = field(default_factory=list)  # claimed, not recorded, in order

    @property
    def owner(self) -> str:
        return self.report.owner

    @property
    def distribution_id(self) -> int:
        return self.report.distribution_id

    def send(self, claimed: list[Claimed], opener: TransportOpener) -> None:
        self.unsent = list(claimed)
        retry_in = 0
        try:
            writer = self.journal.writer(self.owner, len(claimed))
        except OSError:  # no journal (a full disk): send nothing rather than blind
            self._give_back(wait=False)
            raise
        lease = Lease(self.factory, self.distribution_id, self.owner,
                      self.settings.claim_timeout_seconds, {c.id for c in claimed},
                      writer.persist)
        try:
            try:
                with lease, opener() as transport:
                    self._send_all(transport, writer, lease)
            except MessageError as exc:
                # Every message of the distribution would fail the same way: pause, with why.
                why = str(exc)
                self._write(lambda session: lifecycle.pause_for_message(
                    session, self.distribution_id, why))
                self.report.stopped = f"paused: {why}"
                log.warning("distribution %s: %s", self.distribution_id, self.report.stopped)
            except TransportError as exc:
                self.report.stopped = self._server_trouble(exc)
                self.report.server_down = not exc.lasting
                # Only a server that cannot be reached is given time; after a pause the
                # rows must be ready the moment the operator resumes.
                retry_in = 0 if exc.lasting else 30
                log.warning("distribution %s: %s", self.distribution_id, self.report.stopped)
            except RateLimitUnavailable as exc:
                # Sending on unchecked would break the limit the relay set: the rest waits
                # for a next batch, which the sweep starts once the buckets answer again.
                self.report.stopped = ("the rate limit cannot be checked: "
                                       + str(exc).rstrip(". "))
                log.warning("distribution %s: %s; the rest goes back to the queue",
                            self.distribution_id, self.report.stopped)
        except BaseException:
            # Ctrl-C, or a database that refuses (a full disk) or stayed away too long: one
            # try to hand back, no waiting. Failing that, the rows stay claimed and the
            # journal stays, for whoever takes the rows back.
            writer.close()
            self._give_back(wait=False)
            raise
        writer.close()
        self._give_back(retry_in)

    def _send_all(self, transport: Transport, writer: Writer, lease: Lease) -> None:
        """Group after group while the lease holds; `unsent` keeps what is left."""
        most = max(1, self.settings.commit_every)
        if self.limiter is not None and self.limiter.rate > 0:
            # A group goes out at once when its wait is over: never more than a second's
            # worth of the limit.
            most = min(most, max(1, int(self.limiter.rate)))
        which = (self.settings.database_url, self.distribution_id)
        step = _GROUP_SIZES.first(which, most)
        while self.unsent:
            started = time.monotonic()  # a rate limit's wait is part of the pace
            if self.limiter is not None:
                self.limiter.acquire([c.email for c in self.unsent[:step]])
            # Rows the sweep took back (the lease lapsed) may be another worker's now.
            held = lease.current()
            self.unsent = [c for c in self.unsent if c.id in held]
            if not lease.fresh:
                self.report.stopped = "its lease lapsed: the database could not be reached"
                break
            group = self.unsent[:step]
            if not group:
                break
            self.report.stopped = self._send_group(group, transport, writer)
            step = next_group_size(len(group), time.monotonic() - started, most)
            _GROUP_SIZES.ended(which, step)
            self.unsent = self.unsent[len(group):]
            if self.on_sent:
                self.on_sent(len(group))
            if self.report.stopped:
                break

    def _server_trouble(self, exc: TransportError) -> str:
        """Say on the distribution why it stopped: paused if waiting will not mend it."""
        if exc.lasting:
            self._write(lambda session: lifecycle.pause_for_server(
                session, self.distribution_id, str(exc)))
            return f"paused: {exc}"
        reason = f"SMTP server unreachable: {exc}"
        self._write(lambda session: lifecycle.note_waiting(
            session, self.distribution_id, reason, database_now(session)))
        return reason

    def _send_group(self, group: list[Claimed], transport: Transport,
                    writer: Writer) -> str | None:
        now = self.clock.now()
        built = [self.messages.build(c, now) for c in group]
        sendable = [i for i, b in enumerate(built) if b.error is None]

        def accepted(index: int) -> None:
            claimed, message = group[sendable[index]], built[sendable[index]]
            entry = Entry(claimed.id, message.message_id, message.marked, time.time(),
                          message.text_id)
            writer.accepted(entry)
            self.accepted[claimed.id] = entry

        # Each delivery's own envelope sender (VERP), made with its message.
        sent = transport.send([Envelope(built[i].sender, group[i].email, built[i].data_block,
                                        as_block=True) for i in sendable], accepted)
        if sent and all(o.kind is OutcomeKind.TEMPORARY and o.code is None for o in sent):
            # No reply at all: the server is down, not the recipients at fault. Stop the
            # batch and give the group back, rather than burn attempts and pause.
            raise TransportError(sent[0].text)
        replies = iter(sent)  # one per sendable message, in their order
        outcomes = [next(replies) if b.error is None
                    else Outcome(OutcomeKind.PERMANENT, None, b.error) for b in built]
        results = [Result(c.id, c.email, c.attempts, b.message_id, o, b.text_id)
                   for c, b, o in zip(group, built, outcomes, strict=True)]
        marked = {c.id: b.marked for c, b in zip(group, built, strict=True)}
        writer.sync()  # the journal durable before the results it stands in for
        rejected = [r for r in results if r.outcome.kind is OutcomeKind.SENDER_REJECTED]

        def write(session: Session) -> tuple[Tally, str | None]:
            tally = record(session, results, self.policy, now, marked, self.owner)
            if rejected:
                claims.unclaim(session, [r.delivery_id for r in rejected], owner=self.owner)
            return tally, lifecycle.after_group(session, self.distribution_id, tally,
                                                rejected, self.settings, now)

        tally, stopped = self._write(write)
        self.report.tally.add(tally)
        for c in group:
            self.accepted.pop(c.id, None)
        return stopped

    def _write(self, step: Callable[[Session], T]) -> T:
        """One transaction of the batch, written through a database outage (see outage):
        pausing well inside the lease a restarted database grants."""
        return write_through(self.factory, step, who=f"distribution {self.distribution_id}",
                             longest_pause=min(5.0, self.settings.claim_timeout_seconds / 4))

    @property
    def policy(self) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(s.max_attempts, s.retry_base_seconds, s.retry_max_seconds)

    def _give_back(self, retry_in: int = 0, *, wait: bool = True) -> None:
        """Hand back what this batch did not record: sent if the server accepted it (Ctrl-C
        or a database error mid-group), else pending. Without `wait` (on the way out after
        an error) the database gets one try: failing that, the rows stay claimed, the
        journal stays, and the sweep does this once the lease lapses."""
        accepted = list(self.accepted.values())
        others = [c.id for c in self.unsent if c.id not in self.accepted]
        if accepted or others:
            def write(session: Session) -> None:
                claims.mark_journaled(session, accepted,
                                      {e.delivery_id: self.owner for e in accepted})
                not_before = (database_now(session) + timedelta(seconds=retry_in)
                              if retry_in else None)
                claims.unclaim(session, others, owner=self.owner, not_before=not_before)

            if wait:
                self._write(write)
            else:
                try:
                    with self.factory() as session, session.begin():
                        write(session)
                except DBAPIError as exc:  # the caller reports the error that stopped it
                    log.info("distribution %s: %d rows stay claimed by this stopped batch "
                             "(%s); the sweep takes them back once its lease lapses",
                             self.distribution_id, len(accepted) + len(others),
                             first_line(exc))
                    return
        self.journal.discard([self.owner])
