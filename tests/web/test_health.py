"""GET /healthz as a load balancer and an operator see it: 200 while PostgreSQL and Redis answer, else 503
and a body that names what is down. "Down" is a real server that is not there: a closed loopback port."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from portal import create_app

CLOSED_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nothing_listens_here"
CLOSED_REDIS = "redis://127.0.0.1:1/0"
PRODUCTION = {"mode": "production", "engine": "postgresql", "stores": "redis"}


def health(application) -> tuple[int, str, dict]:
    response = application.test_client().get("/healthz")
    return response.status_code, response.mimetype, response.get_json()


@pytest.fixture
def app_with(app):
    """`app_with(database=..., redis=...)`: the app with the suite's settings but for these two."""
    made = []

    def build(database: str | None = None, redis: str | None = None):
        other = create_app("test", SQLALCHEMY_DATABASE_URI=database or app.config["SQLALCHEMY_DATABASE_URI"],
                           REDIS_URL=app.config["REDIS_URL"] if redis is None else redis)
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            from portal.extensions import db

            db.engine.dispose()


def test_both_up_is_200_ok(app):
    assert health(app) == (200, "application/json", {"status": "ok", "database": "ok", "redis": "ok", **PRODUCTION})


def test_the_database_down_is_503(app_with):
    assert health(app_with(database=CLOSED_DATABASE)) == (
        503, "application/json", {"status": "down", "database": "down", "redis": "ok", **PRODUCTION})


def test_redis_down_is_503(app_with):
    assert health(app_with(redis=CLOSED_REDIS)) == (
        503, "application/json", {"status": "down", "database": "ok", "redis": "down", **PRODUCTION})


def test_both_down_is_503_naming_both(app_with):
    assert health(app_with(database=CLOSED_DATABASE, redis=CLOSED_REDIS)) == (
        503, "application/json", {"status": "down", "database": "down", "redis": "down", **PRODUCTION})


def test_without_redis_configured_the_in_process_stores_are_healthy(app_with):
    assert health(app_with(redis="")) == (
        200, "application/json", {"status": "ok", "database": "ok", "redis": "not configured",
                                        "mode": "laptop", "engine": "postgresql", "stores": "in-process"})


def test_sqlite_without_redis_says_it_is_the_laptop_mode(app_with, tmp_path):
    assert health(app_with(database=f"sqlite:///{tmp_path / 'laptop.db'}", redis="")) == (
        200, "application/json", {"status": "ok", "database": "ok", "redis": "not configured",
                                  "mode": "laptop", "engine": "sqlite", "stores": "in-process"})


def test_after_the_database_drops_every_connection_the_next_check_is_ok(app):
    """A database restart closes the app's pooled connections; health must not report the stale ones."""
    assert health(app)[0] == 200
    outside = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    with outside.connect() as connection:
        dropped = connection.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                         "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    assert dropped >= 1
    assert health(app) == (200, "application/json", {"status": "ok", "database": "ok", "redis": "ok", **PRODUCTION})
