"""the reaper finds stale claims by distribution; no index of its own

The reaper ran `claimed_at < cutoff` over the whole table. Without fresh statistics (a
database that has not been analysed since a large send) PostgreSQL chose a sequential scan
of every delivery ever made, once a sweep, once a second: 65 ms at 540,000 rows, and more
with every release. It now looks only at distributions that are not done, through the claim
index (distribution, status), and the claim-time index, which cost one more index entry for
every message claimed, goes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMED = "claimed_at IS NOT NULL"


def upgrade() -> None:
    op.drop_index('ix_deliveries_claimed', table_name='deliveries')


def downgrade() -> None:
    op.create_index('ix_deliveries_claimed', 'deliveries', ['claimed_at'],
                    postgresql_where=sa.text(CLAIMED), sqlite_where=sa.text(CLAIMED))
