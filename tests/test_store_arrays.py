"""Lists of ids and addresses reach PostgreSQL as one text it splits (store.db.pg_array):
the same array as psycopg's own list parameter, whatever the values."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import ARRAY, Integer, String, bindparam, func, select

from distribution.store.db import pg_array

# PostgreSQL text holds no NUL; anything else a value may hold, a line end included (those
# go as a list).
TEXTS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                max_size=40)
INTS = st.integers(min_value=-2**31, max_value=2**31 - 1)
CHECKS = settings(max_examples=150, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])


def _array(connection, values):  # type: ignore[no-untyped-def]
    """The array as one text (its elements apart by a unit separator) and its length."""
    return connection.execute(select(func.array_to_string(
        values, "\x1f", "<null>"), func.cardinality(values))).one()


@pytest.fixture
def connection(pg_store):  # type: ignore[no-untyped-def]
    with pg_store.engine.connect() as connection:
        yield connection


@CHECKS
@given(values=st.lists(TEXTS, max_size=30))
def test_addresses_arrive_as_the_list_parameter_would_bring_them(connection, values):
    ours = _array(connection, pg_array(values, String()))
    theirs = _array(connection, bindparam(None, values, ARRAY(String())))
    assert ours == theirs
    found = connection.execute(select(func.unnest(pg_array(values, String())))).scalars()
    assert list(found) == values


@CHECKS
@given(values=st.lists(INTS, max_size=60))
def test_ids_arrive_as_the_list_parameter_would_bring_them(connection, values):
    ours = _array(connection, pg_array(values))
    theirs = _array(connection, bindparam(None, values, ARRAY(Integer())))
    assert ours == theirs
    found = connection.execute(select(func.unnest(pg_array(values)))).scalars()
    assert list(found) == values


def test_values_the_text_cannot_carry_go_as_a_list(connection):
    for values in (["a\nb", "c"], [""], ["x", ""]):
        found = connection.execute(select(func.unnest(pg_array(values, String())))).scalars()
        assert list(found) == values
