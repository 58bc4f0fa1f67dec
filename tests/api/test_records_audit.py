"""Every read of patient data through the records endpoints leaves audit rows naming the reader, the
objects read and the patient, with the address and request id, in one insert per request."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from tests.api.clinic_api import steady_query_count
from tests.api.records_api import assign, audit_rows, new_patient, new_record
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


def test_every_read_endpoint_audits_what_it_showed(app, api, doctor):
    patient = new_patient(api, doctor.token)
    pid = patient["id"]
    assignment = assign(api, doctor.token, pid, doctor.doctor_id)
    record = new_record(api, doctor.token, pid)
    envelope(api.patch(f"/records/{record['id']}", json={"version": 1, "diagnostics": "v2"}, token=doctor.token))
    with app.app_context():
        appointment = clinic.appointment(pid, clinic.slot(doctor.doctor_id, clinic.soon(24))).id
        db.session.remove()
    expected = {
        f"/patients/{pid}": [("patient", pid)],
        "/patients": [("patient", pid)],
        f"/patients/{pid}/doctors": [("assignment", assignment["id"])],
        f"/patients/{pid}/appointments": [("appointment", appointment)],
        f"/patients/{pid}/records": [("medical_record", record["id"])],
        "/assignments": [("assignment", assignment["id"])],
        "/records": [("medical_record", record["id"])],
        f"/records/{record['id']}": [("medical_record", record["id"])],
    }
    for path, objects in expected.items():
        before = len(audit_rows(app))
        inserts = _audit_inserts(app, lambda path=path: api.get(path, token=doctor.token, environ_base={
            "REMOTE_ADDR": "198.51.100.7"}))
        rows = audit_rows(app)[before:]
        assert rows == [(doctor.user_id, "read", kind, object_id, pid) for kind, object_id in objects], path
        assert inserts == 1, path
    history = audit_rows(app)
    envelope(api.get(f"/records/{record['id']}/history", token=doctor.token))
    new = audit_rows(app)[len(history):]
    assert [(row[2], row[4]) for row in new] == [("medical_record", pid), ("medical_record_version", pid)]
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.ip and event.request_id
        db.session.remove()


def _audit_inserts(app, call) -> int:
    with app.app_context(), clinic.counted_queries() as statements:
        response = call()
    assert response.status_code == 200, response.get_json()
    return sum("INSERT INTO AUDIT_EVENTS" in s.upper() for s in statements)  # alone, or a page's own CTE


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_query_counts_of_a_patients_lists_do_not_grow(app, api, doctor):
    patient = new_patient(api, doctor.token)
    paths = [f"/patients/{patient['id']}/records?per_page=100", f"/patients/{patient['id']}/doctors"]

    def grow(count):
        for _ in range(count):
            new_record(api, doctor.token, patient["id"])
            with app.app_context():
                other = clinic.doctor().id
                db.session.remove()
            assign(api, doctor.token, patient["id"], other)

    grow(2)
    small = [steady_query_count(app, lambda path=path: api.get(path, token=doctor.token)) for path in paths]
    grow(15)
    assert [steady_query_count(app, lambda path=path: api.get(path, token=doctor.token)) for path in paths] == small
