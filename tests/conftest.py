"""Fixtures shared by every test: a real PostgreSQL database and Redis, an app, clients and factories.

The suite creates its own database (TEST_DATABASE_URL), migrates it once with the project's Alembic
chain, and empties every table and the Redis test database before each test.
"""
import os

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestConfig
from tests.fixtures.clock import clock  # noqa: F401 (fixture)
from tests.fixtures.factories import Factories
from tests.fixtures.mailbox import Mailbox

HOW_TO_START_POSTGRES = ("Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "
                         "(or point TEST_DATABASE_URL at a reachable server).")
HOW_TO_START_REDIS = ('Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" '
                      "--appendonly no (or point TEST_REDIS_URL at a reachable server).")


def _recreate_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as error:  # any connection failure: say how to fix it, do not skip
        pytest.exit(f"PostgreSQL at {target.render_as_string()} is not reachable ({error}). {HOW_TO_START_POSTGRES}",
                    returncode=3)
    finally:
        admin.dispose()


def _check_redis(url: str) -> None:
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # any failure to reach Redis: say how to fix it
        pytest.exit(f"Redis at {url} is not reachable ({error}). {HOW_TO_START_REDIS}", returncode=3)


@pytest.fixture(scope="session")
def app():
    os.environ.setdefault("PORTAL_ENV", "test")
    _recreate_database(TestConfig.SQLALCHEMY_DATABASE_URI)
    _check_redis(TestConfig.REDIS_URL)
    from flask_migrate import upgrade

    from portal import create_app

    application = create_app("test")
    with application.app_context():
        upgrade()
    return application


TABLES = None


@pytest.fixture(autouse=True)
def _clean_state(request, app):
    """Every test starts with empty tables and an empty Redis test database."""
    from portal.extensions import db

    global TABLES
    with app.app_context():
        if TABLES is None:
            TABLES = [t.name for t in db.metadata.sorted_tables]
        db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        db.session.commit()
        app.extensions["redis"].flushdb()
    yield


@pytest.fixture
def ctx(app):
    """An app context for service tests, with the session cleaned up afterwards."""
    from portal.extensions import db

    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factories(app):
    return Factories(app)


@pytest.fixture
def mailbox(app):
    """A real SMTP server (aiosmtpd) on a free port; the app sends its mail there during the test."""
    box = Mailbox()
    box.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER=box.host, MAIL_PORT=box.port)
    yield box
    app.config.update(saved)
    box.stop()
