"""Lists written as JSON by PostgreSQL run from their SQL compiled once (services/compiled_once.py), and a
statement that cannot is run by the session as before."""
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import bindparam, event, select

from portal.extensions import db
from portal.models import AuditEvent, Doctor, MedicalRecord, Patient
from portal.services.compiled_once import CompiledOnce
from tests.api.clinic_api import iso
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope


@pytest.fixture
def sent():
    """(statement, whether SQLAlchemy compiled it) for each statement sent while the test runs."""
    seen: list[tuple[str, bool]] = []

    def note(_conn, _cursor, statement, _parameters, context, _executemany):
        seen.append((statement, context.compiled is not None))

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def test_every_json_list_runs_from_its_compiled_sql_with_the_same_answer(api, ctx, doctor, admin, alice, sent):
    heart = clinic.department("Heart")
    db.session.get(Doctor, doctor.doctor_id).department_id = heart.id
    clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(24)))
    free = clinic.slot(doctor.doctor_id, clinic.soon(30))
    bounds = quote(iso(free.starts_at)), quote(iso(free.starts_at + timedelta(hours=1)))
    speciality = db.session.get(Doctor, doctor.doctor_id).speciality
    for days in (1, 2, 3):
        db.session.add(MedicalRecord(patient_id=alice.patient_id, recorded_at=clinic.soon(-24 * days),
                                     diagnostics="Flu", doctor_id=doctor.doctor_id, department_id=heart.id))
    db.session.commit()
    surname = db.session.get(Patient, alice.patient_id).full_name.split()[-1]
    lists = [(f"/patients/{alice.patient_id}/records?per_page=2", alice), (f"/patients/{alice.patient_id}/records",
             doctor), (f"/departments/{heart.id}/records", doctor), (f"/patients?q={surname}", doctor),
             ("/appointments", alice), (f"/admin/audit?patient_id={alice.patient_id}&per_page=5", admin),
             (f"/specialities/{quote(speciality)}/slots?start={bounds[0]}&end={bounds[1]}", alice),  # signed in:
             (f"/doctors/{doctor.doctor_id}/slots?from={bounds[0]}&to={bounds[1]}", alice)]  # past the answer cache
    for path, caller in lists:
        first = envelope(api.get(path, token=caller.token))
        sent.clear()
        again = envelope(api.get(path, token=caller.token))
        pages = [compiled for statement, compiled in sent if " AS item" in statement or "|| '}'" in statement]
        assert pages == [False], path  # one statement for the list, not through SQLAlchemy's compiler
        assert again["data"] == first["data"] and again.get("meta") == first.get("meta") and first["data"], path


def test_a_statement_with_an_expanding_list_is_run_by_the_session(api, ctx, alice, sent):
    envelope(api.get("/appointments?status=scheduled", token=alice.token))
    sent.clear()
    envelope(api.get("/appointments?status=scheduled&status=cancelled", token=alice.token))
    assert [compiled for statement, compiled in sent if " AS item" in statement] == [True]


def test_values_are_converted_and_checked_as_the_session_would(ctx, alice, sent):
    since = clinic.soon(-24 * 365)  # aware, in the clinic's zone
    events = CompiledOnce(select(AuditEvent.id).where(AuditEvent.at >= bindparam("since")).order_by(AuditEvent.id))
    db.session.add(AuditEvent(action="read", object_type="patient", object_id=alice.patient_id,
                              patient_id=alice.patient_id))
    db.session.commit()
    expected = db.session.scalars(select(AuditEvent.id).where(AuditEvent.at >= since).order_by(AuditEvent.id)).all()
    assert events.execute({"since": since}).scalars().all() == expected != []
    assert events.execute({"since": since + timedelta(days=3650)}).all() == []
    sent.clear()
    with pytest.raises(ValueError, match="naive datetime"):
        events.execute({"since": since.replace(tzinfo=None)})
    with pytest.raises(Exception, match="A value is required for bind parameter 'since'"):
        events.execute({})
    assert sent == []  # refused before anything was sent
