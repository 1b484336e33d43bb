"""The schema: Alembic migrations match the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from distribution.db import check_schema, current_revision, head_revision, make_engine, upgrade
from distribution.models import Base


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
