"""Writing what happened to each recipient, a small group at a time."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Integer, Text, bindparam, cast, column, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Session

from distribution.store.db import by_primary_key, id_array, int_array, one_of
from distribution.store.models import Delivery, DeliveryStatus, Suppression, UTCDateTime
from distribution.transport import Outcome, OutcomeKind


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: int
    max_seconds: int

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        """Exponential backoff with jitter, so retries of a busy server spread out."""
        delay = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return now + timedelta(seconds=delay * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class Result:
    delivery_id: int
    email: str
    attempts: int
    message_id: str
    outcome: Outcome
    text_id: int | None = None  # the text the message carried (Delivery.version_id)


@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    sender_rejected: int = 0
    # Failures of the sending itself (the connection lost, the server busy, our message
    # refused by policy), not of one recipient: only these may pause a distribution.
    sending_errors: int = 0

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.retried += other.retried
        self.sender_rejected += other.sender_rejected
        self.sending_errors += other.sending_errors

    @property
    def errors(self) -> int:
        return self.failed + self.retried + self.sender_rejected


_RECORD = (
    update(Delivery)
    .where(Delivery.id == bindparam("b_id"), Delivery.status == DeliveryStatus.SENDING.value,
           # A batch whose claims were reaped must not overwrite the new claimant's rows.
           Delivery.claimed_by == bindparam("b_owner"))
    .values(status=bindparam("b_status"), sent_at=bindparam("b_sent_at"),
            message_id=bindparam("b_message_id"), smtp_code=bindparam("b_code"),
            smtp_reply=bindparam("b_reply"), last_error=bindparam("b_error"),
            next_attempt_at=bindparam("b_next"), version_id=bindparam("b_text"),
            claimed_at=None, claimed_by=None, embargo_marked=bindparam("b_marked"))
    .execution_options(synchronize_session=False)
)

# PostgreSQL: the whole group in one statement, its rows as one JSON document joined by id.
# One plan instead of one per row, and one parameter instead of a parameter per value (or
# array elements that the driver quotes one by one): a third of an executemany's client CPU.
_FIELDS = {"b_id": Integer, "b_status": Text, "b_sent_at": UTCDateTime, "b_message_id": Text,
           "b_code": Integer, "b_reply": Text, "b_error": Text, "b_next": UTCDateTime,
           "b_marked": Boolean, "b_text": Integer}
_ROWS = func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON)).table_valued(
    *(column(name, kind) for name, kind in _FIELDS.items())
).render_derived(name="recorded", with_types=True)
_RECORD_JSON = (
    update(Delivery)
    .where(Delivery.id == _ROWS.c.b_id, Delivery.status == DeliveryStatus.SENDING.value,
           Delivery.claimed_by == bindparam("owner"))
    .values(status=_ROWS.c.b_status, sent_at=_ROWS.c.b_sent_at,
            message_id=_ROWS.c.b_message_id, smtp_code=_ROWS.c.b_code,
            smtp_reply=_ROWS.c.b_reply, last_error=_ROWS.c.b_error,
            next_attempt_at=_ROWS.c.b_next, version_id=_ROWS.c.b_text,
            claimed_at=None, claimed_by=None, embargo_marked=_ROWS.c.b_marked)
    # The ids again, apart from the JSON, so that the planner sees how few rows these are;
    # the join alone it may answer by reading the whole table.
    .where(Delivery.id == id_array("ids"))
    .execution_options(synchronize_session=False)
)


def _as_json(rows: list[dict[str, Any]]) -> str:
    # Times as ISO 8601 with their UTC offset: PostgreSQL reads back the same instant.
    return json.dumps(rows, default=datetime.isoformat)


def record(session: Session, results: list[Result], policy: RetryPolicy, now: datetime,
           marked: dict[int, bool], owner: str) -> Tally:
    """One statement for the group (an executemany on SQLite), plus suppressions for
    permanent failures."""
    tally = Tally()
    rows, suppress = [], []
    postgresql = session.get_bind().dialect.name == "postgresql"
    busy = [r.delivery_id for r in results if _connection_trouble(r.outcome)]
    if busy:
        # The connection's trouble, not the recipient's: its claim's attempt is given back.
        _uncount_attempts(session, busy, owner)
    # The group's one instant, formatted once for the JSON document, not once per row.
    stamp = now.isoformat() if postgresql else now
    for result in results:
        row = _row(result, policy, now, stamp, marked.get(result.delivery_id), tally)
        if row is not None:
            rows.append(row)
        # Only the receiving server's refusal of the address (it has a code) says the
        # address is bad; a policy or content refusal (REFUSED) blames the message.
        if result.outcome.kind is OutcomeKind.PERMANENT and result.outcome.code is not None:
            suppress.append({"email": result.email, "reason": _reason(result.outcome),
                             "created_at": now})
    if rows and postgresql:
        by_primary_key(session)
        # Through the Connection, as Core: the ORM's bulk-update handling adds nothing to
        # a statement that loads no objects, and cost a few µs a message.
        session.connection().execute(_RECORD_JSON, {
            "rows": _as_json(rows), "owner": owner,
            "ids": int_array([row["b_id"] for row in rows])})
    elif rows:
        # Through the Connection: a list of rows given to Session.execute would be taken
        # for an ORM bulk update by primary key, which this WHERE clause is not.
        session.connection().execute(_RECORD, [{**row, "b_owner": owner} for row in rows])
    if suppress:
        add_suppressions(session, suppress)
    if busy:
        # One dropped connection (or 421) hands back every message after it: one error of
        # the sending, not one per recipient (which paused a send at a single drop).
        tally.sending_errors += 1
    return tally


def _uncount_attempts(session: Session, ids: list[int], owner: str) -> None:
    by_primary_key(session)
    session.execute(
        update(Delivery)
        .where(one_of(session, Delivery.id, ids),
               Delivery.status == DeliveryStatus.SENDING.value, Delivery.claimed_by == owner)
        .values(attempts=Delivery.attempts - 1)
        .execution_options(synchronize_session=False))


def _row(result: Result, policy: RetryPolicy, now: datetime, stamp: datetime | str,
         marked: bool | None, tally: Tally) -> dict[str, Any] | None:
    outcome = result.outcome
    # The reply is kept whatever it said: a relay's "queued as 4XyZ" traces a message on.
    reply = outcome.text if outcome.code is not None else None
    row: dict[str, Any] = {
        "b_id": result.delivery_id, "b_sent_at": None, "b_message_id": result.message_id,
        "b_code": outcome.code, "b_reply": reply, "b_error": None, "b_next": None,
        "b_marked": None, "b_text": result.text_id}
    if outcome.kind is OutcomeKind.REFUSED:  # a policy refusal of our copy: each counts
        tally.sending_errors += 1
    if outcome.kind is OutcomeKind.SENT:
        tally.sent += 1
        row.update(b_status=DeliveryStatus.SENT.value, b_sent_at=stamp, b_marked=marked)
    elif outcome.kind in (OutcomeKind.PERMANENT, OutcomeKind.REFUSED):
        tally.failed += 1
        row.update(b_status=DeliveryStatus.FAILED.value, b_error=outcome.text)
    elif outcome.kind is OutcomeKind.SENDER_REJECTED:
        # Not the recipient's fault: the row goes back untouched; the caller pauses.
        tally.sender_rejected += 1
        return None
    elif _connection_trouble(outcome):
        # A server busy (421) or a connection lost says nothing of the recipient: no
        # attempt counted (see record), tried again after the first retry's wait.
        tally.retried += 1
        row.update(b_status=DeliveryStatus.PENDING.value, b_error=outcome.text,
                   b_next=policy.next_attempt(1, now))
    elif result.attempts >= policy.max_attempts:
        tally.failed += 1
        row.update(b_status=DeliveryStatus.FAILED.value,
                   b_error=f"gave up after {result.attempts} attempts: {outcome.text}")
    else:
        tally.retried += 1
        row.update(b_status=DeliveryStatus.PENDING.value, b_error=outcome.text,
                   b_next=policy.next_attempt(result.attempts, now))
    return row


def _connection_trouble(outcome: Outcome) -> bool:
    """A deferral of one recipient (452 mailbox full, 451 greylisted) is that recipient's
    retry schedule; a lost connection or a 421 is the sending's."""
    return outcome.kind is OutcomeKind.TEMPORARY and (outcome.code is None
                                                      or outcome.code == 421)


def _reason(outcome: Outcome) -> str:
    return f"{outcome.code or ''} {outcome.text}".strip()


def add_suppressions(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert suppressions, keeping the first reason for an address already there."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(Suppression).on_conflict_do_nothing(index_elements=["email"])
    session.execute(stmt, rows)


__all__ = ["Result", "RetryPolicy", "Tally", "add_suppressions", "record"]
