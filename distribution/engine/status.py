"""What an operator asks: how far a distribution has got, and why it stopped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from config import Settings
from distribution import times
from distribution.engine.lifecycle import get_distribution
from distribution.errors import NotFound
from distribution.store.db import database_now, database_started
from distribution.store.models import Delivery, DeliveryStatus, Distribution


def latest_distribution_id(session: Session) -> int:
    found: int | None = session.scalar(select(func.max(Distribution.id)))
    if found is None:
        raise NotFound("no distributions yet; send a release with `pressroom send`")
    return found


def counts(session: Session, distribution_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.distribution_id == distribution_id)
        .group_by(Delivery.status))
    by_status = {DeliveryStatus(s).value: n for s, n in rows}
    return {
        "total": sum(by_status.values()),
        "sent": by_status.get("sent", 0),
        "failed": by_status.get("failed", 0),
        "pending": by_status.get("pending", 0),
        # Claimed by a batch at work: on their way to the SMTP server now.
        "in_flight": by_status.get("sending", 0),
        "held": by_status.get("held", 0),
        "cancelled": by_status.get("cancelled", 0),
        # Accepted by the relay, then mailed back (`pressroom bounces`).
        "bounced": by_status.get("bounced", 0),
        "complained": by_status.get("complained", 0),
    }


def details(session: Session, distribution_id: int, org_zone: str,
            thresholds: Thresholds, lease_seconds: int | None = None) -> dict[str, Any]:
    """describe(), with the embargo as `status` shows it (see times.embargo_display) and
    warnings of the rates above the office's thresholds."""
    info = describe(session, distribution_id, lease_seconds)
    release = get_distribution(session, distribution_id).release
    info["embargo_display"] = times.embargo_display(release.embargo_until, org_zone,
                                                    release.embargo_zone)
    info["warnings"] = rate_warnings(info, thresholds)
    return info


@dataclass(frozen=True)
class Thresholds:
    """The rates above which `status` warns: settings complaint_rate_warning and
    bounce_rate_warning (what mailbox providers tolerate before they junk bulk mail)."""

    complaint: float
    bounce: float

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(settings.complaint_rate_warning, settings.bounce_rate_warning)


def rates(counted: dict[str, int]) -> dict[str, float]:
    """Bounce and complaint rates among the copies the relay accepted."""
    accepted = counted["sent"] + counted["bounced"] + counted["complained"]
    bounce = counted["bounced"] / accepted if accepted else 0.0
    complaint = counted["complained"] / accepted if accepted else 0.0
    return {"bounce_rate": round(bounce, 5), "complaint_rate": round(complaint, 5)}


def rate_warnings(info: dict[str, Any], thresholds: Thresholds) -> list[str]:
    warnings = []
    complaint, bounce = info["complaint_rate"], info["bounce_rate"]
    if complaint > thresholds.complaint:
        warnings.append(f"complaint rate {complaint:.2%} is above "
                        f"{_percent(thresholds.complaint)}: providers junk or refuse mail "
                        "from senders like this")
    if bounce > thresholds.bounce:
        warnings.append(f"bounce rate {bounce:.2%} is above {_percent(thresholds.bounce)}: "
                        "the list needs cleaning")
    return warnings


def _percent(fraction: float) -> str:
    """0.003 -> "0.3%", 0.02 -> "2%": as many decimals as the setting has."""
    return f"{fraction * 100:g}%"


def describe(session: Session, distribution_id: int,
             lease_seconds: int | None = None) -> dict[str, Any]:
    """The distribution's state; with `lease_seconds` (claim_timeout_seconds), the rows of a
    batch whose lease lapsed are told apart from those in flight (see _claims)."""
    dist = get_distribution(session, distribution_id)
    release = dist.release
    return {
        "id": dist.id,
        "release_id": release.id,
        "headline": release.headline,
        "kind": dist.kind.value,
        "status": dist.status.value,
        "lists": dist.list_names,
        "send_at": _iso(dist.send_at),
        "started_at": _iso(dist.started_at),
        "finished_at": _iso(dist.finished_at),
        "embargo_until": _iso(release.embargo_until),
        "embargo_zone": release.embargo_zone,
        "paused_reason": dist.paused_reason,
        "waiting_reason": dist.waiting_reason,
        "waiting_since": _iso(dist.waiting_since),
        **(counted := counts(session, distribution_id)),
        **rates(counted),
        **_claims(session, distribution_id, counted, lease_seconds),
        **_deferred(session, distribution_id),
    }


def _claims(session: Session, distribution_id: int, counted: dict[str, int],
            lease_seconds: int | None) -> dict[str, Any]:
    """Rows claimed by batches: in flight while their lease holds (a batch at work renews
    it; one that stopped does not), then `reclaimable`, which the next sweep takes back.

    `in_flight_since` is the oldest renewal among those in flight, `lease_lapses_at` when
    they are taken back should their batch have stopped; `lapsed_at` when the lease of the
    reclaimable ones lapsed. Leases count from the database server's start, as in
    claims.return_stale.
    """
    sending = (Delivery.distribution_id == distribution_id,
               Delivery.status == DeliveryStatus.SENDING.value)
    found: dict[str, Any] = {"in_flight_since": None, "lease_lapses_at": None,
                             "reclaimable": 0, "lapsed_at": None}
    if not counted["in_flight"]:
        return found
    if lease_seconds is None:
        found["in_flight_since"] = _iso(session.scalar(
            select(func.min(Delivery.claimed_at)).where(*sending)))
        return found
    lease = timedelta(seconds=lease_seconds)
    now = database_now(session)
    started = database_started(session)

    def claimed(*where: ColumnElement[bool]) -> tuple[int, datetime | None]:
        count, oldest = session.execute(select(func.count(), func.min(Delivery.claimed_at))
                                        .where(*sending, *where)).one()
        return count, oldest

    lapsed: tuple[int, datetime | None]
    if started is not None and started > now - lease:
        # No lease lapses while the database was away (claims.return_stale): each runs
        # until a lease after the server's start at least.
        live, lapsed = claimed(), (0, None)
        lapses_at = max(live[1], started) + lease if live[1] else None
    else:
        live = claimed(Delivery.claimed_at >= now - lease)
        lapsed = claimed(Delivery.claimed_at < now - lease)
        lapses_at = live[1] + lease if live[1] else None
    found.update(in_flight=live[0], in_flight_since=_iso(live[1]),
                 lease_lapses_at=_iso(lapses_at), reclaimable=lapsed[0],
                 lapsed_at=_iso(lapsed[1] + lease if lapsed[1] else None))
    return found


def _deferred(session: Session, distribution_id: int) -> dict[str, Any]:
    """The reply that defers the most recipients."""
    deferred = session.execute(
        select(Delivery.smtp_code, Delivery.last_error, func.count())
        .where(Delivery.distribution_id == distribution_id,
               Delivery.status == DeliveryStatus.PENDING.value,
               Delivery.last_error.is_not(None))
        .group_by(Delivery.smtp_code, Delivery.last_error)
        .order_by(func.count().desc()).limit(1)).first()
    by = f"{deferred[0] or ''} {deferred[1]}".strip() if deferred else None
    return {"deferred": deferred[2] if deferred else 0, "deferred_by": by}


def all_distributions(session: Session, thresholds: Thresholds,
                      limit: int = 50) -> list[dict[str, Any]]:
    ids = session.scalars(select(Distribution.id).order_by(Distribution.id.desc()).limit(limit))
    return [{**(info := describe(session, i)), "warnings": rate_warnings(info, thresholds)}
            for i in ids]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
