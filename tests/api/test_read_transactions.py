"""A request that only read ends its transaction with COMMIT, so PostgreSQL keeps the statements psycopg
prepared on the connection (a ROLLBACK deallocates them); anything that wrote still rolls back."""
import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import Department
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope


@pytest.fixture
def one_connection(app):
    """A pool emptied first, so requests made one after another all run on the same new connection;
    yields the DBAPI connections the requests checked out."""
    with app.app_context():
        engine = db.engine
    engine.dispose()
    used = []
    listener = lambda dbapi_connection, record, proxy: used.append(dbapi_connection)  # noqa: E731
    event.listen(engine, "checkout", listener)
    yield used
    event.remove(engine, "checkout", listener)


def prepared_on(connection) -> int:
    """Statements prepared on that connection (the view shows its own session's); COMMIT keeps them."""
    count = connection.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
    connection.commit()
    return count


def test_a_connection_keeps_what_it_prepared_across_read_only_requests(app, api, one_connection, monkeypatch):
    monkeypatch.setitem(app.config, "DIRECTORY_CACHE_SECONDS", 0)  # every read runs its statements
    with app.app_context():
        doctor_id = clinic.doctor(clinic.department("Heart"), "Cardiology").id
        db.session.remove()
    one_connection.clear()
    for _ in range(8):  # psycopg prepares a statement on its fifth run on a connection
        assert envelope(api.get(f"/doctors/{doctor_id}"))["data"]["id"] == doctor_id
    (connection,) = set(one_connection)
    assert prepared_on(connection) >= 2  # the doctor with the department, the slots


def test_a_context_that_wrote_without_committing_persists_nothing(app):
    with app.app_context():
        db.session.execute(db.insert(Department).values(name="Flushed", description=""))
        db.session.add(Department(name="Pending", description=""))
    with app.app_context():
        assert db.session.scalars(db.select(Department.name)).all() == []
        db.session.remove()


def test_a_context_that_failed_after_reading_rolls_back(app):
    """An error ends the transaction as before, and the session is left clean for the next request."""
    with pytest.raises(LookupError), app.app_context():
        db.session.scalars(db.select(Department)).all()
        db.session.add(Department(name="Unsaved", description=""))
        db.session.flush()
        raise LookupError
    with app.app_context():
        assert db.session.scalars(db.select(Department.name)).all() == []
        db.session.remove()
