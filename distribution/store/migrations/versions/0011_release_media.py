"""photos and files of a release, their bytes by content hash, and how email carries them

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'release_media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('release_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('image', 'file', name='media_kind', native_enum=False,
                                  length=20), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('renditions', sa.JSON(), nullable=False),
        sa.Column('caption', sa.Text(), nullable=True),
        sa.Column('credit', sa.String(length=300), nullable=True),
        sa.Column('alt', sa.Text(), nullable=True),
        sa.Column('public_key', sa.String(length=43), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['release_id'], ['releases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_key'),
    )
    op.create_index('ix_release_media_release', 'release_media', ['release_id', 'position'])
    op.create_table(
        'media_blobs',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    op.create_table(
        'release_media_options',
        sa.Column('release_id', sa.Integer(), nullable=False),
        sa.Column('inline_photos', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['release_id'], ['releases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('release_id'),
    )


def downgrade() -> None:
    op.drop_table('release_media_options')
    op.drop_table('media_blobs')
    op.drop_index('ix_release_media_release', table_name='release_media')
    op.drop_table('release_media')
