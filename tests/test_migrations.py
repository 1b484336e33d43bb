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
from distribution.store.models import Base


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
