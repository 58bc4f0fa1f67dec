"""Fixtures shared by every test: a real PostgreSQL database and Redis, an app, clients and factories.

The suite creates its own database (TEST_DATABASE_URL), migrates it once with the project's Alembic
chain, and empties every table and the Redis test database before each test. Under pytest-xdist each
worker does so with a database and a Redis db of its own (tests/fixtures/workers.py). Tests marked
`laptop` run a second time against SQLite and the in-process stores (tests/fixtures/laptop.py).
"""
import os

import pytest

from config import TestConfig
from tests.fixtures.backing_services import Emptier, check_redis, postgres_problem, recreate_database, redis_problem
from tests.fixtures.booking_rules import rules_on  # noqa: F401 (fixture)
from tests.fixtures.clock import clock  # noqa: F401 (fixture)
from tests.fixtures.factories import Factories
from tests.fixtures.gunicorn_server import gunicorn_servers  # noqa: F401 (fixture)
from tests.fixtures.laptop import LAPTOP, MARKERS, MODES, PRODUCTION, forget_in_process_state, laptop_app, runs_in_both
from tests.fixtures.mailbox import Mailbox
from tests.fixtures.workers import isolate_worker, redis_url_for, xdist_worker


def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    isolate_worker()


def pytest_generate_tests(metafunc):
    """A `laptop` test gets the app of each mode; pytest groups the tests by mode, so each app is set up
    rarely, and the apps are kept (below) so a switch back costs nothing."""
    if runs_in_both(metafunc.definition) and "app" in metafunc.fixturenames:
        metafunc.parametrize("app", MODES, indirect=True, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """`slow` tests first: started last, one of them would leave the other xdist worker idle at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_sessionstart(session):
    """Stop at once, saying how to start it, when PostgreSQL or a Redis db the run needs is not there;
    under xdist this runs in the controller before any worker starts (a worker stopping is a crash)."""
    if xdist_worker() is not None or session.config.getoption("collectonly"):
        return
    workers = session.config.getoption("numprocesses", default=None) or 0
    redis_urls = [redis_url_for(TestConfig.REDIS_URL, f"gw{n}") for n in range(workers)] or [TestConfig.REDIS_URL]
    problems = [postgres_problem(TestConfig.SQLALCHEMY_DATABASE_URI), *map(redis_problem, redis_urls)]
    if any(problems):
        pytest.exit("\n".join(problem for problem in problems if problem), returncode=3)


_apps: dict = {}  # mode -> its app, made once per session (or xdist worker)


def _production_app():
    recreate_database(TestConfig.SQLALCHEMY_DATABASE_URI)
    check_redis(TestConfig.REDIS_URL)
    from flask_migrate import upgrade

    from portal import create_app

    application = create_app("test")
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(scope="session")
def app(request, tmp_path_factory):
    os.environ.setdefault("PORTAL_ENV", "test")
    mode = getattr(request, "param", PRODUCTION)
    if mode not in _apps:
        _apps[mode] = laptop_app(tmp_path_factory.mktemp("laptop")) if mode == LAPTOP else _production_app()
    return _apps[mode]


@pytest.fixture(scope="session")
def _emptier(app):
    from portal.extensions import db

    return Emptier(db.metadata)


@pytest.fixture(autouse=True)
def _clean_state(app, _emptier):
    """Every test starts with empty tables and an empty Redis test database."""
    from portal.extensions import db

    with app.app_context():
        _emptier.empty(db.session)
        if app.extensions["redis"] is None:
            forget_in_process_state(app)
        else:
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


def run_jobs(app) -> int:
    """Run the app's due jobs here and now, as its worker would (tests run no worker of their own)."""
    from portal.services.jobs import outbox

    with app.app_context():
        return outbox.run_due()


@pytest.fixture
def mailbox(app):
    """A real SMTP server (aiosmtpd) on a free port; the app sends its mail there during the test."""
    box = Mailbox(drain=lambda: run_jobs(app))
    box.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER=box.host, MAIL_PORT=box.port)
    yield box
    app.config.update(saved)
    box.stop()
