"""`pressroom report`: what became of each recipient of a distribution."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.engine.lifecycle import get_distribution
from distribution.store.models import Contact, Delivery, DeliveryStatus, MailingList

# What an office calls a failure: the copy did not reach the person.
FAILED = [DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.COMPLAINED,
          DeliveryStatus.CANCELLED]
COLUMNS = ("email", "name", "list", "language", "status", "time", "smtp_code", "smtp_reply",
           "error", "bounce")


def recipient_report(session: Session, distribution_id: int, *,
                     failed_only: bool = False) -> list[dict[str, Any]]:
    """One row per recipient, in the order they were queued."""
    dist = get_distribution(session, distribution_id)
    stmt = (select(Delivery, Contact.name, MailingList.name)
            .join(Contact, Contact.id == Delivery.contact_id, isouter=True)
            .join(MailingList, MailingList.id == Delivery.list_id, isouter=True)
            .where(Delivery.distribution_id == distribution_id)
            .order_by(Delivery.id))
    if failed_only:
        stmt = stmt.where(Delivery.status.in_(FAILED))
    language = dist.release.language
    rows = []
    for delivery, name, list_name in session.execute(stmt):
        status = DeliveryStatus(delivery.status)
        rows.append({
            "email": delivery.email,
            "name": name,
            "list": list_name,
            "language": language,  # of the version sent: one per release for now
            # Claimed rows are on their way: for the office they are still pending.
            "status": "pending" if status is DeliveryStatus.SENDING else status.value,
            "time": delivery.sent_at.isoformat() if delivery.sent_at else None,
            "smtp_code": delivery.smtp_code,
            "smtp_reply": delivery.smtp_reply,
            "error": delivery.last_error,
            "bounce": delivery.bounce_diagnostic,
        })
    return rows
