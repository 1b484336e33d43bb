"""one person, one address; one copy of a release per person, by constraints

Contacts are one per case-folded address: Reporter@News.example.com and
reporter@news.example.com were two contacts (two copies of every release; unsubscribing
one left the other subscribed). Existing duplicates merge into the oldest contact, whose
spelling is kept for display: their subscriptions move to it (an unsubscription from a
list in any spelling stands), their deliveries are re-pointed (a distribution that had
both keeps the second row on the removed contact's id: it records a copy that went out),
suppressions stay as they are (by address). A unique index on lower(email) keeps it so.

A send skips who already received a release (or has it on its way), and two sends of one
release at the same moment must not both schedule a person: a unique index on (release,
contact, copy) decides, where checking first and inserting after would race. `--again`
makes the next copy. Rows of notices and corrections have no release here: they go to
the same people on purpose.

Existing rows of release distributions get their release, and copies numbered in the
order they were made (a person sent a release twice before this has copies 1 and 2).

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The oldest contact of the same case-folded address as contact `alias`. (The statements
# below are put together from these constants only: no input reaches them.)
SURVIVOR = "(SELECT min(k.id) FROM contacts k WHERE lower(k.email) = lower({alias}.email))"
DUPLICATES = f"SELECT c.id FROM contacts c WHERE c.id > {SURVIVOR.format(alias='c')}"  # noqa: S608


def _merge_contacts() -> None:
    op.create_index('ix_contacts_folded_tmp', 'contacts', [sa.text('lower(email)')])
    # An unsubscription from a list, in any spelling, holds for the merged contact.
    op.execute(
        "UPDATE subscriptions SET status = 'unsubscribed' WHERE EXISTS (SELECT 1 FROM "
        "subscriptions s2 JOIN contacts c2 ON c2.id = s2.contact_id JOIN contacts c1 ON "
        "c1.id = subscriptions.contact_id WHERE s2.list_id = subscriptions.list_id AND "
        "s2.status = 'unsubscribed' AND lower(c2.email) = lower(c1.email) AND c2.id <> c1.id)")
    # Per list, the first spelling's subscription moves to the survivor; the rest go.
    op.execute(
        f"UPDATE subscriptions SET contact_id = (SELECT {SURVIVOR.format(alias='c')} "  # noqa: S608
        "FROM contacts c WHERE c.id = subscriptions.contact_id) "
        f"WHERE contact_id IN ({DUPLICATES}) AND contact_id = (SELECT min(s3.contact_id) "
        "FROM subscriptions s3 JOIN contacts c3 ON c3.id = s3.contact_id JOIN contacts c4 "
        "ON c4.id = subscriptions.contact_id WHERE s3.list_id = subscriptions.list_id AND "
        "lower(c3.email) = lower(c4.email))")
    op.execute(f"DELETE FROM subscriptions WHERE contact_id IN ({DUPLICATES})")  # noqa: S608
    # Deliveries: the first spelling's row in each distribution moves to the survivor.
    op.execute(
        f"UPDATE deliveries SET contact_id = (SELECT {SURVIVOR.format(alias='c')} "  # noqa: S608
        "FROM contacts c WHERE c.id = deliveries.contact_id) "
        f"WHERE contact_id IN ({DUPLICATES}) AND contact_id = (SELECT min(d2.contact_id) "
        "FROM deliveries d2 JOIN contacts c2 ON c2.id = d2.contact_id JOIN contacts c3 ON "
        "c3.id = deliveries.contact_id WHERE d2.distribution_id = deliveries.distribution_id "
        "AND lower(c2.email) = lower(c3.email))")
    op.execute(f"DELETE FROM contacts WHERE id IN ({DUPLICATES})")  # noqa: S608
    op.drop_index('ix_contacts_folded_tmp', table_name='contacts')
    op.create_index('uq_contacts_email_folded', 'contacts', [sa.text('lower(email)')],
                    unique=True)


def upgrade() -> None:
    _merge_contacts()
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
    op.drop_index('uq_contacts_email_folded', table_name='contacts')
    op.drop_index('uq_delivery_release_copy', table_name='deliveries')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('copy')
        batch.drop_column('release_id')
