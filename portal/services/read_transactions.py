"""A request whose transaction only read ends it with COMMIT, so the connection keeps its prepared statements.

psycopg prepares a statement on the server once a connection has run it five times (prepare_threshold),
and PostgreSQL then parses and plans it once per connection instead of on every request. But a ROLLBACK
makes psycopg deallocate every statement it prepared (it cannot tell whether a PREPARE went with the
transaction), and a request's session ends with a ROLLBACK whenever nothing committed it: on connections
that serve every kind of request, statements were parsed and planned afresh nearly every time
(docs/performance.md, "Fourth round"). A transaction that only ran SELECTs ends the same whichever way it
ends, so it ends with COMMIT. One that wrote anything, holds unflushed changes, or ends in an error still
rolls back, exactly as before.

A request whose database work is one statement needs no transaction around it at all (autocommitted).
"""
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from portal.extensions import db
from portal.services.persistence import commit_keeping_loaded, on_postgresql

WROTE = "portal.transaction_wrote"
CONNECTED = "portal.transaction_connected"  # Session.info: its transaction has a connection (has run a statement)


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


@contextmanager
def autocommitted() -> Iterator[None]:
    """Run the block's statements each as its own transaction (PostgreSQL's autocommit), then end the session's
    transaction: no BEGIN and no COMMIT, two round trips of a one-statement request's four.

    For the last database work of a request that reads, or writes in one statement what goes with nothing else
    (a page's audit rows, written by the page's own statement): under READ COMMITTED every statement takes its
    own snapshot anyway, so such a block sees and does what it did in a transaction. Work that must write
    atomically or keep a lock to its end (a booking) does not belong here. When the request already ran a
    statement or has changes to flush, and on SQLite (the laptop), the block runs in the session's transaction,
    which it commits. What was loaded stays loaded; on an error the transaction is rolled back and the error
    goes on.
    """
    session = db.session()
    if (not session.info.get(CONNECTED) and on_postgresql()
            and not (session.new or session.dirty or session.deleted)):  # changes to flush belong in a transaction
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    commit_keeping_loaded()


@event.listens_for(Session, "after_begin")
def _connected(session: Session, _transaction: SessionTransaction, _connection: Connection) -> None:
    session.info[CONNECTED] = True


@event.listens_for(Session, "after_transaction_end")
def _released(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(CONNECTED, None)


def init_app(app: Flask, engine: Engine) -> None:
    """PostgreSQL only (SQLite prepares nothing across transactions). The teardown runs before
    Flask-SQLAlchemy's, which closes the session: teardowns run in the reverse order of registration."""
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "before_cursor_execute", _note_statement)
    event.listen(engine, "begin", _forget)
    app.teardown_appcontext(_end_reads)
