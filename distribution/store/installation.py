"""This database's own random id: what keeps its Message-IDs apart from any other install's."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.store.db import dialect_insert, table_of
from distribution.store.models import Installation


def installation_token(session: Session) -> str:
    """Made by the migration; made here if the row went missing (a restored dump)."""
    token = session.scalar(select(Installation.token).where(Installation.id == 1))
    if token is None:
        session.execute(dialect_insert(session, table_of(Installation))
                        .values(id=1, token=secrets.token_hex(5))
                        .on_conflict_do_nothing())
        token = session.scalar(select(Installation.token).where(Installation.id == 1))
    assert token is not None
    return token
