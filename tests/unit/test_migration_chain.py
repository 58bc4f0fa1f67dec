"""The whole Alembic chain, up and down and up again, on both databases the portal runs on.

`make run` migrates a SQLite file and production a PostgreSQL database; a migration that only works on
one of them (an ALTER that SQLite cannot do outside batch mode, a PostgreSQL-only type or constraint
without its guard) breaks the other. Each database is a fresh one of this test's own.
"""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from config import TestConfig
from portal import create_app
from portal.extensions import db
from tests.fixtures.backing_services import recreate_database


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _database(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'chain.db'}"
    url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    url = url.set(database=f"{url.database}_chain").render_as_string(hide_password=False)
    recreate_database(url)
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_chain_upgrades_downgrades_and_upgrades_again(kind, tmp_path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=_database(kind, tmp_path), REDIS_URL="")
    with application.app_context():
        upgrade()
        assert _tables() == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables() == set()
        upgrade()
        assert _tables() == set(db.metadata.tables)
        db.session.remove()
        db.engine.dispose()
