"""Idempotency-Key on POST /patients and POST /records: the same one mechanism as holds and bookings,
so a retried create neither makes a second patient nor files a record twice."""
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import MedicalRecord, Patient
from tests.api.records_api import new_patient
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


def _count(app, model) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return count


def test_a_retried_patient_creation_makes_one_patient(app, api, doctor):
    headers = {"Idempotency-Key": "new-patient-1"}
    body = {"full_name": "Retry Rivera", "phone": "+49 30 1234"}
    first = api.post("/patients", json=body, token=doctor.token, headers=headers)
    again = api.post("/patients", json=body, token=doctor.token, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, Patient) == 1
    error_of(api.post("/patients", json={**body, "phone": "+49 30 9999"}, token=doctor.token, headers=headers),
             422, "idempotency_mismatch")


def test_a_retried_record_is_filed_once(app, api, doctor):
    patient = new_patient(api, doctor.token)
    headers = {"Idempotency-Key": "record-7"}
    body = {"patient_id": patient["id"], "diagnostics": "Sprained ankle"}
    first = envelope(api.post("/records", json=body, token=doctor.token, headers=headers))
    again = envelope(api.post("/records", json=body, token=doctor.token, headers=headers))
    assert again == first and first["status"] == "created"
    assert _count(app, MedicalRecord) == 1
