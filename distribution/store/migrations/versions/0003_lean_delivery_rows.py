"""no foreign keys on deliveries nor from subscriptions to lists; partial indexes for the sweep

Creating a large distribution's rows spent more time in the per-row foreign-key checks of
`deliveries` than in the insert itself (1,000,000 rows: 20 s of 35 s); the check on
`contacts` takes a FOR KEY SHARE lock, which rewrites every contact row. Subscribing
100,000 imported contacts paid a trigger call per row to check the one list. The code
guarantees what these keys checked (see the Delivery and Subscription models), and nothing
deletes contacts, lists, or distributions with rows. subscriptions.contact_id keeps its key.

The (status, next_attempt_at) index held every row; the two queries that need a status
alone (stale claims, held rows at the lift) get partial indexes that only claimed or held
rows enter. Everything else goes by distribution (ix_deliveries_claim).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys dropped, as 0001 created them: table -> (column, referred table, ON DELETE).
FOREIGN_KEYS: dict[str, list[tuple[str, str, str | None]]] = {
    'deliveries': [('distribution_id', 'distributions', 'CASCADE'),
                   ('contact_id', 'contacts', None),
                   ('list_id', 'lists', None)],
    'subscriptions': [('list_id', 'lists', 'CASCADE')],
}
# Those columns as 0001 created them, without their keys (for SQLite's table copy).
PLAIN_COLUMNS = {
    'deliveries': (sa.Column('distribution_id', sa.Integer(), nullable=False),
                   sa.Column('contact_id', sa.Integer(), nullable=False),
                   sa.Column('list_id', sa.Integer(), nullable=True)),
    'subscriptions': (sa.Column('list_id', sa.Integer(), nullable=False, primary_key=True),),
}
SENDING = "status = 'sending'"
HELD = "status = 'held'"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index('ix_deliveries_status_next', table_name='deliveries')
    for table, keys in FOREIGN_KEYS.items():
        if sqlite:
            # SQLite cannot drop a constraint, and 0001's keys have no name there: the table
            # is copied with these columns given plainly (reflection then skips their keys).
            with op.batch_alter_table(table, recreate='always',
                                      reflect_args=PLAIN_COLUMNS[table]):
                pass
            continue
        for column, _, _ in keys:
            # PostgreSQL's own names for 0001's keys.
            op.drop_constraint(f'{table}_{column}_fkey', table, type_='foreignkey')
    op.create_index('ix_deliveries_sending', 'deliveries', ['claimed_at'],
                    postgresql_where=sa.text(SENDING), sqlite_where=sa.text(SENDING))
    op.create_index('ix_deliveries_held', 'deliveries', ['distribution_id'],
                    postgresql_where=sa.text(HELD), sqlite_where=sa.text(HELD))


def downgrade() -> None:
    """Back to 0002; fails if rows written since break a key (an operator deleted a list)."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index('ix_deliveries_held', table_name='deliveries')
    op.drop_index('ix_deliveries_sending', table_name='deliveries')
    for table, keys in FOREIGN_KEYS.items():
        if sqlite:
            # Unnamed, as 0001 made them.
            unnamed = tuple(
                sa.ForeignKeyConstraint([column], [f'{referred}.id'], ondelete=ondelete)
                for column, referred, ondelete in keys)
            with op.batch_alter_table(table, recreate='always', reflect_args=unnamed):
                pass
            continue
        for column, referred, ondelete in keys:
            op.create_foreign_key(f'{table}_{column}_fkey', table, referred, [column], ['id'],
                                  ondelete=ondelete)
    op.create_index('ix_deliveries_status_next', 'deliveries', ['status', 'next_attempt_at'])
