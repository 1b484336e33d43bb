"""list titles for public pages; internationalised domains stored as IDNA

A list's slug ("media-fr") is what commands use; its title ("Médias francophones") is what
the public reads on the sign-up pages. Addresses whose domain was stored in Unicode
("user@exämple.org") could not be sent; they are rewritten as they are sent
("user@xn--exmple-cua.org"), unless that spelling is already stored.

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('lists', sa.Column('title', sa.String(200), nullable=True))
    bind = op.get_bind()
    for table in ('contacts', 'suppressions'):
        _idna_domains(bind, table)


def downgrade() -> None:
    with op.batch_alter_table('lists') as batch:
        batch.drop_column('title')


def _idna_domains(bind: sa.Connection, name: str) -> None:
    table = sa.table(name, sa.column('id', sa.Integer), sa.column('email', sa.String))
    rows = bind.execute(sa.select(table.c.id, table.c.email)).all()
    taken = {email for _, email in rows}
    for row_id, email in rows:
        if email.isascii():
            continue
        local, _, domain = email.rpartition('@')
        try:
            ascii_domain = domain.encode('idna').decode('ascii')
        except UnicodeError:
            continue  # not a domain IDNA can write: left for the office to see
        new = f"{local}@{ascii_domain}"
        if new != email and new not in taken and new.isascii():
            bind.execute(sa.update(table).where(table.c.id == row_id).values(email=new))
            taken.add(new)
