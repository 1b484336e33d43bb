"""Creating the delivery rows of one distribution to a very large list, on PostgreSQL.

The audience (contacts and subscriptions) is made set-based with generate_series, then
`dispatch.plan` (which counts the audience) and `dispatch.schedule` (the INSERT ... SELECT
of every delivery row) are timed apart, each with its commit.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import fixture
from distribution.engine import dispatch
from distribution.store.db import transaction

_CONTACTS = """
INSERT INTO contacts (email, name, timezone, created_at)
SELECT 'reporter' || g || '@outlet' || (g % 2000) || '.example.com', 'Reporter ' || g,
       CASE WHEN g % 3 = 0 THEN 'Europe/Zurich' END, now()
FROM generate_series(1, :n) AS g
"""
_SUBSCRIPTIONS = """
INSERT INTO subscriptions (contact_id, list_id, status, created_at)
SELECT id, :list_id, 'subscribed', now() FROM contacts
"""


def measure(database_url: str, release_file: Path, n: int) -> dict[str, Any]:
    engine, factory = fixture.open_store(database_url)
    release_id = fixture.add_release(factory, release_file)
    started = time.perf_counter()
    with engine.begin() as conn:
        list_id = conn.execute(text(
            "INSERT INTO lists (name, trusted, open_signup, created_at) "
            "VALUES ('everyone', false, false, now()) RETURNING id")).scalar_one()
        conn.execute(text(_CONTACTS), {"n": n})
        conn.execute(text(_SUBSCRIPTIONS), {"list_id": list_id})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE contacts, subscriptions"))
    setup = time.perf_counter() - started
    started = time.perf_counter()
    with transaction(factory) as session:
        plan = dispatch.plan(session, release_id, ["everyone"])
    planned = time.perf_counter() - started
    started = time.perf_counter()
    with transaction(factory) as session:
        plan = _reload(session, plan)
        _, rows = dispatch.schedule(session, plan, now=datetime.now(UTC))
    scheduled = time.perf_counter() - started
    engine.dispose()
    if rows != n:
        raise RuntimeError(f"dispatch.schedule created {rows} rows for {n} recipients")
    return {"name": "delivery rows of one distribution (PostgreSQL)", "rows": rows,
            "schedule_s": round(scheduled, 3), "plan_s": round(planned, 3),
            "rows_per_s": round(rows / scheduled), "setup_s": round(setup, 3)}


def _reload(session, plan: dispatch.Plan) -> dispatch.Plan:  # type: ignore[no-untyped-def]
    """The plan's objects in this session, without counting the audience again."""
    release = dispatch.get_release(session, plan.release.id)
    lists = dispatch.get_lists(session, [m.name for m in plan.lists])
    return dispatch.Plan(release, lists, plan.recipients)
