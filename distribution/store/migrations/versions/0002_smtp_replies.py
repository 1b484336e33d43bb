"""keep the SMTP server's reply text; say why a distribution waits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('deliveries', sa.Column('smtp_reply', sa.Text(), nullable=True))
    op.add_column('distributions', sa.Column('waiting_reason', sa.Text(), nullable=True))
    op.add_column('distributions', sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('distributions') as batch:
        batch.drop_column('waiting_since')
        batch.drop_column('waiting_reason')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('smtp_reply')
