"""The audit log: one entry per change, written in the change's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.accountability.actors import Actor, Refused
from distribution.store.db import database_now
from distribution.store.models import AuditEntry

SUMMARY_LIMIT = 500  # a summary is a line, not a document


def record(session: Session, actor: Actor, action: str, obj: str, summary: str, *,
           release_id: int | None = None) -> AuditEntry:
    """Append one entry; it commits or rolls back with the caller's transaction.

    action: "<noun>.<verb>" (release.add, send.paused, operator.remove); obj: what it acted
    on, "release 3", "distribution 7", "list media"; release_id: the release it concerns,
    so that `pressroom log --release` finds sends and notices too.
    """
    entry = AuditEntry(at=database_now(session), actor=actor.name[:100],
                       actor_kind=actor.kind, origin=actor.origin[:200], action=action[:40],
                       object=obj[:100], release_id=release_id,
                       summary=_one_line(summary)[:SUMMARY_LIMIT])
    session.add(entry)
    session.flush()  # fail here, inside the change's transaction, not at commit
    return entry


def record_refusal(session: Session, refusal: Refused) -> AuditEntry:
    """A refused command: what was asked and why not (the change itself never happened)."""
    return record(session, refusal.actor, f"{refusal.action}.refused", refusal.obj,
                  str(refusal), release_id=refusal.release_id)


def entries(session: Session, *, release_id: int | None = None, actor: str | None = None,
            since: datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
    """The log, oldest first, filtered."""
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if release_id is not None:
        stmt = stmt.where(AuditEntry.release_id == release_id)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
            "actor_kind": entry.actor_kind, "origin": entry.origin, "action": entry.action,
            "object": entry.object, "release_id": entry.release_id, "summary": entry.summary}


def _one_line(text: str) -> str:
    return " ".join(text.split())
