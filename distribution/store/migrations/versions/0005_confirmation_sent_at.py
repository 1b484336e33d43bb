"""remember when a sign-up's confirmation email went out

The sign-up form sends a confirmation email to whatever address it is given. Limited per
client address alone, it could be used from many clients to fill a stranger's inbox: an
address now gets at most one confirmation email per few minutes, whoever asks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('subscriptions',
                  sa.Column('confirm_sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('confirm_sent_at')
