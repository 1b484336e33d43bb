"""language versions of a release; saved audience segments

A release may have versions in other languages: each is a release row whose
`version_of_id` names the original, so the send path reads one row per language and the
embargo, distributions and public address stay the original's. Segments keep a named
audience (lists and conditions on contact fields) to send to by name.

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('releases') as batch:
        batch.add_column(sa.Column('version_of_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_releases_version_of', 'releases',
                                 ['version_of_id'], ['id'])
        batch.create_index('ix_releases_version_of', ['version_of_id'])
    # "-ENDS-" was stored for every release whose text had no marker; in another language
    # it was that default, not the office's choice: the language's own marker shows now.
    op.execute("UPDATE releases SET end_marker = '' WHERE end_marker = '-ENDS-' "
               "AND language NOT LIKE 'en%'")
    op.create_table(
        'segments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('list_names', sa.JSON(), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('segments')
    with op.batch_alter_table('releases') as batch:
        batch.drop_index('ix_releases_version_of')
        batch.drop_constraint('fk_releases_version_of', type_='foreignkey')
        batch.drop_column('version_of_id')
