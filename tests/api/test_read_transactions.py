"""A request that only read ends its transaction with COMMIT, so PostgreSQL keeps the statements psycopg
prepared on the connection (a ROLLBACK deallocates them); anything that wrote still rolls back. A request whose
database work is one statement sends it without BEGIN and COMMIT (autocommitted)."""
import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import Department, MedicalRecord
from portal.services import read_transactions
from tests.api.records_api import audit_rows
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


@pytest.fixture
def transaction_modes(app):
    """(first word of each statement, whether its connection was in autocommit) for the statements sent."""
    with app.app_context():
        engine = db.engine
    sent = []
    listener = lambda conn, cursor, statement, *_: sent.append((statement.split()[0].upper(),  # noqa: E731
                                                                 cursor.connection.autocommit))
    event.listen(engine, "before_cursor_execute", listener)
    yield sent
    event.remove(engine, "before_cursor_execute", listener)


def test_a_page_that_audits_itself_is_one_statement_without_begin_or_commit(app, api, alice, transaction_modes):
    """A patient's record timeline: its rows and its audit rows are one statement, which PostgreSQL commits by
    itself (read_transactions.autocommitted); the audit rows are there all the same."""
    with app.app_context():
        record = MedicalRecord(patient_id=alice.patient_id, diagnostics="Flu", recorded_at=clinic.soon(-24))
        db.session.add(record)
        db.session.commit()
        record_id = record.id
        db.session.remove()
    envelope(api.get("/me", token=alice.token))  # the caller is kept, so the page is the request's only statement
    transaction_modes.clear()
    answer = envelope(api.get(f"/patients/{alice.patient_id}/records", token=alice.token))
    assert [item["id"] for item in answer["data"]] == [record_id]
    assert transaction_modes == [("WITH", True)]
    assert audit_rows(app, action="read", object_type="medical_record") == [
        (alice.user_id, "read", "medical_record", record_id, alice.patient_id)]


def test_a_hold_reads_without_a_transaction_and_the_booking_after_it_on_the_same_connection_keeps_its_own(
        app, api, alice, one_connection, transaction_modes):
    """The connection goes back to the pool out of autocommit: the booking's locks and writes are one
    transaction again."""
    with app.app_context():
        slot_id = clinic.slot(clinic.doctor(clinic.department("Heart"), "Cardiology").id, clinic.soon(48)).id
        db.session.remove()
    envelope(api.get("/me", token=alice.token))
    transaction_modes.clear()
    hold_id = envelope(api.post("/holds", json={"slot_id": slot_id}, token=alice.token))["data"]["hold_id"]
    assert transaction_modes == [("SELECT", True)]
    transaction_modes.clear()
    booked = envelope(api.post("/appointments", json={"hold_id": hold_id}, token=alice.token))["data"]
    assert booked["slot_id"] == slot_id and booked["status"] == "scheduled"
    assert [kind for kind, _ in transaction_modes] == ["SELECT", "WITH"]  # the jobs are part of the WITH
    assert not any(autocommit for _, autocommit in transaction_modes)
    assert len(set(one_connection)) == 1


def test_after_a_statement_the_block_runs_in_that_transaction_and_commits_it(app, transaction_modes):
    with app.app_context():
        db.session.scalars(db.select(Department.id)).all()
        with read_transactions.autocommitted():
            db.session.execute(db.insert(Department).values(name="Within", description=""))
        assert not db.session().in_transaction()
        db.session.remove()
    with app.app_context():
        assert db.session.scalars(db.select(Department.name)).all() == ["Within"]
        db.session.remove()
    assert transaction_modes == [("SELECT", False), ("INSERT", False), ("SELECT", False)]


def test_an_error_in_the_block_ends_it_and_leaves_the_session_clean(app, transaction_modes):
    with app.app_context():
        with pytest.raises(LookupError), read_transactions.autocommitted():
            db.session.scalars(db.select(Department)).all()
            raise LookupError
        assert not db.session().in_transaction()
        db.session.execute(db.insert(Department).values(name="After", description=""))
        db.session.commit()
        db.session.remove()
    assert transaction_modes == [("SELECT", True), ("INSERT", False)]


def test_once_the_transaction_before_it_ended_the_block_runs_without_one_again(app, transaction_modes):
    with app.app_context():
        db.session.scalars(db.select(Department.id)).all()
        db.session.commit()
        with read_transactions.autocommitted():
            db.session.scalars(db.select(Department.id)).all()
        db.session.remove()
    assert transaction_modes == [("SELECT", False), ("SELECT", True)]
