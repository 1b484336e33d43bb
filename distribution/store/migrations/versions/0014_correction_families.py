"""corrections keep the release's address; each copy records the text it carried

A delivery now records which text it carried (`version_id`: a language version or a
correction), so that a correction of one language goes to exactly those who were sent it.
Copies sent before are filled in as they were chosen: by the contact's language among the
versions of the release sent (exact tag first, then the same primary language).

A language version now names its family's first release: versions added to a corrected
release named the correction; they are moved to the root, and a version in a language the
family already had becomes a correction of it (the texts of one language form one line).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-08

"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

releases = sa.table('releases', sa.column('id', sa.Integer), sa.column('language', sa.String),
                    sa.column('version_of_id', sa.Integer), sa.column('corrects_id', sa.Integer))
deliveries = sa.table('deliveries', sa.column('distribution_id', sa.Integer),
                      sa.column('contact_id', sa.Integer), sa.column('version_id', sa.Integer))
distributions = sa.table('distributions', sa.column('id', sa.Integer),
                         sa.column('release_id', sa.Integer), sa.column('kind', sa.String))
contacts = sa.table('contacts', sa.column('id', sa.Integer), sa.column('language', sa.String))


def upgrade() -> None:
    op.add_column('deliveries', sa.Column('version_id', sa.Integer(), nullable=True))
    bind = op.get_bind()
    rows = {r.id: r for r in bind.execute(sa.select(
        releases.c.id, releases.c.language, releases.c.version_of_id, releases.c.corrects_id))}
    versions = sorted((r for r in rows.values() if r.version_of_id is not None),
                      key=lambda r: r.id)
    for exact in (True, False):  # the copies first: by the release each went out with
        for version in versions:
            _fill_in(bind, version.id, version.language, version.version_of_id, exact)
    lines: dict[tuple[int, str], int] = {}  # (root, primary language): the line's newest
    for version in versions:
        root = _root(rows, version.id)
        key = (root, _primary(version.language))
        values: dict[str, int] = {}
        if version.version_of_id != root:
            values['version_of_id'] = root
        if version.corrects_id is None and key in lines:
            values['corrects_id'] = lines[key]
        lines[key] = version.id
        if values:
            bind.execute(sa.update(releases).where(releases.c.id == version.id).values(**values))


def _root(rows: dict[int, Any], release_id: int) -> int:
    row = rows[release_id]
    while (parent := row.version_of_id or row.corrects_id) is not None and parent in rows:
        row = rows[parent]
    return int(row.id)


def _primary(code: str | None) -> str:
    return (code or '').replace('_', '-').split('-')[0].lower()


def _fill_in(bind: sa.Connection, version_id: int, language: str, sent_with: int,
             exact: bool) -> None:
    """The copies of a send of `sent_with` whose contact reads the version's language."""
    tag = (language or '').replace('_', '-').lower()
    spoken = sa.func.lower(sa.func.replace(contacts.c.language, '_', '-'))
    readers = (spoken == tag if exact else
               sa.or_(spoken == _primary(tag), spoken.like(_primary(tag) + '-%')))
    sends = sa.select(distributions.c.id).where(distributions.c.release_id == sent_with,
                                                distributions.c.kind == 'release')
    bind.execute(sa.update(deliveries).where(
        deliveries.c.distribution_id.in_(sends), deliveries.c.version_id.is_(None),
        deliveries.c.contact_id.in_(sa.select(contacts.c.id).where(readers)),
    ).values(version_id=version_id))


def downgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('version_id')
