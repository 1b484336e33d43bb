"""one copy of a release per person, by a constraint: deliveries carry release and copy

A send skips who already received a release (or has it on its way), and two sends of one
release at the same moment must not both schedule a person: a unique index on (release,
contact, copy) decides, where checking first and inserting after would race. `--again`
makes the next copy. Rows of notices and corrections have no release here: they go to
the same people on purpose.

Existing rows of release distributions get their release, and copies numbered in the
order they were made (a person sent a release twice before this has copies 1 and 2).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('release_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('copy', sa.Integer(), nullable=False,
                                   server_default='1'))
    op.execute(
        "UPDATE deliveries SET release_id = (SELECT d.release_id FROM distributions d "
        "WHERE d.id = deliveries.distribution_id AND d.kind = 'release')")
    op.execute(
        "UPDATE deliveries SET copy = (SELECT numbered.n FROM (SELECT id, row_number() "
        "OVER (PARTITION BY release_id, contact_id ORDER BY id) AS n FROM deliveries "
        "WHERE release_id IS NOT NULL) AS numbered WHERE numbered.id = deliveries.id) "
        "WHERE release_id IS NOT NULL")
    op.create_index('uq_delivery_release_copy', 'deliveries',
                    ['release_id', 'contact_id', 'copy'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_delivery_release_copy', table_name='deliveries')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('copy')
        batch.drop_column('release_id')
