"""the reaper's index holds rows that carry a claim time, not rows whose status is sending

Recording a group's results looks its rows up by id, with `status = 'sending'` as a check.
PostgreSQL saw that check match the partial index of 0003 and, its statistics of a fresh
distribution saying few rows are claimed, scanned that index instead of the primary key.
But every row of a distribution passes through 'sending' once, and until a vacuum each
passage leaves an index entry behind: at 100,000 recipients each group's write visited
thousands of heap pages, and recording cost four times what it did at 10,000. Keyed on
claimed_at, which only the reaper asks about, the index is no longer a candidate for the
writes, and the reaper (`claimed_at < cutoff` implies the predicate) still uses it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMED = "claimed_at IS NOT NULL"
SENDING = "status = 'sending'"


def upgrade() -> None:
    # The new index first: building it blocks writes but not reads, and the exclusive lock
    # of the drop then lasts only until the commit that follows it.
    op.create_index('ix_deliveries_claimed', 'deliveries', ['claimed_at'],
                    postgresql_where=sa.text(CLAIMED), sqlite_where=sa.text(CLAIMED))
    op.drop_index('ix_deliveries_sending', table_name='deliveries')


def downgrade() -> None:
    op.create_index('ix_deliveries_sending', 'deliveries', ['claimed_at'],
                    postgresql_where=sa.text(SENDING), sqlite_where=sa.text(SENDING))
    op.drop_index('ix_deliveries_claimed', table_name='deliveries')
