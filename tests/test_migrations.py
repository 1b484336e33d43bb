"""The schema: Alembic migrations match the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from distribution.store.db import (
    SCHEMA_REVISION,
    StoreError,
    _alembic_config,
    check_schema,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from distribution.store.models import Base, Distribution, DistributionKind, DistributionStatus
from tests.fixtures.builders import make_release, now_utc


def test_migrations_produce_exactly_the_models(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_init_creates_then_reports_up_to_date(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    cli.env["PRESSROOM_DATABASE_URL"] = url
    first = cli("init")
    assert first.exit_code == 0 and "new ->" in first.stdout
    second = cli("init")
    assert second.exit_code == 0 and "up to date" in second.stdout
    engine = make_engine(url)
    assert current_revision(engine) == head_revision(engine)
    assert {"releases", "contacts", "lists", "subscriptions", "suppressions",
            "distributions", "deliveries"} <= set(inspect(engine).get_table_names())


def test_commands_refuse_an_uninitialised_database(cli, tmp_path):
    cli.env["PRESSROOM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'none.db'}"
    result = cli("release", "list")
    assert result.exit_code == 1
    assert "run `pressroom init`" in result.stderr


def test_upgrade_is_idempotent_on_postgresql(pg_store):
    before, after = upgrade(pg_store.engine)
    assert before == after == head_revision(pg_store.engine)
    check_schema(pg_store.engine)


def test_the_code_expects_the_newest_migration(sqlite_store):
    assert head_revision(sqlite_store.engine) == SCHEMA_REVISION


def test_an_older_schema_is_refused_until_init(store):
    check_schema(store.engine)
    command.downgrade(_alembic_config(store.engine), "0003")
    with pytest.raises(StoreError, match="out of date"):
        check_schema(store.engine)
    assert upgrade(store.engine) == ("0003", SCHEMA_REVISION)  # what `pressroom init` runs
    check_schema(store.engine)


def test_a_migration_that_fails_says_where_in_one_line(cli, sqlite_store):
    command.downgrade(_alembic_config(sqlite_store.engine), "0003")
    with sqlite_store.engine.begin() as conn:  # changed by hand since
        conn.exec_driver_sql("DROP INDEX ix_deliveries_sending")
    cli.env["PRESSROOM_DATABASE_URL"] = sqlite_store.url
    result = cli("init")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: upgrading the schema from 0003 to {SCHEMA_REVISION} failed: "
        "no such index: ix_deliveries_sending"]
    assert current_revision(sqlite_store.engine) == "0003"


def test_contacts_of_one_address_in_two_spellings_merge_into_the_first(store):
    """Before 0007, Reporter@News.example.com and reporter@news.example.com were two
    contacts. The first spelling stays; subscriptions and deliveries move to it; an
    unsubscription in either spelling stands; a suppression stays."""
    from sqlalchemy import text

    command.downgrade(_alembic_config(store.engine), "0010")
    with store.engine.begin() as conn:
        run = conn.exec_driver_sql
        run("INSERT INTO contacts (id, email, created_at) VALUES "
            "(1, 'Reporter@News.example.com', '2026-01-01'), "
            "(2, 'reporter@news.example.com', '2026-01-02'), (3, 'other@example.org', "
            "'2026-01-03')")
        run("INSERT INTO lists (id, name, trusted, open_signup, created_at) VALUES "
            "(1, 'media', false, false, '2026-01-01'), (2, 'public', false, false, "
            "'2026-01-01')")
        run("INSERT INTO subscriptions (contact_id, list_id, status, created_at) VALUES "
            "(1, 1, 'subscribed', '2026-01-01'), (2, 1, 'unsubscribed', '2026-01-02'), "
            "(2, 2, 'subscribed', '2026-01-02'), (3, 1, 'subscribed', '2026-01-03')")
        run("INSERT INTO suppressions (email, reason, created_at) VALUES "
            "('reporter@news.example.com', '550 5.1.1', '2026-01-05')")
    with store.Session() as session, session.begin():  # tables 0007 leaves as they were
        release = make_release(session)
        session.add(Distribution(id=1, release_id=release.id, kind=DistributionKind.RELEASE,
                                 status=DistributionStatus.DONE, list_names=["media"],
                                 send_at=now_utc(), created_at=now_utc()))
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO deliveries (distribution_id, contact_id, email, trusted, status, "
            "attempts) VALUES (1, 1, 'Reporter@News.example.com', false, 'sent', 1), "
            "(1, 2, 'reporter@news.example.com', false, 'sent', 1)")
    upgrade(store.engine)
    with store.engine.connect() as conn:
        contacts = conn.execute(text("SELECT id, email FROM contacts ORDER BY id")).all()
        subscriptions = conn.execute(text(
            "SELECT contact_id, list_id, status FROM subscriptions ORDER BY 1, 2")).all()
        deliveries = conn.execute(text(
            "SELECT contact_id, release_id, copy FROM deliveries ORDER BY id")).all()
        suppressed = conn.execute(text("SELECT email FROM suppressions")).scalars().all()
    assert contacts == [(1, "Reporter@News.example.com"), (3, "other@example.org")]
    assert subscriptions == [(1, 1, "unsubscribed"), (1, 2, "subscribed"),
                             (3, 1, "subscribed")]
    # Both copies went out in one distribution: the second stays on the old id.
    assert deliveries == [(1, release.id, 1), (2, release.id, 1)]
    assert suppressed == ["reporter@news.example.com"]
    with pytest.raises(Exception, match="(?i)unique"), store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO contacts (email, created_at) VALUES "
                             "('REPORTER@news.example.com', '2026-02-01')")


def test_addresses_stored_with_a_unicode_domain_are_rewritten_as_idna(store):
    from sqlalchemy import select

    from distribution.store.models import Contact, Suppression

    command.downgrade(_alembic_config(store.engine), "0006")
    with store.engine.begin() as conn:
        conn.execute(Contact.__table__.insert(), [
            {"email": "user@exämple.org"}, {"email": "redaktion@bücher.de"},
            {"email": "redaktion@xn--bcher-kva.de"}, {"email": "plain@example.org"}])
        conn.execute(Suppression.__table__.insert(), [
            {"email": "gone@exämple.org", "reason": "550"}])
    upgrade(store.engine)
    with store.Session() as session:
        assert set(session.scalars(select(Contact.email))) == {
            "user@xn--exmple-cua.org", "redaktion@bücher.de", "redaktion@xn--bcher-kva.de",
            "plain@example.org"}  # the one already stored in IDNA keeps its place
        assert list(session.scalars(select(Suppression.email))) == ["gone@xn--exmple-cua.org"]


def test_versions_move_to_their_family_and_sent_copies_learn_their_text(store):
    """Before 0014 a version added after a correction named the correction, and copies did
    not record which version they carried. Versions now name the family's first release (a
    second Arabic one becomes a correction of the first); copies of each send are given the
    version their contact's language picked."""
    from sqlalchemy import text

    from distribution.store.models import Contact

    with store.Session() as session, session.begin():
        original = make_release(session)
        corrected = make_release(session, headline="Corrected", corrects_id=original.id)
        arabic = make_release(session, headline="ar", version_of_id=original.id)
        arabic_later = make_release(session, headline="ar 2", version_of_id=corrected.id)
        french = make_release(session, headline="fr", version_of_id=corrected.id)
        arabic.language = arabic_later.language = "ar"
        french.language = "fr"
        for release in (original, corrected):
            session.add(Distribution(release_id=release.id, kind=DistributionKind.RELEASE,
                                     status=DistributionStatus.DONE, list_names=["media"],
                                     send_at=now_utc(), created_at=now_utc()))
        for address, language in (("a@x.org", "ar"), ("b@x.org", "fr-CA"), ("c@x.org", "en"),
                                  ("d@x.org", "ar-SY"), ("e@x.org", None)):
            session.add(Contact(email=address, language=language))
        session.flush()
        ids = {name: r.id for name, r in (("original", original), ("corrected", corrected),
                                           ("arabic", arabic), ("later", arabic_later),
                                           ("french", french))}
    command.downgrade(_alembic_config(store.engine), "0012")
    with store.engine.begin() as conn:
        first, second = conn.execute(text("SELECT id FROM distributions ORDER BY id")).scalars()
        contacts = dict(conn.execute(text("SELECT email, id FROM contacts")).all())
        rows = [(first, "a@x.org"), (first, "c@x.org"), (first, "d@x.org"),
                (second, "a@x.org"), (second, "b@x.org"), (second, "e@x.org")]
        for dist, address in rows:
            conn.execute(text(
                "INSERT INTO deliveries (distribution_id, contact_id, email, trusted, status, "
                "attempts, copy) VALUES (:d, :c, :e, false, 'sent', 1, 1)"),
                {"d": dist, "c": contacts[address], "e": address})
    upgrade(store.engine)
    with store.engine.connect() as conn:
        releases = {r.id: (r.version_of_id, r.corrects_id) for r in conn.execute(text(
            "SELECT id, version_of_id, corrects_id FROM releases"))}
        carried = {(r.distribution_id, r.email): r.version_id for r in conn.execute(text(
            "SELECT distribution_id, email, version_id FROM deliveries"))}
    assert releases[ids["arabic"]] == (ids["original"], None)
    assert releases[ids["later"]] == (ids["original"], ids["arabic"])
    assert releases[ids["french"]] == (ids["original"], None)
    assert releases[ids["corrected"]] == (None, ids["original"])
    assert carried == {(first, "a@x.org"): ids["arabic"], (first, "c@x.org"): None,
                       (first, "d@x.org"): ids["arabic"], (second, "a@x.org"): ids["later"],
                       (second, "b@x.org"): ids["french"], (second, "e@x.org"): None}
