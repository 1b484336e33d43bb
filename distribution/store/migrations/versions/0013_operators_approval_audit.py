"""operators, approval of releases, and the append-only audit log

Operators have roles; trusted lists may be restricted to named operators; a release counts
its revisions and keeps which one was approved, by whom and when. The audit log refuses
UPDATE and DELETE by trigger on both databases, so no command (nor a hand at the SQL
prompt, short of dropping the trigger) rewrites history. Existing releases start at
revision 1, unapproved.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

STAMP = sa.DateTime(timezone=True)

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "the audit log is append-only"


def upgrade() -> None:
    for column in _release_columns():
        op.add_column('releases', column)
    _create_tables()
    _append_only()


def _release_columns() -> list[sa.Column]:
    return [sa.Column('revision', sa.Integer(), server_default=sa.text('1'),
                      nullable=False),
            sa.Column('changed_by', sa.String(100), nullable=True),
            sa.Column('approved_revision', sa.Integer(), nullable=True),
            sa.Column('approved_by', sa.String(100), nullable=True),
            sa.Column('approved_at', STAMP, nullable=True)]


def _create_tables() -> None:
    op.create_table(
        'operators',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(100), nullable=False, unique=True),
        sa.Column('role', sa.String(20), nullable=False),
        sa.Column('created_at', STAMP, nullable=False),
    )
    op.create_table(
        'list_senders',
        sa.Column('list_id', sa.Integer(), sa.ForeignKey('lists.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('operator_id', sa.Integer(),
                  sa.ForeignKey('operators.id', ondelete='CASCADE'), primary_key=True),
    )
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', STAMP, nullable=False),
        sa.Column('actor', sa.String(100), nullable=False),
        sa.Column('actor_kind', sa.String(20), nullable=False),
        sa.Column('origin', sa.String(200), nullable=False),
        sa.Column('action', sa.String(40), nullable=False),
        sa.Column('object', sa.String(100), nullable=False),
        sa.Column('release_id', sa.Integer(), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_release', 'audit_log', ['release_id'])
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor'])


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""")
        op.execute("""
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table('audit_log')
    op.drop_table('list_senders')
    op.drop_table('operators')
    with op.batch_alter_table('releases') as batch:
        for column in ('approved_at', 'approved_by', 'approved_revision', 'changed_by',
                       'revision'):
            batch.drop_column(column)
