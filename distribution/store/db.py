"""Engines, sessions, schema upgrades (Alembic) and bulk statements for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Executable,
    Integer,
    Select,
    String,
    Table,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    insert,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import Insert as PGInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker
from sqlalchemy.types import TypeEngine

from config.private import private_file, private_folder

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

    from distribution.store.models import Base


class StoreError(RuntimeError):
    """The database cannot be used as configured (unreachable, not initialised)."""


def normalise_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg 3, the driver the project installs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        # Made here, 0600, so SQLite gives its -wal and -shm files the same mode.
        try:
            private_folder(Path(database).parent)
            private_file(database)
        except OSError as exc:
            raise StoreError(f"cannot use the SQLite database {database}: "
                             f"{exc.strerror or exc}") from None
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # WAL lets the web app read while a worker writes; FKs are off by default in SQLite.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def _alembic_config(engine: Engine) -> AlembicConfig:
    # alembic is imported where it is used, not by every importer of this module.
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", "distribution.store:migrations")
    cfg.attributes["engine"] = engine
    return cfg


# The migration this code runs on (distribution/migrations/versions).
SCHEMA_REVISION = "0014"


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    try:
        command.upgrade(_alembic_config(engine), "head")
    except DBAPIError as exc:
        # A database changed by hand (an index dropped, a column added) can refuse a step.
        raise StoreError(f"upgrading the schema from {before or 'nothing'} to "
                         f"{SCHEMA_REVISION} failed: {first_line(exc.orig or exc)}") from None
    return before, head_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """The schema revision Alembic recorded; None for a database it never touched.

    Read from Alembic's version table directly: importing Alembic to ask would cost every
    command a tenth of a second.
    """
    with engine.connect() as conn:
        if not conn.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision(engine: Engine) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def check_schema(engine: Engine) -> None:
    """Refuse to run on a database that `pressroom init` has not brought up to date.

    tests/test_migrations.py keeps SCHEMA_REVISION equal to the newest migration.
    """
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means "cannot reach it"
        raise StoreError(f"cannot open the database: {first_line(exc)}") from None
    if current is None:
        raise StoreError("the database is not initialised; run `pressroom init`")
    if current != SCHEMA_REVISION:
        raise StoreError("the database schema is out of date; run `pressroom init`")


def database_now(session: Session) -> datetime:
    """The database's clock: every worker and beat agree on what is due."""
    if session.get_bind().dialect.name == "postgresql":
        value: datetime = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        return value.astimezone(UTC)
    # SQLite runs in-process: its clock is this machine's clock.
    return datetime.now(UTC)


def database_started(session: Session) -> datetime | None:
    """When the database server last started (PostgreSQL); None for SQLite, which runs in
    the process that uses it."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    value: datetime = session.execute(text("SELECT pg_postmaster_start_time()")).scalar_one()
    return value.astimezone(UTC)


# SQLSTATEs of a PostgreSQL server that is away rather than refusing a statement: class 08
# (connection exceptions) and 57P01-57P03 (shut down, crashed, starting up).
_AWAY = ("08", "57P01", "57P02", "57P03")


def database_unreachable(exc: BaseException) -> bool:
    """Whether an error says the database cannot be reached for now (a restart, a failover,
    the network), which waiting mends, rather than a statement it refused (a full disk, a
    constraint), which waiting does not."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if not isinstance(exc, OperationalError | InterfaceError) or orig is None:
        return False
    if not type(orig).__module__.startswith("psycopg"):
        return False  # SQLite is a file in this process: never away, only refusing
    # No SQLSTATE: the driver's own report of a refused or broken connection.
    state: str | None = getattr(orig, "sqlstate", None)
    return state is None or state.startswith(_AWAY)


def json_rows(session: Session, columns: dict[str, TypeEngine[Any]],
              rows: Sequence[Sequence[object]]) -> Select[*tuple[Any, ...]]:
    """A SELECT over Python rows, sent as one JSON parameter (SQLite and PostgreSQL).

    Bulk statements become INSERT ... SELECT FROM this: one short statement per chunk. With
    executemany, PostgreSQL ran a statement per row (3-5 s per 100,000 contacts here), and
    multi-row VALUES made psycopg re-parse a huge statement per chunk. Values are JSON
    scalars (str, int, None).
    """
    doc = bindparam(None, json.dumps(rows, ensure_ascii=False), type_=String())
    if session.get_bind().dialect.name == "postgresql":
        # jsonb, not json: ->> on json re-parses the element's text for every column.
        elements = func.jsonb_array_elements(cast(doc, JSONB)).table_valued("value")
        fields: list[ColumnElement[Any]] = [
            elements.c.value.op("->>")(literal(i)) for i in range(len(columns))]
    else:
        elements = func.json_each(doc).table_valued("value")
        fields = [func.json_extract(elements.c.value, f"$[{i}]") for i in range(len(columns))]
    selected = [cast(field, kind).label(name)
                for field, (name, kind) in zip(fields, columns.items(), strict=True)]
    # SQLite needs a WHERE before an upsert's ON CONFLICT to parse INSERT ... SELECT.
    return select(*selected).select_from(elements).where(true())


