"""GET /patients/{id}/export: the whole record in one document, for the patient and admins, audited."""
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import Assignment, MedicalRecord, MedicalRecordVersion, utcnow
from tests.api.clinic_api import caller, steady_query_count
from tests.api.images import png_bytes
from tests.api.records_helpers import audit_rows, upload
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

KEYS = {"patient", "assignments", "appointments", "records", "images"}


@pytest.fixture
def fred(app, factories):
    return caller(app, factories.user(full_name="Fred Patient"))


def _history(app, patient_id: int, doctor_id: int, records: int = 1, days_ahead: int = 1) -> None:
    """An ended and an active assignment, a cancelled and a booked appointment, `records` records with
    two earlier versions each, and one archived record."""
    with app.app_context():
        db.session.add_all([Assignment(patient_id=patient_id, doctor_id=doctor_id, ended_at=utcnow()),
                            Assignment(patient_id=patient_id, doctor_id=doctor_id)])
        slots = clinic.future_slots(doctor_id, 2, clinic.soon(24 * days_ahead))
        clinic.appointment(patient_id, slots[0], status="cancelled")
        clinic.appointment(patient_id, slots[1], reason="Check-up")
        for n in range(records):
            record = MedicalRecord(patient_id=patient_id, doctor_id=doctor_id, diagnostics=f"Flu {n} (v3)", version=3,
                                   recorded_at=datetime(2027, 1, 1 + n, tzinfo=UTC))
            db.session.add(record)
            db.session.flush()
            db.session.add_all([MedicalRecordVersion(record_id=record.id, version=v, diagnostics=f"Flu {n} (v{v})",
                                                     recorded_at=record.recorded_at,
                                                     edited_at=utcnow() - timedelta(days=3 - v)) for v in (1, 2)])
        db.session.add(MedicalRecord(patient_id=patient_id, diagnostics="archived", archived_at=utcnow()))
        db.session.commit()
        db.session.remove()


def test_the_patient_downloads_their_whole_record(api, app, fred, doctor, uploads):
    _history(app, fred.patient_id, doctor.doctor_id)
    image = envelope(upload(api, fred.token, fred.patient_id, png_bytes()))["data"][0]
    body = envelope(api.get(f"/patients/{fred.patient_id}/export", token=fred.token))
    document = body["data"]
    assert set(document) == KEYS
    assert (document["patient"]["id"], document["patient"]["full_name"]) == (fred.patient_id, "Fred Patient")
    assert [a["ended_at"] is None for a in document["assignments"]] == [False, True]
    assert [a["status"] for a in document["appointments"]] == ["cancelled", "scheduled"]
    assert document["appointments"][1]["doctor"]["id"] == doctor.doctor_id
    [record] = document["records"]
    assert record["diagnostics"] == "Flu 0 (v3)" and record["version"] == 3
    assert [v["diagnostics"] for v in record["versions"]] == ["Flu 0 (v1)", "Flu 0 (v2)"]
    [listed] = document["images"]
    assert (listed["id"], listed["url"], listed["thumbnail_url"]) == (image["id"], image["url"], image["thumbnail_url"])
    assert api.get(listed["url"].split("/api/v1", 1)[1], token=fred.token).status_code == 200


def test_the_export_is_audited(api, app, fred):
    envelope(api.get(f"/patients/{fred.patient_id}/export", token=fred.token))
    assert audit_rows(app, object_type="patient_export") == [
        (fred.user_id, "read", "patient_export", fred.patient_id, fred.patient_id, False)]


def test_an_admin_exports_anyone_and_others_cannot(api, app, factories, fred, doctor, admin):
    _history(app, fred.patient_id, doctor.doctor_id)  # the doctor is assigned: still not theirs to export
    assert set(envelope(api.get(f"/patients/{fred.patient_id}/export", token=admin.token))["data"]) == KEYS
    error_of(api.get(f"/patients/{fred.patient_id}/export", token=doctor.token), 403, "forbidden")
    other = caller(app, factories.user())
    error_of(api.get(f"/patients/{fred.patient_id}/export", token=other.token), 404, "not_found")
    error_of(api.get("/patients/999999/export", token=admin.token), 404, "not_found")
    error_of(api.get(f"/patients/{fred.patient_id}/export"), 401, "unauthenticated")
    assert audit_rows(app, object_type="patient_export", actor_id=other.user_id) == []


def test_the_export_costs_the_same_whatever_the_history(api, app, factories, fred, doctor):
    _history(app, fred.patient_id, doctor.doctor_id, records=1)
    small = steady_query_count(app, lambda: api.get(f"/patients/{fred.patient_id}/export", token=fred.token))
    _history(app, fred.patient_id, factories.user(role="doctor").doctor_id, records=8, days_ahead=2)
    assert steady_query_count(app, lambda: api.get(f"/patients/{fred.patient_id}/export", token=fred.token)) == small
