"""deliverability: an installation's own id, bounce and complaint reports

Message-IDs were `<pressroom.DIST.DELIVERY@domain>` in every installation, so a staging
and a production install (or a rebuilt database) repeated them. Each database now keeps a
random id of its own (made here, once), which every Message-ID carries.

Bounces and complaints mailed back are recorded one row per report and recipient; the
fingerprint makes feeding the same report twice change nothing. A delivery keeps the
diagnostic of its bounce for the report.

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-07

"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    installation = op.create_table(
        'installation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(installation, [{'id': 1, 'token': secrets.token_hex(5)}])
    op.create_table(
        'bounces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('diagnostic', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('fingerprint'),
    )
    op.create_index('ix_bounces_email', 'bounces', ['email'])
    op.create_index('ix_bounces_delivery', 'bounces', ['delivery_id'])
    op.add_column('deliveries', sa.Column('bounce_diagnostic', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('deliveries', 'bounce_diagnostic')
    op.drop_index('ix_bounces_delivery', table_name='bounces')
    op.drop_index('ix_bounces_email', table_name='bounces')
    op.drop_table('bounces')
    op.drop_table('installation')
