"""psycopg keeps the placeholder conversion of the app's long statements (extensions.cache_long_statements).

The lists written as JSON by PostgreSQL are statements of several KiB; above psycopg's own limit (4 KiB)
each execution split the text again in Python. The cache is psycopg's lru_cache, so its hits tell."""
import secrets

import pytest
from psycopg import _queries
from sqlalchemy import text

from portal.extensions import LONGEST_CACHED_STATEMENT, db


def _converted_again(statement) -> bool:
    """Whether a second execution of `statement` converted its placeholders again (no cache hit)."""
    if db.engine.dialect.name != "postgresql":
        pytest.fail("psycopg's conversion is PostgreSQL's: run against PostgreSQL (TEST_DATABASE_URL)")
    db.session.execute(statement, {"value": 1})
    hits = _queries._query2pg.cache_info().hits
    db.session.execute(statement, {"value": 2})
    return _queries._query2pg.cache_info().hits == hits


def test_a_statement_longer_than_psycopgs_own_limit_is_converted_once(ctx):
    long = text(f"SELECT :value AS value -- {secrets.token_hex(8)} {'x' * 7000}")  # a dashboard's is 7 KiB
    assert not _converted_again(long)


def test_a_statement_longer_than_the_apps_limit_is_converted_each_time(ctx):
    """The bound on what a process keeps: longer texts are as psycopg leaves them."""
    longest = text(f"SELECT :value AS value -- {secrets.token_hex(8)} {'x' * LONGEST_CACHED_STATEMENT}")
    assert _converted_again(longest)
