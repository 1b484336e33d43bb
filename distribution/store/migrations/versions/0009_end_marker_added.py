"""remember whether a release's end marker was written in it or added by Pressroom

A release without an end marker gets the house marker; `release show` says so, so that an
officer does not take it for the office's own. Existing releases are taken as written.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('releases', sa.Column('end_marker_added', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('releases') as batch:
        batch.drop_column('end_marker_added')
