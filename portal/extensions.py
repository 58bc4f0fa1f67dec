"""The extension singletons, created unbound and attached to an app in create_app()."""
import threading
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, has_request_context
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from limits.storage import Storage, storage_from_string
from redis import Redis
from sqlalchemy import Engine, event

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
api = Api()


class KeyValueStores:
    """Redis when REDIS_URL is set; otherwise None, and callers use in-process fallbacks.

    Rate-limit storage follows the same rule so that every app process shares one count.
    """

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) if url else None
        limit_uri = app.config.get("RATELIMIT_STORAGE_URI") or url or "memory://"
        app.extensions["redis"] = client
        app.extensions["limits_storage"] = storage_from_string(limit_uri)

    @property
    def redis(self) -> Redis | None:
        return current_app.extensions["redis"]

    @property
    def limits_storage(self) -> Storage:
        return current_app.extensions["limits_storage"]


stores = KeyValueStores()
T = TypeVar("T")
_per_app_lock = threading.RLock()  # re-entrant: making one store may ask for another


def per_app(name: str, make: Callable[[], T]) -> T:
    """The app's one `name` (a store kept between requests), made by `make` on first use; threads that race
    to make it all get the same one."""
    extensions = current_app.extensions
    if name not in extensions:
        with _per_app_lock:
            if name not in extensions:
                extensions[name] = make()
    return extensions[name]

SQLITE_BUSY_TIMEOUT_MS = 30_000
_writers = threading.local()


def runs_as_writer() -> None:
    """Mark this thread (the laptop's job runner) as one whose SQLite transactions begin IMMEDIATE."""
    _writers.immediate = True


def utc_sessions(engine: Engine) -> None:
    """On PostgreSQL every connection's session runs in UTC (a startup option: no statement, no round trip),
    so psycopg hands timestamptz values over in datetime.UTC and UTCDateTime has nothing to convert (a slot
    list reads two instants a row). A connection without it (a pooler that drops startup options) gets the
    server's zone, and its values are converted as before."""
    _startup_option(engine, "-c TimeZone=UTC")


def generic_plans(engine: Engine) -> None:
    """On PostgreSQL every prepared statement is planned once per connection, as a generic plan (a startup
    option, as utc_sessions'). Under the default (`auto`) PostgreSQL plans a statement afresh on every execution
    while it judges the generic plan dearer than the custom ones it made: the speciality window was planned on
    every request, 0.5 ms of its 1.0 ms of database CPU, for the same walk the generic plan takes
    (docs/performance.md, "Twenty-first round"). The app's statements are built once with bind parameters; where
    a plan needs a value to be chosen (a partial index's condition) the value is written into the SQL as a
    constant (persistence.constant), which a generic plan uses as a custom one does."""
    _startup_option(engine, "-c plan_cache_mode=force_generic_plan")


def _startup_option(engine: Engine, option: str) -> None:
    """Start every new connection of a PostgreSQL engine with `option` (libpq's options): no statement, no round
    trip."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "do_connect")
    def _add(_dialect, _record, _cargs, cparams) -> None:
        cparams["options"] = f"{cparams.get('options', '')} {option}".strip()


# psycopg turns a statement's %(name)s placeholders into PostgreSQL's $n once per distinct text (an LRU of 128
# texts), but only for texts of at most 4 KiB, against ORMs' endless one-off multi-row INSERTs. The app's
# statements are few and built once; the lists written as JSON by PostgreSQL are 7 KiB (a patient's
# dashboard), so each execution split its text again in Python: a twentieth of a timeline's time under load.
# 64 KiB bounds the cache at a few MB a process; statements with more than 50 values stay uncached.
LONGEST_CACHED_STATEMENT = 64 * 1024


def cache_long_statements(engine: Engine) -> None:
    """Let psycopg keep the conversion of the app's long statements too (LONGEST_CACHED_STATEMENT). The limit is
    a module constant of psycopg's, read at each execution, not an API: a psycopg without it runs as it is
    (slower, never wrong), and tests/unit/test_long_statements.py fails."""
    if engine.dialect.name != "postgresql":
        return
    try:
        from psycopg import _queries
    except ImportError:
        return
    if isinstance(getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", None), int):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, LONGEST_CACHED_STATEMENT)


def serialise_sqlite_writers(engine: Engine) -> None:
    """On SQLite, a request's transaction begins IMMEDIATE: one writer at a time, decided at its start.

    PostgreSQL settles races with row locks (FOR UPDATE) and exclusion constraints, which SQLite has
    not. pysqlite's own deferred BEGIN lets two threads read the same state and then both try to
    write (one fails with "database is locked", or both act on a stale read). Taking the write lock
    at BEGIN makes each request's check-then-write run alone, as the "pysqlite serializable" recipe
    of SQLAlchemy's documentation does; busy_timeout makes the others queue instead of failing.
    The laptop's job runner thread asks for the same (runs_as_writer).
    Outside a request (the CLI, a test preparing rows) nothing races in the process, and a deferred
    BEGIN keeps a reader left open there from locking the server's writers out: with WAL a reader
    never blocks a writer.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = has_request_context() or getattr(_writers, "immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
