"""Check that the services the test suite needs are up, before pytest starts (`make check-services`).

Why: a test run against a stopped PostgreSQL or Redis fails in hundreds of confusing ways; this says
once, plainly, which service is down and the command that starts it. It reads the same settings as
the tests (TEST_DATABASE_URL, TEST_REDIS_URL, same defaults as config.TestConfig), talks to the
PostgreSQL server through its `postgres` maintenance database (the test database need not exist:
the test suite drops and recreates it).
Exit status 0 when everything answers, 1 otherwise.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/clinic_portal_test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/14"
TIMEOUT_SECONDS = 3

REDIS_START = 'redis-server --daemonize yes --bind 127.0.0.1 --port {port} --save "" --appendonly no'


def _postgres_start_hint() -> str:
    """The start command, with the installed cluster version filled in when it can be found."""
    generic = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    conf = Path("/etc/postgresql")
    versions = sorted(p.name for p in conf.iterdir()) if conf.is_dir() else []
    if len(versions) == 1:
        return f"pg_ctlcluster --skip-systemctl-redirect {versions[0]} main start"
    return generic


def check_postgres(url_text: str) -> list[str]:
    """Connect to the server of url_text; return a list of problems (empty when fine)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(url_text)
    if not url.drivername.startswith("postgresql"):
        print(f"postgresql: skipped, TEST_DATABASE_URL is not PostgreSQL ({url.drivername})")
        return []
    where = f"{url.host or 'local socket'}:{url.port or 5432}"
    test_db = url.database or "postgres"
    maintenance = url.set(drivername="postgresql", database="postgres")
    conninfo = maintenance.render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=TIMEOUT_SECONDS, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (test_db,)
            ).fetchone()
            state = "exists" if exists else "absent, the tests create it"
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "authentication" in reason or "role" in reason or "password" in reason:
            return [f"PostgreSQL at {where} refuses user {url.username!r} ({reason});\n    set "
                    "TEST_DATABASE_URL to a user that may log in and create databases"]
        return [f"PostgreSQL at {where} is not reachable ({reason});\n    start it with:\n"
                f"      {_postgres_start_hint()}"]
    except psycopg.Error as exc:
        return [f"PostgreSQL at {where} answered, but the check query failed: {exc}"]
    print(f"postgresql: ok ({where}, server {version}; test database {test_db!r} {state})")
    return []


def check_redis(url_text: str) -> list[str]:
    """Ping the Redis of url_text; return a list of problems (empty when fine)."""
    import redis

    client = redis.Redis.from_url(
        url_text, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    kwargs = client.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        return [f"Redis at {where} refuses the credentials in TEST_REDIS_URL ({exc})"]
    except redis.RedisError as exc:
        start = REDIS_START.format(port=kwargs.get("port", 6379))
        return [f"Redis at {where} is not reachable ({exc});\n    start it with:\n      {start}"]
    finally:
        client.close()
    print(f"redis: ok ({where}, db {kwargs.get('db', 0)})")
    return []


def main() -> int:
    database_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    redis_url = os.environ.get("TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL
    problems = check_postgres(database_url) + check_redis(redis_url)
    for problem in problems:
        print(f"check-services: {problem}", file=sys.stderr)
    if problems:
        print("check-services: the tests need PostgreSQL and Redis; start them and run again.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