def one_of(session: Session, column: ColumnElement[Any] | QueryableAttribute[Any],
           ids: Sequence[int] | Sequence[str], kind: TypeEngine[Any] | None = None,
           ) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `= ANY(array)`, one parameter, whose statement
    SQLAlchemy and psycopg do not render and parse again for every id (500 ids: a third
    of the client's time for the query). `kind`: of the values, when not integers."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(pg_array(ids, kind))
    return column.in_(ids)


def pg_array(values: Sequence[int] | Sequence[str],
             kind: TypeEngine[Any] | None = None) -> ColumnElement[Any]:
    """The values as a PostgreSQL array, sent as one text that the server splits: psycopg
    quotes a list element by element, 3 ms of CPU for a batch's 1,000 addresses against
    0.15 as one text. Values the text cannot carry (a line end, an empty string, a number
    that is not an int) go as a list."""
    if kind is None or type(kind) is Integer:  # not BigInteger: the text is cast to integer[]
        ints = [value for value in values if type(value) is int]
        if len(ints) == len(values):
            return cast(bindparam(None, int_array(ints), String()), ARRAY(Integer()))
    else:
        texts = [value for value in values if type(value) is str and value and "\n" not in value]
        if len(texts) == len(values):
            return func.string_to_array(bindparam(None, "\n".join(texts), String()), "\n")
    return bindparam(None, list(values), type_=ARRAY(kind or Integer()))


def int_array(ids: Sequence[int]) -> str:
    """PostgreSQL's text form of an integer array: '{1,2,3}'."""
    return "{" + ",".join(map(str, ids)) + "}"


def id_array(name: str) -> ColumnElement[Any]:
    """`= ANY(...)` of a named parameter given as `int_array(ids)`, for a statement built
    once: SQLAlchemy works out a statement's cache key again for every new statement
    object (0.4 ms of CPU for a group's UPDATE)."""
    return any_(cast(bindparam(name, type_=String()), ARRAY(Integer())))


def rows_written(session: Session, statement: Executable) -> int:
    """How many rows an INSERT, UPDATE or DELETE wrote.

    The rowcount of an INSERT is kept only on request (SQLAlchemy 2.1; -1 otherwise), and
    SQLAlchemy types the result of any statement as a plain Result, which has none.
    """
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    if not isinstance(result, CursorResult):
        raise TypeError("rows_written takes an INSERT, UPDATE or DELETE statement")
    return result.rowcount


def by_primary_key(session: Session) -> None:
    """For the rest of the transaction, on PostgreSQL: no sequential scans.

    For writes that name their rows by id. Up to some 15,000 rows, a table that has not been
    analysed since its delivery rows went in looks small enough to read whole, and the
    planner read it whole for every group of a send, dead row versions and all: 15 to 40 ms
    a group at 10,000 recipients. Statistics lag behind a table that grows with every write.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")


# Rows written by one command past which PostgreSQL's planner is told at once: autovacuum
# analyses a table up to a minute later, and a send in that minute planned its audience
# against contacts it took for empty (nested loops and a sort spilled to disk: a third
# slower at 100,000 recipients).
ANALYZE_AFTER_ROWS = 1_000


def refresh_statistics(session: Session, rows: int, *models: type[Base]) -> None:
    """ANALYZE these tables after a write of `rows` rows, in the writing transaction (it
    counts its own rows); nothing on SQLite or below ANALYZE_AFTER_ROWS."""
    if rows < ANALYZE_AFTER_ROWS or session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        session.connection().exec_driver_sql(f"ANALYZE {table_of(model).name}")


def table_of(model: type[Base]) -> Table:
    """The mapped class's table (SQLAlchemy types __table__ as any FROM clause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def insert_from(session: Session, model: type[Base], columns: Sequence[str],
                source: Select[*tuple[Any, ...]], *, skip_existing: bool = False) -> int:
    """Rows made by the database from a SELECT (INSERT ... SELECT, one statement); returns
    how many. skip_existing leaves out rows whose key is taken (ON CONFLICT DO NOTHING),
    a speculative insertion per row: only where other transactions may have made them."""
    table = table_of(model)
    if skip_existing:
        stmt = dialect_insert(session, table).from_select(columns, source)
        return rows_written(session, stmt.on_conflict_do_nothing())
    return rows_written(session, insert(table).from_select(columns, source))


def dialect_insert(session: Session, table: Table) -> SQLiteInsert | PGInsert:
    """INSERT with ON CONFLICT for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def first_line(exc: BaseException) -> str:
    """The error's first line: SQLAlchemy's messages go on with the statement and its
    parameters, which belong in no log line or terminal."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
