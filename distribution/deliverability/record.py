"""Applying a bounce or complaint report: the delivery marked, the address suppressed.

Functions take the caller's Session and commit nothing. Each (report, address, kind) is
recorded once (Bounce.fingerprint): a report fed twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config import Settings
from distribution.deliverability.mailed_back import COMPLAINT, HARD, Failure, Report
from distribution.store.db import dialect_insert, table_of
from distribution.store.installation import installation_token
from distribution.store.models import Bounce, Delivery, DeliveryStatus, Suppression

# Signed (engine/messages._message_id): the whole ID must be the one its delivery kept.
_OUR_MESSAGE_ID = re.compile(r"<pressroom\.\d+\.(\d+)\.([0-9a-f]+)\.[a-z2-7]+@[^>]+>")
# Worst first: a complaint outranks a bounce, a hard bounce a soft one.
_RANK = {COMPLAINT: 0, HARD: 1}
NEW_STATUS = {HARD: DeliveryStatus.BOUNCED, COMPLAINT: DeliveryStatus.COMPLAINED}
# Rows not yet sent: a suppressed address must get none of them.
_UNSENT = [DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]


def apply_report(session: Session, settings: Settings, report: Report,
                 now: datetime) -> list[str]:
    """What was done, one line per address; nothing is done for what cannot be trusted."""
    if report.verdict in ("skipped", "autoreply", "unrecognised"):
        return [f"{report.verdict}: {report.note}; left alone"]
    if report.forged:
        return ["a bounce address with a forged or altered token; skipped"]
    if report.delivery_id == 0:
        return ["a bounce of a test copy; nothing to record"]
    delivery = _delivery(session, report)
    if delivery is not None and not report.failures:
        # A report that quotes our copy and names no failure (a delivery notice, "relayed").
        return [f"{delivery.email} (delivery {delivery.id}): the report names no failed "
                "delivery; nothing changed"]
    if delivery is not None:
        return [_apply(session, settings, report, delivery.email, delivery, _worst(report),
                       now)]
    # Without a VERP token or the Message-ID of a copy we sent, a report is anyone's word:
    # an address alone would let a stranger suppress any recipient.
    named = ", ".join(f.email for f in report.failures if f.email) or "no address"
    return [f"{named}: quotes no copy of ours (no VERP token, no Message-ID of ours); "
            "skipped, nothing changed"]


def _worst(report: Report) -> Failure:
    return min(report.failures, key=lambda f: _RANK.get(f.kind, 2))


def _delivery(session: Session, report: Report) -> Delivery | None:
    if report.delivery_id is not None:
        return session.get(Delivery, report.delivery_id)
    found = _OUR_MESSAGE_ID.fullmatch(report.original_message_id or "")
    if found is None or found.group(2) != installation_token(session):
        return None
    delivery = session.get(Delivery, int(found.group(1)))
    # The whole Message-ID must be the one this delivery went out with.
    if delivery is None or delivery.message_id != report.original_message_id:
        return None
    return delivery


def _apply(session: Session, settings: Settings, report: Report, email: str,
           delivery: Delivery, failure: Failure, now: datetime) -> str:
    who = f"{email} (delivery {delivery.id})"
    if not _record(session, report, email, delivery.id, failure, now):
        return f"{who}: already recorded; nothing changed"
    status = NEW_STATUS.get(failure.kind)
    if status is not None and delivery.status in (DeliveryStatus.SENT, DeliveryStatus.BOUNCED):
        delivery.status = status
    delivery.bounce_diagnostic = failure.diagnostic
    if failure.kind in NEW_STATUS:
        suppress(session, email, f"{failure.kind}: {failure.diagnostic}", now)
        return f"{who}: {failure.kind} ({failure.diagnostic}); suppressed"
    count = session.scalar(select(func.count()).select_from(Bounce)
                           .where(Bounce.email == email, Bounce.kind == failure.kind)) or 0
    if count >= settings.soft_bounce_limit:
        suppress(session, email, f"{count} soft bounces, the last: {failure.diagnostic}", now)
        return f"{who}: soft bounce {count} of {settings.soft_bounce_limit}; suppressed"
    return f"{who}: soft bounce {count} of {settings.soft_bounce_limit} ({failure.diagnostic})"


def _record(session: Session, report: Report, email: str, delivery_id: int,
            failure: Failure, now: datetime) -> bool:
    """Record the bounce; False if this report already was."""
    key = hashlib.sha256(f"{report.fingerprint}|{email}|{failure.kind}".encode()).hexdigest()
    # RETURNING, not rowcount: psycopg reports -1 rows for a conflict left alone.
    inserted = session.execute(
        dialect_insert(session, table_of(Bounce))
        .values(fingerprint=key, delivery_id=delivery_id, email=email, kind=failure.kind,
                diagnostic=failure.diagnostic, created_at=now)
        .on_conflict_do_nothing(index_elements=["fingerprint"])
        .returning(Bounce.__table__.c.id)).scalar()
    return inserted is not None


def suppress(session: Session, email: str, reason: str, now: datetime) -> None:
    """Suppress the address (an earlier reason is kept) and cancel what it still awaits,
    notices included: the engine sends rows, and these rows are no longer to be sent."""
    session.execute(dialect_insert(session, table_of(Suppression))
                    .values(email=email, reason=reason[:1000], created_at=now)
                    .on_conflict_do_nothing(index_elements=["email"]))
    session.execute(update(Delivery)
                    .where(Delivery.email == email, Delivery.status.in_(_UNSENT))
                    .values(status=DeliveryStatus.CANCELLED.value,
                            last_error=f"suppressed: {reason}"[:1000])
                    .execution_options(synchronize_session=False))
