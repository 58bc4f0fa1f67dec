"""A request whose transaction only read ends it with COMMIT, so the connection keeps its prepared statements.

psycopg prepares a statement on the server once a connection has run it five times (prepare_threshold),
and PostgreSQL then parses and plans it once per connection instead of on every request. But a ROLLBACK
makes psycopg deallocate every statement it prepared (it cannot tell whether a PREPARE went with the
transaction), and a request's session ends with a ROLLBACK whenever nothing committed it: on connections
that serve every kind of request, statements were parsed and planned afresh nearly every time
(docs/performance.md, "Fourth round"). A transaction that only ran SELECTs ends the same whichever way it
ends, so it ends with COMMIT. One that wrote anything, holds unflushed changes, or ends in an error still
rolls back, exactly as before.
"""
import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.services.persistence import commit_keeping_loaded

WROTE = "portal.transaction_wrote"


def _note_statement(conn: Connection, cursor, statement: str, parameters, context, executemany) -> None:
    """Anything but a plain SELECT (DML, a CTE that may hold one, a SAVEPOINT) counts as a write."""
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[WROTE] = True


def _forget(conn: Connection) -> None:
    conn.info.pop(WROTE, None)


def _end_reads(error: BaseException | None) -> None:
    """Commit what only read; the rows stay loaded, as the close that follows would leave them."""
    session = db.session()
    if error is not None or not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    if session.connection().info.get(WROTE):
        return
    try:
        commit_keeping_loaded()
    except SQLAlchemyError:  # the connection died after the answer was made; the close that follows discards it
        logging.getLogger(__name__).warning("could not end a read-only transaction", exc_info=True)


def init_app(app: Flask, engine: Engine) -> None:
    """PostgreSQL only (SQLite prepares nothing across transactions). The teardown runs before
    Flask-SQLAlchemy's, which closes the session: teardowns run in the reverse order of registration."""
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "before_cursor_execute", _note_statement)
    event.listen(engine, "begin", _forget)
    app.teardown_appcontext(_end_reads)
